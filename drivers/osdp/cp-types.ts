/**
 * Public types of the OSDP control panel (control-panel.ts) and the per-reader link state
 * it keeps, apart so the scheduler file stays readable.
 */
import type { Clock, Timers } from '../../gateway/core/clock.js';
import type { GatehouseError } from '../../gateway/core/errors.js';
import type { Logger } from '../../gateway/core/log.js';
import type { PdIdentity, ReaderEvent } from './types.js';
import type { OpenOsdpLine } from './line.js';
import type { CpSecure } from './cp-codec.js';

export type SecureMode = 'required' | 'install' | 'off';

/** One RS-485 line as the control panel drives it (the compound file's osdpBuses entries satisfy it). */
export interface OsdpBusConfig {
  id: string;
  path: string;
  baudRate: number;
  /** A PD must start its reply within this time (OSDP: 200 ms). */
  replyTimeoutMs: number;
  /** Consecutive unanswered polls after which a reader is reported offline. */
  offlineAfterMisses: number;
  /** Pause after a full round of polls; 0 = poll continuously. */
  idleMs: number;
}

export interface OsdpReaderOptions {
  address: number;
  secure: SecureMode;
  /** SCBK for 'required' readers (16 bytes). */
  key?: Uint8Array;
}

export interface OsdpControlPanelOptions {
  bus: OsdpBusConfig;
  readers: OsdpReaderOptions[];
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** The line for a path; tests pass an in-memory one. Default: serialport. */
  openPort?: OpenOsdpLine;
  /** Retry delays of a reader that does not answer (doubling from min to max). */
  readerBackoff?: { minMs: number; maxMs: number };
  /** Reopen delays of a line that went away (doubling from min to max). */
  lineBackoff?: { minMs: number; maxMs: number };
  /** A gap longer than this inside a frame discards the partial frame (OSDP: 20 ms). */
  interCharTimeoutMs?: number;
  /** Random bytes for challenges and new keys; tests make them deterministic. */
  random?: (n: number) => Uint8Array;
}

export interface OsdpControlPanelEvents {
  event: [ReaderEvent];
  lineUp: [];
  lineDown: [reason: string];
}

export interface OsdpLineStats {
  state: LineState;
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  /** Replies addressed to another reader than the one we asked. */
  droppedWrongAddress: number;
  /** Replies with another SQN than the command's. */
  droppedWrongSqn: number;
  /** Frames that arrived while nothing was asked, or were not replies. */
  droppedUnexpected: number;
  /** Byte runs the deframer rejected (bad CRC, length, header). */
  badFrames: number;
  /** Partial frames dropped after an inter-character gap. */
  interCharResets: number;
  /** Replies whose secure-channel MAC or decryption failed. */
  secureErrors: number;
  reopens: number;
  readers: { address: number; phase: Phase; polls: number; replies: number; misses: number }[];
}

export type LineState = 'idle' | 'opening' | 'open' | 'down' | 'stopped';

/**
 * Where a reader is in its life on the line:
 * down -> (ID) -> cap -> [chlng -> scrypt -> [keyset -> chlng -> scrypt]] -> ready.
 * `down` readers are probed (ID with SQN 0) on their backoff; `failed` is down after a
 * secure handshake failed (probed with the longest backoff, never used in clear).
 */
export type Phase = 'down' | 'cap' | 'chlng' | 'scrypt' | 'keyset' | 'ready' | 'failed';

export type JobKind = 'poll' | 'setup' | 'user';

export interface Job {
  link: PdLink;
  kind: JobKind;
  code: number;
  data: Uint8Array;
  /** The bytes as first sent: a retransmission repeats them exactly (same SQN, same MAC). */
  bytes?: Uint8Array;
  sqn?: 0 | 1 | 2 | 3;
  sends: number;
  resolve?: () => void;
  reject?: (err: GatehouseError) => void;
  /** KEYSET from the access logic: the key the reader uses once ACKed. */
  newKey?: Uint8Array;
}

export interface PdLink {
  address: number;
  mode: SecureMode;
  key: Uint8Array | undefined;
  phase: Phase;
  /** The SQN of the next new command. */
  sqn: 0 | 1 | 2 | 3;
  online: boolean;
  secure: boolean;
  session: CpSecure | undefined;
  /** Install mode: the key our KEYSET carries; the next handshake uses it. */
  newKey: Uint8Array | undefined;
  /** The SCRYPT payload computed from the reader's CCRYPT (kept for a retransmission). */
  scrypt: Uint8Array | undefined;
  identity: PdIdentity | undefined;
  lastSeen: number | undefined;
  misses: number;
  naks: number;
  timeouts: number;
  polls: number;
  replies: number;
  /** A command that timed out and must be repeated (same SQN) before anything else. */
  retransmit: Job | undefined;
  /** Status queries still to send after coming online. */
  queries: number[];
  /** Monotonic ms before which a down reader is not probed. */
  nextTryAt: number;
  backoffMs: number;
  /** Last reported states, to report changes only. */
  inputs: boolean[] | undefined;
  outputs: boolean[] | undefined;
  local: { tamper: boolean; power: boolean } | undefined;
  /** Last secure-failed reason reported, so a retried handshake does not repeat the event. */
  failedReason: string | undefined;
  /** Set up again after a secure failure but not announced online until a reply proves it usable. */
  probation: boolean;
  /** Monotonic ms when the reader was last announced online (a secure failure is remembered until it has held a while). */
  onlineAt: number | undefined;
}
