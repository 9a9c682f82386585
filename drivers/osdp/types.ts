/**
 * OSDP v2.2 (IEC 60839-11-5) types shared by the pure codec, the secure channel, the
 * control panel (the gateway's side of an RS-485 line) and the simulated readers.
 *
 * Terms from the specification: CP = control panel (the gateway), PD = peripheral device
 * (a reader); SQN = sequence number (0-3) in the control byte; SCB = security control block;
 * SCBK = secure channel base key (per reader), SCBK-D = the default install-mode key.
 */

/** Command codes, CP -> PD (spec table 5). */
export const Cmd = {
  POLL: 0x60,
  ID: 0x61,
  CAP: 0x62,
  LSTAT: 0x64,
  ISTAT: 0x65,
  OSTAT: 0x66,
  RSTAT: 0x67,
  OUT: 0x68,
  LED: 0x69,
  BUZ: 0x6a,
  TEXT: 0x6b,
  COMSET: 0x6e,
  KEYSET: 0x75,
  CHLNG: 0x76,
  SCRYPT: 0x77,
  ACURXSIZE: 0x7b,
  MFG: 0x80,
} as const;

/** Reply codes, PD -> CP (spec table 6). */
export const Reply = {
  ACK: 0x40,
  NAK: 0x41,
  PDID: 0x45,
  PDCAP: 0x46,
  LSTATR: 0x48,
  ISTATR: 0x49,
  OSTATR: 0x4a,
  RSTATR: 0x4b,
  RAW: 0x50,
  FMT: 0x51,
  KEYPAD: 0x53,
  COM: 0x54,
  CCRYPT: 0x76,
  RMAC_I: 0x78,
  BUSY: 0x79,
  MFGREP: 0x90,
} as const;

/** NAK error codes (spec 7.3). */
export const NakCode = {
  NONE: 0x00,
  CHECK_CHARACTER: 0x01,
  COMMAND_LENGTH: 0x02,
  UNKNOWN_COMMAND: 0x03,
  SEQUENCE: 0x04,
  SECURITY_BLOCK_UNSUPPORTED: 0x05,
  ENCRYPTION_REQUIRED: 0x06,
  BIO_TYPE: 0x07,
  BIO_FORMAT: 0x08,
  UNABLE_TO_PROCESS: 0x09,
} as const;

/** Security block types (spec annex D). */
export const Scs = {
  SCS_11: 0x11,
  SCS_12: 0x12,
  SCS_13: 0x13,
  SCS_14: 0x14,
  SCS_15: 0x15,
  SCS_16: 0x16,
  SCS_17: 0x17,
  SCS_18: 0x18,
} as const;

export const SOM = 0x53;
export const BROADCAST_ADDRESS = 0x7f;
/** Bit 7 of the address byte marks a reply. */
export const REPLY_BIT = 0x80;

/** One OSDP packet, decoded. `data` is plaintext only when the frame was not encrypted. */
export interface OsdpFrame {
  /** 0-126, or 127 broadcast; without the reply bit. */
  address: number;
  reply: boolean;
  sqn: 0 | 1 | 2 | 3;
  /** true: 16-bit CRC; false: 8-bit checksum. */
  crc: boolean;
  /** The security control block, when present: type (Scs) and its data bytes. */
  scb?: { type: number; data: Uint8Array };
  /** Command or reply code. */
  code: number;
  data: Uint8Array;
  /** The 4 MAC bytes of SCS_15..18 frames. */
  mac?: Uint8Array;
}

/** Why a byte stream did not yield a frame; the deframer resynchronises on the next SOM. */
export type OsdpFrameError = 'check' | 'length' | 'header' | 'scb';

// ---------------------------------------------------------------------------------------
// The driver seen from the access logic: what a reader reports and what it can be told.
// ---------------------------------------------------------------------------------------

export interface PdIdentity {
  vendor: string; // 3-byte IEEE OUI as hex
  model: number;
  version: number;
  serial: number;
  firmware: string; // "major.minor.build"
}

/** One osdp_PDCAP record (spec 7.4): function code, compliance level, number of objects. */
export interface PdCapability {
  function: number;
  compliance: number;
  count: number;
}

export type LedColor = LedControl['color'];

export type ReaderEvent =
  | { kind: 'online'; address: number; identity?: PdIdentity; secure: boolean }
  /** osdp_PDCAP as read during set-up, before `online`; a malformed report is logged and not reported. */
  | { kind: 'capabilities'; address: number; capabilities: PdCapability[] }
  | { kind: 'offline'; address: number; reason: string }
  /** osdp_RAW: `bits` significant bits of `data`, MSB first (e.g. 26-bit Wiegand). */
  | { kind: 'card'; address: number; bits: number; data: Uint8Array; format: number }
  /** osdp_KEYPAD keys as text: '0'-'9', '*' (0x7F) and '#' (0x0D). */
  | { kind: 'keypad'; address: number; keys: string }
  /** ISTATR, reported on change (and once after coming online). */
  | { kind: 'inputs'; address: number; inputs: boolean[] }
  | { kind: 'outputs'; address: number; outputs: boolean[] }
  /** LSTATR, reported on change (and once after coming online). */
  | { kind: 'local-status'; address: number; tamper: boolean; power: boolean }
  /** A NAK to one of our commands: the command failed on this reader. */
  | { kind: 'nak'; address: number; command: number; code: number }
  /** The secure channel could not be opened (wrong key, reader reset to install mode, ...). */
  | { kind: 'secure-failed'; address: number; reason: string }
  /** KEYSET accepted: the reader now uses `key` (install mode finished). */
  | { kind: 'key-set'; address: number; key: Uint8Array };

/** osdp_OUT control codes (spec 6.8). */
export type OutputControl =
  | { output: number; action: 'off' | 'on' } // permanent state, cancelling any timer
  | { output: number; action: 'pulse-on'; ms: number }; // on for ms (resolution 100 ms), then off

/** osdp_LED (one LED, temporary or permanent); colours per spec 6.10. */
export interface LedControl {
  led: number;
  color: 'off' | 'red' | 'green' | 'amber' | 'blue';
  /** Temporary flash for `ms`, then back to the permanent state; omit for permanent. */
  ms?: number;
  /** Blink on/off times in ms (resolution 100 ms); omit for steady. */
  blink?: { onMs: number; offMs: number };
}

export interface BuzzerControl {
  /** Tone on/off times (100 ms units), repeat count; `count: 0` = until stopped. */
  onMs: number;
  offMs: number;
  count: number;
}

export interface ReaderLinkStatus {
  address: number;
  online: boolean;
  secure: boolean;
  identity?: PdIdentity;
  lastSeen?: number; // monotonic ms
  naks: number;
  timeouts: number;
}
