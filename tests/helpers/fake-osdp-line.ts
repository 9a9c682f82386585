/**
 * An in-memory OSDP line for control panel unit tests, driven by a ManualClock: the
 * simulated readers' protocol layer (SimPd + SimReader, no serial port) answers after
 * `replyDelayMs` of manual time. Every frame written is logged decoded; a test can
 * intercept a frame (answer it itself, or drop it), unplug the line, and feed raw bytes.
 */
import { pino } from 'pino';
import type { OsdpBusConfig } from '../../config/access-schema.js';
import { OsdpControlPanel, type OsdpReaderOptions } from '../../drivers/osdp/control-panel.js';
import { OsdpDeframer } from '../../drivers/osdp/deframer.js';
import type { OsdpLine } from '../../drivers/osdp/line.js';
import type { OsdpFrame, ReaderEvent } from '../../drivers/osdp/types.js';
import { ManualClock } from '../../gateway/core/clock.js';
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

  constructor(
    private readonly clock: ManualClock,
    readers: SimReaderOptions[],
  ) {
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

export interface FakeRig {
  clock: ManualClock;
  line: FakeOsdpLine;
  cp: OsdpControlPanel;
  events: ReaderEvent[];
  /** Advances manual time 1 ms at a time, letting promises and microtasks run in between. */
  run(ms: number): Promise<void>;
  of<K extends ReaderEvent['kind']>(kind: K, address?: number): Extract<ReaderEvent, { kind: K }>[];
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** A started control panel on a FakeOsdpLine (reply timeout 200 ms, 4 misses, reader backoff 0.5-4 s, line backoff 0.1-0.4 s). */
export function startFakeRig(readers: SimReaderOptions[], cpReaders?: OsdpReaderOptions[], bus: Partial<OsdpBusConfig> = {}): FakeRig {
  const clock = new ManualClock();
  const line = new FakeOsdpLine(clock, readers);
  let n = 0;
  const cp = new OsdpControlPanel({
    bus: { id: 'unit', path: '/dev/fake', baudRate: 115_200, replyTimeoutMs: 200, offlineAfterMisses: 4, idleMs: 0, ...bus },
    readers: cpReaders ?? readers.map((r) => ({ address: r.address, secure: 'off' as const })),
    clock,
    timers: clock,
    log: pino({ level: 'silent' }),
    openPort: () => line,
    readerBackoff: { minMs: 500, maxMs: 4000 },
    lineBackoff: { minMs: 100, maxMs: 400 },
    // Deterministic "random" bytes: challenges and installed keys repeatable run to run.
    random: (len) => Uint8Array.from({ length: len }, () => (n = (n * 73 + 41) & 0xff)),
  });
  const events: ReaderEvent[] = [];
  cp.on('event', (e) => events.push(e));
  cp.start();
  return {
    clock,
    line,
    cp,
    events,
    async run(ms) {
      await flush();
      for (let t = 0; t < ms; t++) {
        clock.advance(1);
        await flush();
      }
    },
    of: (kind, address) => events.filter((e) => e.kind === kind && (address === undefined || e.address === address)) as never,
  };
}
