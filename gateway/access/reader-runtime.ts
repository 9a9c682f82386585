/**
 * What the access service keeps per reader and per door while it runs, and how a reader is
 * presented to its RS-485 line (secure channel mode and key) and to the outside (presence as
 * announced).
 */
import type { AccessConfig, DoorConfig, ReaderConfig } from '../../config/schema.js';
import type { ReaderCapabilities } from '../../drivers/osdp/capabilities.js';
import type { Clock, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { DevicePresence, PresenceAnnouncement, PresenceTracker } from '../presence/presence-policy.js';
import type { Direction } from './access-events.js';
import type { DoorMachine } from './door-machine.js';
import { readerKeySecret } from './family.js';
import { KeypadEntry, PinGuessLimiter, type Entry } from './keypad-entry.js';
import type { LineReader, ReaderLine } from './service-types.js';

export interface ReaderRuntime {
  cfg: ReaderConfig;
  line: ReaderLine;
  /** The door this reader reads for, and which way. */
  door?: { id: string; direction: Direction };
  keypad: KeypadEntry;
  pinGuesses: PinGuessLimiter;
  /** The link as it is (commands, lock re-assertion); what is announced is `presence.announced`. */
  online: boolean;
  presence: DevicePresence;
  secure: boolean;
  tamper: boolean;
  /** The reader reports a power failure (LSTATR). */
  powerFailure: boolean;
  /** Its PDCAP, once read: what it may be sent. */
  capabilities: ReaderCapabilities | undefined;
  lastSeen: number | null;
  inputs: boolean[];
  /** Why the link is down, as the line last said (secure channel failure, no answer): `gatehouse check --devices`. */
  problem?: string | undefined;
}

/** A reader's runtime, offline until its line says otherwise, tracked by the presence policy. */
export function newReaderRuntime(
  cfg: ReaderConfig,
  line: ReaderLine,
  door: { id: string; direction: Direction } | undefined,
  o: {
    pinTimeoutMs: number;
    access: Pick<AccessConfig, 'pinMaxAttempts' | 'pinLockoutMs'>;
    clock: Clock;
    timers: Timers;
    presence: PresenceTracker;
    /** A card + PIN or a PIN alone, complete. */
    onEntry(rt: ReaderRuntime, e: Entry): void;
    /** What the presence policy decided to announce of the reader. */
    announce(rt: ReaderRuntime, a: PresenceAnnouncement): void;
  },
): ReaderRuntime {
  const rt: ReaderRuntime = {
    cfg,
    line,
    ...(door ? { door } : {}),
    keypad: new KeypadEntry({ pinTimeoutMs: o.pinTimeoutMs, timers: o.timers, onEntry: (e) => o.onEntry(rt, e) }),
    pinGuesses: new PinGuessLimiter({
      maxAttempts: o.access.pinMaxAttempts,
      lockoutMs: o.access.pinLockoutMs,
      monotonic: () => o.clock.monotonic(),
    }),
    online: false,
    presence: undefined as unknown as DevicePresence,
    secure: false,
    tamper: false,
    powerFailure: false,
    capabilities: undefined,
    lastSeen: null,
    inputs: [],
  };
  rt.presence = o.presence.track(cfg.id, 'reader', (a) => o.announce(rt, a));
  return rt;
}

export interface DoorRuntime {
  cfg: DoorConfig;
  machine: DoorMachine;
}

export interface ReaderKeys {
  /** The key for a reader's secure channel, if one is known (keys.ts). */
  readerKey(reader: ReaderConfig): Uint8Array | undefined;
  /** Whether the reader was already given its own key by us (secure: install done). */
  readerInstalled(reader: ReaderConfig): boolean;
}

/** The reader as its line drives it: secure channel mode and key; a missing key is logged, not fatal. */
export function lineReaderOf(r: ReaderConfig, keys: ReaderKeys, log: Logger): LineReader {
  const key = keys.readerKey(r);
  if (r.secure === 'off') {
    log.warn({ reader: r.id }, 'reader runs without secure channel: card numbers cross the RS-485 line in clear');
    return { address: r.address, secure: 'off' };
  }
  if (r.secure === 'install' && !keys.readerInstalled(r)) return { address: r.address, secure: 'install' };
  if (!key)
    log.error(
      { reader: r.id, secret: readerKeySecret(r) },
      'reader needs a secure channel key and none is known: add it to the secrets file, or set secure: install for a new reader',
    );
  return { address: r.address, secure: 'required', ...(key ? { key } : {}) };
}

/** A reader's state as published: presence as announced, the rest as it is. */
export function announcedView(rt: ReaderRuntime): ReaderRuntime {
  const online = rt.presence.announced === true;
  return { ...rt, online, secure: online && rt.secure };
}
