/**
 * A simulated OSDP reader (PD): identity, capabilities, card and keypad reports, LEDs,
 * buzzer, outputs (output 0 drives the lock relay of a SimDoor), inputs (0 = door contact,
 * normally closed: active while shut; 1 = exit button), tamper and power, and faults.
 *
 * This file is the reader's application layer: clear-text commands in, clear-text replies
 * out. Framing, SQN and the secure channel are in sim-pd.ts; the serial line in sim-line.ts.
 */
import { EventEmitter } from 'node:events';
import type { TimerHandle, Timers } from '../../gateway/core/clock.js';
import { rawFromCardHex } from '../../drivers/osdp/card.js';
import { Cmd, NakCode, Reply, type LedControl, type PdIdentity } from '../../drivers/osdp/types.js';
import {
  decodeBuzzer,
  decodeLed,
  decodeOut,
  outRecordToControl,
  ledRecordToControl,
  buzzerRecordToControl,
} from '../../drivers/osdp/messages-commands.js';
import { replyCap, replyId, replyInputs, replyKeypad, replyLocalStatus, replyNak, replyOutputs, replyRaw } from './sim-codec.js';
import { SimDoor } from './door.js';

export interface SimReaderOptions {
  address: number;
  identity?: Partial<PdIdentity>;
  /** Number of inputs (default 2: contact, exit button) and outputs (default 2). */
  inputs?: number;
  outputs?: number;
  /** Without a buzzer the reader NAKs osdp_BUZ (unknown command) and says so in PDCAP. */
  buzzer?: boolean;
  /** LED compliance announced in PDCAP (default 4, tri-colour); 0 = no LED, osdp_LED is NAKed. */
  led?: 0 | 1 | 2 | 3 | 4;
  /** Text display compliance announced in PDCAP (default 0, none). */
  text?: 0 | 1 | 2 | 3;
  /** The osdp_PDCAP payload exactly as given (e.g. one captured from a real reader), instead of one built from the above. */
  pdcap?: Uint8Array;
  /** Secure channel: `key` = the reader's SCBK (none = install mode, SCBK-D accepted). */
  key?: Uint8Array;
  /** NAK (0x06) every command that arrives in clear (other than the set-up ones). Default: when it has a key. */
  requireSecure?: boolean;
  /** Secure channel supported at all (default true). */
  secureCapable?: boolean;
  /** Reply turnaround in ms (default 1). */
  replyDelayMs?: number;
  /** Card format for swipe(): number of bits (default 26). */
  cardBits?: number;
  door?: { grantWindowMs?: number; walkThroughMs?: number };
}

export interface ClearReply {
  code: number;
  data: Uint8Array;
}

export interface SimReaderEvents {
  /** A command reached the application layer (decrypted), with the time it arrived. */
  command: [{ code: number; data: Uint8Array; at: number }];
  /** A report was queued (swipe, keys, input change). */
  queued: [{ code: number; at: number }];
}

export class SimReader extends EventEmitter<SimReaderEvents> {
  readonly address: number;
  readonly identity: PdIdentity;
  readonly door: SimDoor;
  readonly outputs: boolean[];
  readonly inputs: boolean[];
  readonly leds: LedControl[] = [];
  buzzer: { onMs: number; offMs: number; count: number } | undefined;
  readonly hasBuzzer: boolean;
  readonly ledCompliance: 0 | 1 | 2 | 3 | 4;
  readonly textCompliance: 0 | 1 | 2 | 3;
  private readonly pdcap: Uint8Array | undefined;
  /** Tamper switch open. */
  tampered = false;
  /** true = power failure reported. */
  powerFailure = false;
  /** The reader's SCBK; undefined = install mode (answers to SCBK-D). */
  key: Uint8Array | undefined;
  requireSecure: boolean;
  readonly secureCapable: boolean;
  replyDelayMs: number;
  readonly cardBits: number;

  // Faults.
  /** Silent, as if its RS-485 pair were cut. */
  unplugged = false;
  /** Every reply goes out with a broken CRC while true. */
  corruptCrc = false;
  /** The next `busyNext` commands are answered with osdp_BUSY. */
  busyNext = 0;
  /** Extra reply delay (ms) on top of replyDelayMs. */
  slowMs = 0;
  /**
   * Firmware that answers the secure-channel handshake correctly, then gets the security
   * block of its replies wrong (a MAC that does not verify, in a frame with a good CRC):
   * undefined = off; n = after n good secured replies in each session (0 = from the first).
   */
  wrongSecurityBlockAfter: number | undefined;

  /** Reports waiting for a poll, oldest first. */
  private readonly reports: ClearReply[] = [];
  private readonly outputTimers = new Map<number, TimerHandle>();

  constructor(
    opts: SimReaderOptions,
    private readonly timers: Timers,
  ) {
    super();
    this.address = opts.address;
    this.identity = { vendor: '0A1B2C', model: 1, version: 1, serial: 100_000 + opts.address, firmware: '1.0.0', ...opts.identity };
    this.outputs = new Array<boolean>(opts.outputs ?? 2).fill(false);
    this.inputs = new Array<boolean>(opts.inputs ?? 2).fill(false);
    this.inputs[0] = true; // door shut: normally-closed contact reads active
    this.hasBuzzer = opts.buzzer ?? true;
    this.ledCompliance = opts.led ?? 4;
    this.textCompliance = opts.text ?? 0;
    this.pdcap = opts.pdcap ? Uint8Array.from(opts.pdcap) : undefined;
    this.key = opts.key ? Uint8Array.from(opts.key) : undefined;
    this.secureCapable = opts.secureCapable ?? true;
    this.requireSecure = opts.requireSecure ?? this.key !== undefined;
    this.replyDelayMs = opts.replyDelayMs ?? 1;
    this.cardBits = opts.cardBits ?? 26;
    this.door = new SimDoor({ timers, ...opts.door, onContact: (closed) => this.setInput(0, closed) });
  }

  // --- scenarios --------------------------------------------------------------------------

  /** A card is presented: queued as osdp_RAW for the next poll. */
  swipe(cardHex: string, bits = this.cardBits): void {
    this.queue({ code: Reply.RAW, data: replyRaw(bits, rawFromCardHex(cardHex, bits)) });
  }

  /**
   * A resident swipes and walks through: the door opens only if the lock releases within
   * the grant window (~1 s), and swings shut a few seconds later. Resolves with whether they got in.
   */
  swipeAndWalk(cardHex: string): Promise<boolean> {
    this.swipe(cardHex);
    return this.door.walkThrough();
  }

  /** Someone holds the door open for `seconds` (behind a resident, or propping it), then lets it close. */
  tailgate(seconds: number): Promise<void> {
    return this.door.tailgate(seconds * 1000);
  }

  /** The door is pulled open with the lock engaged; it stays open until `door.shut()`. */
  force(): void {
    this.door.force();
  }

  /** Digits typed on the keypad ('0'-'9', '*', '#'), one osdp_KEYPAD report. */
  typePin(keys: string): void {
    this.queue({ code: Reply.KEYPAD, data: replyKeypad(keys) });
  }

  pressExit(ms = 300): void {
    this.setInput(1, true);
    this.timers.setTimeout(() => this.setInput(1, false), ms);
  }

  /** The tamper switch opens (true) or closes: reported as osdp_LSTATR on the next poll. */
  tamper(on: boolean): void {
    if (this.tampered === on) return;
    this.tampered = on;
    this.queueLocal();
  }
  /** Same as tamper(on). */
  setTamper(on: boolean): void {
    this.tamper(on);
  }

  setPowerFailure(on: boolean): void {
    if (this.powerFailure === on) return;
    this.powerFailure = on;
    this.queueLocal();
  }

  setInput(index: number, active: boolean): void {
    if (this.inputs[index] === active || index >= this.inputs.length) return;
    this.inputs[index] = active;
    this.queue({ code: Reply.ISTATR, data: replyInputs(this.inputs) });
  }

  unplug(): void {
    this.unplugged = true;
  }
  plug(): void {
    this.unplugged = false;
  }

  /** Reports not yet collected by a poll. */
  get pendingReports(): number {
    return this.reports.length;
  }

  stop(): void {
    for (const t of this.outputTimers.values()) t.cancel();
    this.outputTimers.clear();
    this.door.cancel();
  }

  private queueLocal(): void {
    this.queue({ code: Reply.LSTATR, data: replyLocalStatus(this.tampered, this.powerFailure) });
  }

  private queue(r: ClearReply): void {
    this.reports.push(r);
    this.emit('queued', { code: r.code, at: performance.now() });
  }

  // --- commands ---------------------------------------------------------------------------

  /** One clear-text command; the secure channel and set-up commands are handled before this. */
  handle(code: number, data: Uint8Array): ClearReply {
    this.emit('command', { code, data, at: performance.now() });
    try {
      switch (code) {
        case Cmd.POLL:
          return this.reports.shift() ?? { code: Reply.ACK, data: new Uint8Array(0) };
        case Cmd.ID:
          return { code: Reply.PDID, data: replyId(this.identity) };
        case Cmd.CAP:
          return { code: Reply.PDCAP, data: this.pdcap ?? this.capabilityReport() };
        case Cmd.ISTAT:
          return { code: Reply.ISTATR, data: replyInputs(this.inputs) };
        case Cmd.OSTAT:
          return { code: Reply.OSTATR, data: replyOutputs(this.outputs) };
        case Cmd.LSTAT:
          return { code: Reply.LSTATR, data: replyLocalStatus(this.tampered, this.powerFailure) };
        case Cmd.OUT:
          return this.out(data);
        case Cmd.LED:
          if (this.ledCompliance === 0) return nak(NakCode.UNKNOWN_COMMAND);
          for (const r of decodeLed(data)) {
            const c = ledRecordToControl(r);
            if (c) this.leds[c.led] = c;
          }
          return ack();
        case Cmd.BUZ:
          if (!this.hasBuzzer) return nak(NakCode.UNKNOWN_COMMAND);
          this.buzzer = buzzerRecordToControl(decodeBuzzer(data));
          return ack();
        default:
          return nak(NakCode.UNKNOWN_COMMAND);
      }
    } catch {
      return nak(NakCode.COMMAND_LENGTH);
    }
  }

  private capabilityReport(): Uint8Array {
    const c = { inputs: this.inputs.length, outputs: this.outputs.length, secure: this.secureCapable, buzzer: this.hasBuzzer };
    return replyCap({ ...c, led: this.ledCompliance, text: this.textCompliance });
  }

  private out(data: Uint8Array): ClearReply {
    const records = decodeOut(data);
    if (records.some((r) => r.output >= this.outputs.length)) return nak(NakCode.UNABLE_TO_PROCESS);
    for (const r of records) {
      const c = outRecordToControl(r);
      if (!c) continue;
      this.outputTimers.get(c.output)?.cancel();
      this.outputTimers.delete(c.output);
      if (c.action === 'pulse-on') {
        this.setOutput(c.output, true);
        this.outputTimers.set(
          c.output,
          this.timers.setTimeout(() => {
            this.outputTimers.delete(c.output);
            this.setOutput(c.output, false);
          }, c.ms),
        );
      } else this.setOutput(c.output, c.action === 'on');
    }
    return ack();
  }

  private setOutput(index: number, on: boolean): void {
    if (this.outputs[index] === on) return;
    this.outputs[index] = on;
    if (index === 0) this.door.setRelay(on);
    this.queue({ code: Reply.OSTATR, data: replyOutputs(this.outputs) });
  }
}

const ack = (): ClearReply => ({ code: Reply.ACK, data: new Uint8Array(0) });
const nak = (code: number): ClearReply => ({ code: Reply.NAK, data: replyNak(code) });
