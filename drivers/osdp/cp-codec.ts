/**
 * The control panel's view of the codec: every byte the CP writes or reads goes through
 * here, over the pure codec in frame.ts / deframer.ts / messages.ts / secure-channel.ts.
 * The scheduler (control-panel.ts) only deals in command codes and payloads.
 */
import { encodeFrame } from './frame.js';
import { OsdpDeframer } from './deframer.js';
import * as m from './messages.js';
import { SCBK_D, SecureSession } from './secure-channel.js';
import { Cmd, Reply, Scs } from './types.js';
import type { OsdpFrame, PdCapability, PdIdentity, BuzzerControl, LedControl, OutputControl } from './types.js';

/** The CP side of one secure session with one reader. */
export interface CpSecure {
  /** True once RMAC-I was accepted: commands are wrapped from then on. */
  readonly established: boolean;
  /** Payload of osdp_CHLNG (our random challenge). */
  challenge(): Uint8Array;
  /** Checks osdp_CCRYPT (the PD proved it holds the key) and returns the osdp_SCRYPT payload; throws on a wrong key. */
  answerCcrypt(data: Uint8Array): Uint8Array;
  /** Checks osdp_RMAC_I; throws if it does not match. */
  acceptRmacI(data: Uint8Array): void;
  /** CHLNG / SCRYPT with their security blocks (SCS_11 / SCS_13). */
  handshakeFrame(address: number, sqn: 0 | 1 | 2 | 3, code: number, data: Uint8Array): Uint8Array;
  /** A command under the session (SCS_15 / SCS_17: MAC, data encrypted). */
  wrapCommand(address: number, sqn: 0 | 1 | 2 | 3, code: number, data: Uint8Array): Uint8Array;
  /** A reply under the session; throws SecureReplyError on a bad MAC or block. */
  unwrapReply(frame: OsdpFrame & { raw?: Uint8Array }): { code: number; data: Uint8Array };
}

export class SecureReplyError extends Error {
  override name = 'SecureReplyError';
}

/** The deframer with its errors counted, as the scheduler needs it. */
export class CpDeframer {
  private readonly inner = new OsdpDeframer();
  get pending(): number {
    return this.inner.buffered;
  }
  reset(): void {
    this.inner.reset();
  }
  push(chunk: Uint8Array): { frames: (OsdpFrame & { raw: Uint8Array })[]; errors: number } {
    const frames: (OsdpFrame & { raw: Uint8Array })[] = [];
    let errors = 0;
    for (const o of this.inner.push(chunk)) {
      if (o.kind === 'frame') frames.push({ ...o.frame, raw: o.raw });
      else errors++;
    }
    return { frames, errors };
  }
}

/** One command as bytes: clear, or wrapped by an established secure session. */
export function encodeCommand(
  address: number,
  sqn: 0 | 1 | 2 | 3,
  code: number,
  data: Uint8Array,
  session: CpSecure | undefined,
): Uint8Array {
  if (session?.established) return session.wrapCommand(address, sqn, code, data);
  if (session && (code === Cmd.CHLNG || code === Cmd.SCRYPT)) return session.handshakeFrame(address, sqn, code, data);
  return encodeFrame({ address, reply: false, sqn, crc: true, code, data });
}

/** A reply's code and clear payload; unwrapped and MAC-checked when a session is up. */
export function openReply(frame: OsdpFrame & { raw?: Uint8Array }, session: CpSecure | undefined): { code: number; data: Uint8Array } {
  // BUSY and NAK may come in clear inside a session: a PD that could not process (or verify)
  // the command has nothing to MAC them with. Neither carries data we act on beyond a refusal.
  if (session?.established && !(frame.scb === undefined && (frame.code === Reply.BUSY || frame.code === Reply.NAK)))
    return session.unwrapReply(frame);
  // Before the session is up (or without one) a reply must not claim an SCB we did not ask for.
  if (frame.scb && frame.scb.type >= 0x15)
    throw new SecureReplyError(`secure reply (SCS_${frame.scb.type.toString(16)}) without a session`);
  return { code: frame.code, data: frame.data };
}

// --- payloads, over messages.ts ------------------------------------------------------------

export const encodeOutput = (controls: OutputControl[]): Uint8Array => m.encodeOut(controls);
export const encodeLed = (led: LedControl): Uint8Array => m.encodeLed([led]);
export const encodeBuzzer = (b: BuzzerControl): Uint8Array => m.encodeBuzzer(b);
export const encodeKeyset = (key: Uint8Array): Uint8Array => m.encodeKeyset(key);
export const decodeIdentity = (data: Uint8Array): PdIdentity => m.decodePdid(data);
export const decodeInputs = (data: Uint8Array): boolean[] => m.decodePointStatus('osdp_ISTATR', data);
export const decodeOutputs = (data: Uint8Array): boolean[] => m.decodePointStatus('osdp_OSTATR', data);
export const decodePdcap = (data: Uint8Array): PdCapability[] => m.decodePdcap(data);
export const decodeLocalStatus = (data: Uint8Array): { tamper: boolean; power: boolean } => m.decodeLocalStatus(data);
export const decodeRaw = (data: Uint8Array): { format: number; bits: number; data: Uint8Array } => m.decodeRaw(data);
export const decodeKeypad = (data: Uint8Array): string => m.decodeKeypad(data).keys;

// --- the secure channel, over secure-channel.ts ------------------------------------------

export { SCBK_D };

/** The CP side of one session with one reader, over the shared SecureSession. */
class CpSecureSession implements CpSecure {
  private readonly s: SecureSession;
  constructor(key: Uint8Array, random: (n: number) => Uint8Array) {
    this.s = new SecureSession({ role: 'cp', scbk: key, random });
  }
  get established(): boolean {
    return this.s.established;
  }
  challenge(): Uint8Array {
    return m.encodeChallenge(this.s.start());
  }
  answerCcrypt(data: Uint8Array): Uint8Array {
    return m.encodeServerCryptogram(this.s.handleCcrypt(data));
  }
  acceptRmacI(data: Uint8Array): void {
    this.s.handleRmacI(data);
  }
  handshakeFrame(address: number, sqn: 0 | 1 | 2 | 3, code: number, data: Uint8Array): Uint8Array {
    const scb = this.s.handshakeScb(code === Cmd.CHLNG ? Scs.SCS_11 : Scs.SCS_13);
    return encodeFrame({ address, reply: false, sqn, crc: true, scb, code, data });
  }
  wrapCommand(address: number, sqn: 0 | 1 | 2 | 3, code: number, data: Uint8Array): Uint8Array {
    return this.s.wrapCommand({ address, sqn, crc: true }, { code, data });
  }
  unwrapReply(frame: OsdpFrame & { raw?: Uint8Array }): { code: number; data: Uint8Array } {
    try {
      return this.s.unwrapReply(frame, frame.raw);
    } catch (err) {
      throw new SecureReplyError(err instanceof Error ? err.message : String(err));
    }
  }
}

/** A new session keyed with the reader's SCBK, or SCBK-D (`installKey`) for install mode. */
export function createCpSession(key: Uint8Array, installKey: boolean, random: (n: number) => Uint8Array): CpSecure {
  return new CpSecureSession(installKey ? SCBK_D : key, random);
}
