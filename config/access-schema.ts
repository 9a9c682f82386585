/**
 * Access control part of the compound file (issue 4): OSDP buses and readers, doors, and
 * the local decision rules (door groups, weekly schedules, holidays, anti-passback).
 * Credentials themselves are not configuration: the platform syncs them (snapshot + deltas)
 * into the gateway's credential store.
 */
import { z } from 'zod';

import { Id, Duration } from './common.js';

/** One RS-485 line with OSDP readers; the gateway is the control panel (CP) on it. */
export const OsdpBusConfig = z
  .object({
    id: Id,
    /** Serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/... */
    path: z.string().min(1),
    baudRate: z
      .union([z.literal(9600), z.literal(19_200), z.literal(38_400), z.literal(57_600), z.literal(115_200), z.literal(230_400)])
      .default(115_200),
    /** A PD must start its reply within this time (OSDP: 200 ms). */
    replyTimeoutMs: Duration.min(20).max(2000).default(200),
    /** Consecutive unanswered polls after which a reader is reported offline. */
    offlineAfterMisses: z.number().int().min(1).max(50).default(4),
    /** Pause after a full round of polls; 0 = poll continuously (the wire is the limit). */
    idleMs: Duration.max(1000).default(0),
  })
  .strict();

export const ReaderConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    bus: Id,
    /** OSDP address 0-126 (127 is broadcast). */
    address: z.number().int().min(0).max(126),
    /**
     * Secure channel. `required`: the reader is only used once a secure session with its own
     * key (SCBK) is up — credentials never cross the wire in clear. `install`: the reader is
     * new; the gateway opens a session with the default install key (SCBK-D), sets a fresh
     * per-reader key with KEYSET, stores it, and switches to `required` behaviour.
     * `off` is for readers without secure channel support, and is reported as a warning.
     */
    secure: z.enum(['required', 'install', 'off']).default('required'),
    /** Secret (secrets file) holding the reader's SCBK as 32 hex digits; default `osdp.{id}`. */
    keySecret: z.string().min(1).optional(),
  })
  .strict();

/** An input or output on a reader's I/O (OSDP numbers them from 0). */
const ReaderPoint = z.object({ reader: Id, index: z.number().int().min(0).max(15) }).strict();

export const DoorConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    /** Reader outside the door (direction `in`). */
    entryReader: Id,
    /** Optional reader inside (direction `out`); without one the exit button lets people out. */
    exitReader: Id.optional(),
    /** Lock relay: energising the output unlocks (fail-safe maglocks are wired so too). */
    lock: ReaderPoint,
    /** Door position switch; `normallyClosed` means the input reads active while the door is shut. */
    contact: ReaderPoint.extend({ normallyClosed: z.boolean().default(true) })
      .strict()
      .optional(),
    exitButton: ReaderPoint.optional(),
    /** How long a granted door stays unlocked. */
    unlockMs: Duration.min(500).max(60_000).default(5000),
    /** Open longer than this after a grant (or an exit) raises door held open. */
    heldOpenMs: Duration.min(1000).max(600_000).default(30_000),
    /** Unlock for egress while any fire input is active. */
    fireUnlock: z.boolean().default(true),
    /** A card+PIN credential must enter its PIN within this time after the card. */
    pinTimeoutMs: Duration.min(1000).max(60_000).default(10_000),
  })
  .strict();

const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00-24:00)');
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

export const ScheduleConfig = z
  .object({
    /** Weekly windows in the compound's time zone; a window may not cross midnight (use two). */
    weekly: z.array(z.object({ days: z.array(Weekday).min(1), from: TimeOfDay, to: TimeOfDay }).strict()).min(1),
    /** On a holiday (access.holidays) only these windows apply; none = closed on holidays. */
    holidays: z.array(z.object({ from: TimeOfDay, to: TimeOfDay }).strict()).default([]),
  })
  .strict();

export const AntiPassbackConfig = z
  .object({
    id: Id,
    /** Doors whose `in` grants put a credential inside the area, and whose `out` grants take it out. */
    doors: z.array(Id).min(1),
    /** hard: a second entry without an exit is denied; soft: granted but reported. */
    mode: z.enum(['hard', 'soft']).default('hard'),
    /** After this long without a move the credential may enter again (lost exits happen). 0 = never. */
    resetAfterMin: z.number().int().nonnegative().default(720),
  })
  .strict();

export const AccessConfig = z
  .object({
    /** IANA time zone for schedules and holidays, e.g. Asia/Shanghai. */
    timezone: z.string().default('UTC').refine(validTimeZone, 'must be an IANA time zone such as Asia/Shanghai'),
    /** Named sets of doors; a credential is granted on the doors of its groups. */
    doorGroups: z.record(Id, z.array(Id).min(1)).default({}),
    schedules: z.record(Id, ScheduleConfig).default({}),
    holidays: z.array(IsoDate).default([]),
    antiPassback: z.array(AntiPassbackConfig).default([]),
    /** Inputs wired to the fire panel: any active input unlocks every door with `fireUnlock`. */
    fireInputs: z.array(ReaderPoint.extend({ activeHigh: z.boolean().default(true) }).strict()).default([]),
    /** Wrong PINs in a row after which a credential is refused for `pinLockoutMs`. */
    pinMaxAttempts: z.number().int().min(1).max(20).default(5),
    pinLockoutMs: Duration.default(300_000),
  })
  .strict();

function validTimeZone(tz: string): boolean {
  // The default: every ECMA-402 engine knows UTC. Asking ICU would page ~5 MB of its zone data into
  // the daemon of every compound, also those without readers, where nothing else reads it (issue 12, idle RSS).
  if (tz === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export type OsdpBusConfig = z.infer<typeof OsdpBusConfig>;
export type ReaderConfig = z.infer<typeof ReaderConfig>;
export type DoorConfig = z.infer<typeof DoorConfig>;
export type ScheduleConfig = z.infer<typeof ScheduleConfig>;
export type AntiPassbackConfig = z.infer<typeof AntiPassbackConfig>;
export type AccessConfig = z.infer<typeof AccessConfig>;

/** Cross-reference checks, run from the compound schema's superRefine. */
export function checkAccessReferences(
  cfg: { osdpBuses: OsdpBusConfig[]; readers: ReaderConfig[]; doors: DoorConfig[]; access: AccessConfig },
  issue: (path: (string | number)[], message: string) => void,
): void {
  const buses = new Set(cfg.osdpBuses.map((b) => b.id));
  const readers = new Map(cfg.readers.map((r) => [r.id, r]));
  const doors = new Set(cfg.doors.map((d) => d.id));
  const addresses = new Map<string, number>();
  cfg.readers.forEach((r, i) => {
    if (!buses.has(r.bus)) issue(['readers', i, 'bus'], `no OSDP bus "${r.bus}" in osdpBuses`);
    const key = `${r.bus}#${r.address}`;
    if (addresses.has(key))
      issue(['readers', i, 'address'], `address ${r.address} is already used on bus "${r.bus}" by readers[${addresses.get(key)}]`);
    else addresses.set(key, i);
  });
  const point = (path: (string | number)[], p: { reader: string } | undefined) => {
    if (p && !readers.has(p.reader)) issue([...path, 'reader'], `no reader "${p.reader}" in readers`);
  };
  cfg.doors.forEach((d, i) => {
    if (!readers.has(d.entryReader)) issue(['doors', i, 'entryReader'], `no reader "${d.entryReader}" in readers`);
    if (d.exitReader && !readers.has(d.exitReader)) issue(['doors', i, 'exitReader'], `no reader "${d.exitReader}" in readers`);
    point(['doors', i, 'lock'], d.lock);
    point(['doors', i, 'contact'], d.contact);
    point(['doors', i, 'exitButton'], d.exitButton);
  });
  for (const [group, members] of Object.entries(cfg.access.doorGroups)) {
    members.forEach((m, j) => {
      if (!doors.has(m)) issue(['access', 'doorGroups', group, j], `no door "${m}" in doors`);
    });
  }
  cfg.access.antiPassback.forEach((a, i) =>
    a.doors.forEach((m, j) => {
      if (!doors.has(m)) issue(['access', 'antiPassback', i, 'doors', j], `no door "${m}" in doors`);
    }),
  );
  cfg.access.fireInputs.forEach((p, i) => point(['access', 'fireInputs', i], p));
}

/** The secure channel key secret of a reader: the one place its default name is written. */
export const readerKeySecret = (reader: Pick<ReaderConfig, 'id' | 'keySecret'>): string => reader.keySecret ?? `osdp.${reader.id}`;
