/**
 * Perimeter alarms and the alarm lifecycle (issue 5): Modbus digital-input modules and their
 * zones, partitions armed by schedule or command, outputs (sirens, strobes), SIA DC-09
 * alarm panels, alarm priorities, and linkage rules ("on an alarm from X, do Y").
 */
import { z } from 'zod';
import { Duration, Id, modbusBusSchema } from './common.js';
import { ScheduleConfig } from './access-schema.js';

/** Same shape as a cabinet's bus: an RS-485 line (shared) or a Modbus TCP endpoint. */
const ModbusBus = modbusBusSchema(9600);

export const InputModuleConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    bus: ModbusBus,
    unitId: z.number().int().min(1).max(247).default(1),
    channels: z.union([z.literal(8), z.literal(16)]),
    /** Where the inputs are: discrete inputs (FC 02, most modules) or coils/registers. */
    inputs: z
      .object({
        table: z.enum(['discrete', 'coils', 'holding', 'input']).default('discrete'),
        address: z.number().int().min(0).max(65535).default(0),
      })
      .strict()
      .prefault({}),
    /**
     * Line supervision, for modules with end-of-line resistors that report faults: a
     * register (input or holding) holding one bit per channel, set while the line is cut
     * or shorted.
     */
    supervision: z
      .object({ table: z.enum(['holding', 'input']).default('input'), address: z.number().int().min(0).max(65535) })
      .strict()
      .optional(),
    /** Relay outputs driven as coils (FC 05/15), numbered from `address`. */
    outputs: z
      .object({ address: z.number().int().min(0).max(65535).default(0), count: z.number().int().min(1).max(16) })
      .strict()
      .optional(),
    /** Poll period: the input-to-alarm latency is about this plus debounce. */
    pollMs: Duration.min(20).max(10_000).default(100),
  })
  .strict();

export const ZoneConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    module: Id,
    /** Channel on the module, from 0. */
    channel: z.number().int().min(0).max(15),
    /**
     * perimeter: alarms only while its partition is armed; h24: always armed (tamper, cut
     * cable); panic: SOS button, always armed, highest priority; fire: always armed.
     */
    type: z.enum(['perimeter', 'h24', 'panic', 'fire']).default('perimeter'),
    /** NC: the input is active while all is well (a beam receiving, a fence intact). */
    contact: z.enum(['NO', 'NC']).default('NC'),
    /** A change must hold this long before it counts. */
    debounceMs: Duration.max(10_000).default(200),
    /** IR beam sensitivity: only `count` alarm pulses within `windowMs` raise the alarm. */
    pulses: z
      .object({ count: z.number().int().min(2).max(20), windowMs: Duration.min(100).max(600_000) })
      .strict()
      .optional(),
    /** Perimeter zones belong to a partition that is armed and disarmed as a whole. */
    partition: Id.optional(),
  })
  .strict();

export const PartitionConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    /** Armed during this schedule's windows (e.g. nights); commands override until the next window edge. */
    armSchedule: Id.optional(),
  })
  .strict();

export const OutputConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    kind: z.enum(['siren', 'strobe', 'relay']).default('siren'),
    module: Id,
    /** Output index on the module (0 = its first coil). */
    index: z.number().int().min(0).max(15),
  })
  .strict();

export const Dc09PanelConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    /** Account number the panel sends (3-16 hex digits). */
    account: z.string().regex(/^[0-9A-Fa-f]{3,16}$/, 'must be 3-16 hex digits'),
    /** Receiver/line prefix the panel uses (Rxxxx / Lxxxx), optional filter. */
    receiver: z
      .string()
      .regex(/^[0-9A-Fa-f]{1,6}$/)
      .optional(),
    line: z
      .string()
      .regex(/^[0-9A-Fa-f]{1,6}$/)
      .optional(),
    /** Secret holding the AES key (32, 48 or 64 hex digits); none = plain messages accepted. */
    keySecret: z.string().min(1).optional(),
    /** Refuse unencrypted messages from this panel (default when a key is configured). */
    requireEncryption: z.boolean().optional(),
    /**
     * Whether the panel reports restores (Contact ID qualifier 3, SIA xR codes). Panels that
     * do not would leave every alarm active for ever; with `false` their alarms are one-shot
     * reports a guard closes once handled.
     */
    sendsRestores: z.boolean().default(true),
    /** Periodic test interval; silent for interval × 1.5 (+ grace) = offline alarm. 0 = not supervised. */
    supervisionS: z.number().int().nonnegative().default(3600),
  })
  .strict();

export const Dc09ReceiverConfig = z
  .object({
    /** Interface address to listen on: loopback unless the installer names the LAN interface the panels reach. */
    host: z.string().min(1).default('127.0.0.1'),
    tcpPort: z.number().int().min(0).max(65535).default(0),
    udpPort: z.number().int().min(0).max(65535).default(0),
    /** Accepted timestamp skew of encrypted messages (DC-09: -20 s / +40 s). */
    timestampWindow: z
      .object({ pastS: z.number().int().min(1).default(20), futureS: z.number().int().min(1).default(40) })
      .strict()
      .prefault({}),
    maxConnections: z.number().int().min(1).max(10_000).default(200),
    /** TCP connections from one address at once (panels use one; a few for a NAT in front of several). */
    maxConnectionsPerAddress: z.number().int().min(1).max(10_000).default(4),
    /** A TCP connection must deliver a framed DC-09 message this soon after connecting. */
    firstMessageTimeoutS: z.number().int().min(1).max(600).default(10),
    /** Encrypted messages older than an account's newest accepted one minus this are refused as replays. */
    replayWindowS: z.number().int().min(60).max(86_400).default(600),
  })
  .strict();

const Priority = z.enum(['critical', 'high', 'medium', 'low']);

export const LinkageRule = z
  .object({
    /** What triggers the rule: any of the listed sources (zones, doors, panels, cabinets, devices) and/or alarm kinds. */
    when: z
      .object({
        sources: z.array(Id).optional(),
        kinds: z.array(z.string().min(1).max(64)).optional(),
        minPriority: Priority.optional(),
      })
      .strict(),
    do: z
      .array(
        z.union([
          z.object({ output: Id, seconds: z.number().int().min(1).max(3600).default(60) }).strict(),
          z.object({ camera: Id, snapshot: z.boolean().default(true), preset: z.string().min(1).max(64).optional() }).strict(),
          z.object({ notify: z.literal('console') }).strict(),
        ]),
      )
      .min(1),
  })
  .strict();

export const PerimeterConfig = z
  .object({
    /** Schedules used to arm partitions (windows = armed). */
    armSchedules: z.record(Id, ScheduleConfig).default({}),
    dc09: Dc09ReceiverConfig.optional(),
  })
  .strict();

export const AlarmsConfig = z
  .object({
    /** Priority per alarm kind, overriding the built-in ones (e.g. `door.held_open: low`). */
    priorities: z.record(z.string(), Priority).default({}),
    /** Kinds closed automatically when their condition clears (no guard action needed). */
    autoCloseOnClear: z.array(z.string()).default(['reader.offline', 'device.offline']),
    /** Open alarms kept at most; beyond it the oldest closed-able ones are closed as `overflow`. */
    maxOpen: z.number().int().min(10).max(100_000).default(1000),
  })
  .strict();

export type InputModuleConfig = z.infer<typeof InputModuleConfig>;
export type ZoneConfig = z.infer<typeof ZoneConfig>;
export type PartitionConfig = z.infer<typeof PartitionConfig>;
export type OutputConfig = z.infer<typeof OutputConfig>;
export type Dc09PanelConfig = z.infer<typeof Dc09PanelConfig>;
export type Dc09ReceiverConfig = z.infer<typeof Dc09ReceiverConfig>;
export type LinkageRule = z.infer<typeof LinkageRule>;
export type PerimeterConfig = z.infer<typeof PerimeterConfig>;
export type AlarmsConfig = z.infer<typeof AlarmsConfig>;
export type AlarmPriority = z.infer<typeof Priority>;

/** Cross-reference checks, run from the compound schema's superRefine. */
export function checkPerimeterReferences(
  cfg: {
    inputModules: InputModuleConfig[];
    zones: ZoneConfig[];
    partitions: PartitionConfig[];
    outputs: OutputConfig[];
    perimeter: PerimeterConfig;
  },
  issue: (path: (string | number)[], message: string) => void,
): void {
  const modules = new Map(cfg.inputModules.map((m) => [m.id, m]));
  const partitions = new Set(cfg.partitions.map((p) => p.id));
  const used = new Map<string, number>();
  cfg.zones.forEach((z, i) => {
    const m = modules.get(z.module);
    if (!m) return issue(['zones', i, 'module'], `no input module "${z.module}" in inputModules`);
    if (z.channel >= m.channels) issue(['zones', i, 'channel'], `module ${m.id} has ${m.channels} channels (0-${m.channels - 1})`);
    const key = `${z.module}#${z.channel}`;
    if (used.has(key)) issue(['zones', i, 'channel'], `channel ${z.channel} of ${z.module} is already zones[${used.get(key)}]`);
    else used.set(key, i);
    if (z.type === 'perimeter' && !z.partition)
      issue(['zones', i, 'partition'], 'a perimeter zone needs a partition (that is what is armed and disarmed)');
    if (z.partition && !partitions.has(z.partition)) issue(['zones', i, 'partition'], `no partition "${z.partition}" in partitions`);
  });
  cfg.partitions.forEach((p, i) => {
    if (p.armSchedule && !cfg.perimeter.armSchedules[p.armSchedule])
      issue(['partitions', i, 'armSchedule'], `no schedule "${p.armSchedule}" in perimeter.armSchedules`);
  });
  cfg.outputs.forEach((o, i) => {
    const m = modules.get(o.module);
    if (!m) return issue(['outputs', i, 'module'], `no input module "${o.module}" in inputModules`);
    if (!m.outputs) issue(['outputs', i, 'module'], `module ${m.id} has no outputs configured`);
    else if (o.index >= m.outputs.count)
      issue(['outputs', i, 'index'], `module ${m.id} has ${m.outputs.count} outputs (0-${m.outputs.count - 1})`);
  });
}
