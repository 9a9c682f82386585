/**
 * An in-memory OSDP line for control panel unit tests, driven by a ManualClock: the
 * simulated readers' protocol layer (SimPd + SimReader, no serial port) answers after
 * `replyDelayMs` of manual time. Every frame written is logged decoded; a test can
 * intercept a frame (answer it itself, or drop it), unplug the line, and feed raw bytes.
 */
import { OsdpDeframer } from '../../drivers/osdp/deframer.js';
import type { OsdpLine } from '../../drivers/osdp/line.js';
import type { OsdpFrame } from '../../drivers/osdp/types.js';
import type { ManualClock } from '../../gateway/clock.js';
import { SimPd } from '../../sim/osdp/sim-pd.js';
import { SimReader, type SimReaderOptions } from '../../sim/osdp/sim-reader.js';

export interface WrittenFrame {
  at: number;
  bytes: Uint8Array;
  frame: OsdpFrame;
}

export type Intercept = (frame: OsdpFrame & { raw: Uint8Array }) => Uint8Array | 'drop' | undefined;

export class FakeOsdpLine implements OsdpLine {
  readonly written: WrittenFrame[] = [];
  readonly pds = new Map<number, SimPd>();
  isOpen = false;
  opens = 0;
  refuseOpen = false;
  replyDelayMs = 2;
  /** Writes made while an earlier command's reply was still on its way: must stay 0. */
  overlaps = 0;
  intercept: Intercept | undefined;
  private pendingReplies = 0;
  private data: ((chunk: Uint8Array) => void) | undefined;
  private closeListener: ((reason: string) => void) | undefined;
  private readonly deframer = new OsdpDeframer();

  constructor(private readonly clock: ManualClock, readers: SimReaderOptions[]) {
    for (const r of readers) this.pds.set(r.address, new SimPd(new SimReader(r, clock)));
  }

  reader(address: number): SimReader {
    return this.pds.get(address)!.reader;
  }
  framesTo(address: number): WrittenFrame[] {
    return this.written.filter((w) => w.frame.address === address);
  }

  describe(): string {
    return 'fake-osdp';
  }
  onData(listener: (chunk: Uint8Array) => void): void {
    this.data = listener;
  }
  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
  }
  async open(): Promise<void> {
    if (this.refuseOpen) throw new Error('ENOENT: no such file or directory');
    this.opens++;
    this.isOpen = true;
  }
  async close(): Promise<void> {
    this.isOpen = false;
  }
  /** The adapter is pulled out: the line closes on its own and refuses to reopen until plugIn(). */
  unplug(): void {
    this.isOpen = false;
    this.refuseOpen = true;
    this.closeListener?.('disconnected');
  }
  plugIn(): void {
    this.refuseOpen = false;
  }
  /** Raw bytes arriving from the line now. */
  feed(bytes: Uint8Array): void {
    this.data?.(bytes);
  }

  write(bytes: Uint8Array): void {
    if (!this.isOpen) return;
    if (this.pendingReplies > 0) this.overlaps++;
    for (const out of this.deframer.push(bytes)) {
      if (out.kind !== 'frame') continue;
      const frame = { ...out.frame, raw: out.raw };
      this.written.push({ at: this.clock.monotonic(), bytes: Uint8Array.from(bytes), frame });
      const custom = this.intercept?.(frame);
      if (custom === 'drop') continue;
      const reply = custom ?? this.pds.get(frame.address)?.receive(frame);
      if (!reply) continue;
      this.pendingReplies++;
      this.clock.setTimeout(() => {
        this.pendingReplies--;
        if (this.isOpen) this.data?.(reply);
      }, this.replyDelayMs);
    }
  }
}
