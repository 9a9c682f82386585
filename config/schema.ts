/**
 * The compound file schema: the single source of every config type (z.infer) and of the
 * defaults. Anything a component reads from configuration is declared here, with a
 * default that is safe for a real compound.
 */
import { z } from 'zod';

import { Id, Duration, checkSharedRtuLines, modbusBusSchema } from './common.js';
import { BrokerAuthThrottleConfig, BrokerPendingConfig, BrokerTlsConfig } from './broker-schema.js';
import { AccessConfig, DoorConfig, OsdpBusConfig, ReaderConfig, checkAccessReferences } from './access-schema.js';
import { CameraConfig, ConsoleConfig, LiveViewConfig, MediaConfig } from './camera-schema.js';
import { AlarmsConfig, Dc09PanelConfig, InputModuleConfig, LinkageRule, OutputConfig, PartitionConfig, PerimeterConfig, ZoneConfig, checkPerimeterReferences } from './perimeter-schema.js';
import { PresenceConfig } from './presence-schema.js';

export { Id };

const ClassPolicy = z
  .object({
    /** Events older than this are dropped (and the drop reported). 0 = never expire. */
    ttlDays: z.number().nonnegative().default(30),
    /** Lower ranks are evicted first when the disk cap is reached; alarms are never evicted. */
    evictRank: z.number().int().min(1).max(9).default(5),
  })
  .strict();

const classPolicy = (ttlDays: number, evictRank: number) => ClassPolicy.default({ ttlDays, evictRank });

export const OutboxConfig = z
  .object({
    /**
     * Hard cap of the outbox's files on disk: outbox.db + -wal + -shm (not row bytes; see
     * gateway/outbox/footprint.ts). Caps below 256 KiB are held at 256 KiB on disk.
     */
    maxBytes: z.number().int().min(64 * 1024).default(256 * 1024 * 1024),
    /** Group commit: at most this many events per transaction. */
    maxBatch: z.number().int().min(1).max(100_000).default(5000),
    /** How often the WAL is checkpointed (truncated) so it cannot grow without bound. */
    checkpointIntervalMs: Duration.default(30_000),
    /**
     * A reserve file of this size is kept beside outbox.db and deleted when the disk fills,
     * so the disk-full report and the alarms of that moment still fit (0 disables it).
     */
    reserveBytes: z.number().int().min(0).max(64 * 1024 * 1024).default(1024 * 1024),
    /** While the disk is full, recording is retried this often; it resumes by itself. */
    diskRetryMs: Duration.default(5000),
    classes: z
      .object({
        alarm: ClassPolicy.default({ ttlDays: 0, evictRank: 9 }),
        access: classPolicy(90, 4),
        charging: classPolicy(30, 2),
        device: classPolicy(7, 1),
        system: classPolicy(30, 3),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const UplinkConfig = z
  .object({
    url: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    clientId: z.string().min(1).max(128).optional(),
    username: z.string().min(1).optional(),
    /** Name of the secret in the secrets file holding the password (never the password itself). */
    passwordSecret: z.string().min(1).optional(),
    /** PEM files for TLS: a private CA, and a per-box client certificate and key. */
    caFile: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    /** Refuse brokers whose certificate does not verify. Only ever false on a bench. */
    rejectUnauthorized: z.boolean().default(true),
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
    keepaliveSeconds: z.number().int().min(5).max(600).default(30),
    /** Maximum QoS 1 publishes awaiting PUBACK. */
    inflightWindow: z.number().int().min(1).max(65_000).default(500),
    /** A publish not acknowledged within this time means the connection is half-open. */
    ackTimeoutMs: Duration.min(1000).default(20_000),
    connectTimeoutMs: Duration.min(1000).default(15_000),
    backoff: z
      .object({ minMs: Duration.min(10).default(1000), maxMs: Duration.min(100).default(60_000) })
      .strict()
      .prefault({}),
  })
  .strict();

export const BrokerConfig = z
  .object({
    /** Interface address to bind. Defaults to loopback: exposing the LAN is a decision. */
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1883),
    maxPayloadBytes: z.number().int().min(256).default(64 * 1024),
    maxTopicDepth: z.number().int().min(2).max(32).default(8),
    /** Undelivered QoS 1 messages kept for one client before it is disconnected. */
    maxQueuedPerClient: z.number().int().min(10).default(1000),
    /** Simultaneous MQTT connections (devices + operators); the gateway's own client is never refused. */
    maxConnections: z.number().int().min(1).max(10_000).default(1000),
    /** Accounts allowed to command the gateway through the embedded broker (e.g. a local BMS). */
    operators: z.array(z.object({ username: Id, passwordSecret: z.string().min(1) }).strict()).default([]),
    /** Sessions one operator account may hold at once. */
    maxSessionsPerOperator: z.number().int().min(1).max(100).default(4),
    pending: BrokerPendingConfig.prefault({}),
    authThrottle: BrokerAuthThrottleConfig.prefault({}),
    /** A TLS listener (devices may use mutual TLS); see drivers/smartlock/README.md. */
    tls: BrokerTlsConfig.optional(),
  })
  .strict();

export const CommandsConfig = z
  .object({
    maxPayloadBytes: z.number().int().min(256).default(64 * 1024),
    /** A command with no `expires` is dropped if it waited longer than this. */
    defaultTtlMs: Duration.default(60_000),
    /** How long seen command ids are remembered for replay refusal. */
    replayWindowMs: Duration.default(24 * 3600_000),
  })
  .strict();

export const LockConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    /** Secret holding this lock's broker password. Defaults to `devices.{id}`. */
    passwordSecret: z.string().min(1).optional(),
    /** A lock that has not been heard from for this long is reported offline. */
    offlineAfterMs: Duration.min(1000).default(180_000),
  })
  .strict();

/**
 * Local charging safety interlocks (issue 3). The defaults are the safe ones for e-bike
 * chargers (2-5 A, a few hundred watts): an installer may tighten them; loosening them is
 * a decision that must show up in the compound file.
 */
export const ChargingSafetyConfig = z
  .object({
    /** A port at or above this temperature is stopped and an alarm raised. */
    portMaxTempC: z.number().min(20).max(100).default(60),
    /** A port drawing more than this is stopped (e-bike chargers draw 2-5 A). */
    portMaxCurrentA: z.number().positive().max(32).default(10),
    /** Cabinet at or above this temperature: every port cut and a critical fire alarm. */
    cabinetMaxTempC: z.number().min(20).max(100).default(55),
    /** A port drawing more than this is limited to it. */
    perPortPowerCapW: z.number().int().positive().max(7400).default(600),
    /** Charging below this power for `fullForMin` minutes means the battery is full. */
    fullPowerW: z.number().nonnegative().default(10),
    fullForMin: z.number().positive().max(240).default(10),
    /** A session longer than this is stopped (8 h). */
    maxSessionMin: z.number().int().positive().max(24 * 60).default(480),
    /** Mains below this RMS voltage counts as lost. */
    mainsMinV: z.number().nonnegative().default(180),
    /** A safety command the cabinet has not obeyed after this long is sent again. */
    reassertAfterMs: Duration.min(500).default(5000),
    /** Polls in a row whose safety registers cannot be read or decoded before `cabinet.unsupervised` is raised. */
    unsupervisedAfterPolls: z.number().int().min(1).max(100).default(3),
    /** What an unsupervised cabinet gets: `cut` (its power cut, latched until charging.reset) or only the alarm. */
    unsupervisedPolicy: z.enum(['cut', 'alarm']).default('cut'),
  })
  .strict();

/** Where a cabinet's Modbus bus is: an RS-485 line (several cabinets share it) or a TCP endpoint. */
export const CabinetBusConfig = modbusBusSchema(115_200);

export const CabinetConfig = z
  .object({
    id: Id,
    name: z.string().min(1).max(120).optional(),
    bus: CabinetBusConfig,
    /** Modbus unit id on its bus (1-247). */
    unitId: z.number().int().min(1).max(247).default(1),
    /** Ports the compound expects; the identity read is authoritative when it says fewer. */
    ports: z.number().int().min(1).max(24),
    /** How often the cabinet is read, and so how fast the local interlocks act. */
    pollMs: Duration.min(100).max(60_000).default(1000),
  })
  .strict();

export const ChargingConfig = z
  .object({
    safety: ChargingSafetyConfig.prefault({}),
    /** MeterValues interval per running session (OCPP MeterValueSampleInterval). */
    meterIntervalMs: Duration.min(100).default(60_000),
  })
  .strict();

export const LogConfig = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Per-component level overrides, e.g. `{ uplink: debug }`. */
    components: z.record(z.string(), z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default({}),
  })
  .strict();

/** Ids the gateway uses for its own `source.device` / `state/{device}` topics. */
const RESERVED_DEVICE_IDS: readonly string[] = ['access', 'alarms', 'gateway'];

export const CompoundConfig = z
  .object({
    compound: z.object({ id: Id, name: z.string().min(1).max(200).optional() }).strict(),
    gateway: z.object({ id: Id }).strict(),
    /** A second YAML file with secrets, relative to this file; should be mode 0600. */
    secretsFile: z.string().optional(),
    uplink: UplinkConfig.optional(),
    broker: BrokerConfig.prefault({}),
    outbox: OutboxConfig.prefault({}),
    commands: CommandsConfig.prefault({}),
    log: LogConfig.prefault({}),
    clock: z
      .object({ syncedFlagFile: z.string().optional(), force: z.enum(['synced', 'unsynced']).optional() })
      .strict()
      .prefault({}),
    locks: z.array(LockConfig).default([]),
    cabinets: z.array(CabinetConfig).default([]),
    charging: ChargingConfig.prefault({}),
    /** Access control (issue 4): RS-485 lines with OSDP readers, doors and decision rules. */
    osdpBuses: z.array(OsdpBusConfig).default([]),
    readers: z.array(ReaderConfig).default([]),
    doors: z.array(DoorConfig).default([]),
    access: AccessConfig.prefault({}),
    /** Perimeter alarms (issue 5): Modbus input modules, zones, partitions, outputs, DC-09 panels. */
    inputModules: z.array(InputModuleConfig).default([]),
    zones: z.array(ZoneConfig).default([]),
    partitions: z.array(PartitionConfig).default([]),
    outputs: z.array(OutputConfig).default([]),
    alarmPanels: z.array(Dc09PanelConfig).default([]),
    perimeter: PerimeterConfig.prefault({}),
    /** The alarm lifecycle shared by every family, and what an alarm sets off. */
    alarms: AlarmsConfig.prefault({}),
    /** Presence damping for every family: a flapping device is held offline (gateway/presence/). */
    presence: PresenceConfig.prefault({}),
    linkage: z.array(LinkageRule).default([]),
    /** Cameras (issue 6): ONVIF + RTSP, snapshots on alarm, live view in the console. */
    cameras: z.array(CameraConfig).default([]),
    media: MediaConfig.prefault({}),
    liveView: LiveViewConfig.prefault({}),
    console: ConsoleConfig.prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.locks.forEach((lock, i) => {
      if (seen.has(lock.id)) {
        ctx.addIssue({ code: 'custom', path: ['locks', i, 'id'], message: `duplicate device id "${lock.id}" (also locks[${seen.get(lock.id)}])` });
      } else seen.set(lock.id, i);
    });
    // Cabinets share the device id space with locks: both are `source.device` and `state/{device}`.
    const lockCount = cfg.locks.length;
    cfg.cabinets.forEach((cab, i) => {
      const other = seen.get(cab.id);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['cabinets', i, 'id'], message: `duplicate device id "${cab.id}" (also ${other < lockCount ? `locks[${other}]` : `cabinets[${other - lockCount}]`})` });
      } else seen.set(cab.id, lockCount + i);
    });
    const units = new Map<string, number>();
    cfg.cabinets.forEach((cab, i) => {
      const k = `${cabinetBusKey(cab.bus)}#${cab.unitId}`;
      if (units.has(k)) ctx.addIssue({ code: 'custom', path: ['cabinets', i, 'unitId'], message: `unit id ${cab.unitId} is already used on this bus by cabinets[${units.get(k)}]` });
      else units.set(k, i);
    });
    // One serial port per path: cabinets and input modules on it must agree on its settings.
    checkSharedRtuLines([
      ...cfg.cabinets.flatMap((c, i) => ('rtu' in c.bus ? [{ path: ['cabinets', i], rtu: c.bus.rtu }] : [])),
      ...cfg.inputModules.flatMap((m, i) => ('rtu' in m.bus ? [{ path: ['inputModules', i], rtu: m.bus.rtu }] : [])),
    ], ctx);
    // Doors and readers share the device id space with locks and cabinets.
    const devices = new Map<string, string>();
    const claim = (id: string, where: string, path: (string | number)[]) => {
      if (RESERVED_DEVICE_IDS.includes(id)) return void ctx.addIssue({ code: 'custom', path, message: `"${id}" is reserved (state/${id} is the gateway's own topic); choose another id` });
      const other = devices.get(id) ?? (seen.has(id) ? 'a lock or cabinet' : undefined);
      if (other) ctx.addIssue({ code: 'custom', path, message: `duplicate device id "${id}" (also ${other})` });
      else devices.set(id, where);
    };
    cfg.locks.forEach((l, i) => RESERVED_DEVICE_IDS.includes(l.id) && ctx.addIssue({ code: 'custom', path: ['locks', i, 'id'], message: `"${l.id}" is reserved; choose another id` }));
    cfg.cabinets.forEach((c, i) => RESERVED_DEVICE_IDS.includes(c.id) && ctx.addIssue({ code: 'custom', path: ['cabinets', i, 'id'], message: `"${c.id}" is reserved; choose another id` }));
    cfg.osdpBuses.forEach((b, i) => claim(b.id, `osdpBuses[${i}]`, ['osdpBuses', i, 'id']));
    cfg.readers.forEach((r, i) => claim(r.id, `readers[${i}]`, ['readers', i, 'id']));
    cfg.doors.forEach((d, i) => claim(d.id, `doors[${i}]`, ['doors', i, 'id']));
    cfg.inputModules.forEach((m, i) => claim(m.id, `inputModules[${i}]`, ['inputModules', i, 'id']));
    cfg.zones.forEach((z, i) => claim(z.id, `zones[${i}]`, ['zones', i, 'id']));
    cfg.partitions.forEach((p, i) => claim(p.id, `partitions[${i}]`, ['partitions', i, 'id']));
    cfg.outputs.forEach((o, i) => claim(o.id, `outputs[${i}]`, ['outputs', i, 'id']));
    cfg.alarmPanels.forEach((p, i) => claim(p.id, `alarmPanels[${i}]`, ['alarmPanels', i, 'id']));
    cfg.cameras.forEach((c, i) => claim(c.id, `cameras[${i}]`, ['cameras', i, 'id']));
    checkAccessReferences(cfg, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
    checkPerimeterReferences(cfg, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
    const outputIds = new Set(cfg.outputs.map((o) => o.id));
    cfg.linkage.forEach((rule, i) =>
      rule.do.forEach((action, j) => {
        if ('output' in action && !outputIds.has(action.output)) ctx.addIssue({ code: 'custom', path: ['linkage', i, 'do', j, 'output'], message: `no output "${action.output}" in outputs` });
        if ('camera' in action && !cfg.cameras.some((c) => c.id === action.camera)) ctx.addIssue({ code: 'custom', path: ['linkage', i, 'do', j, 'camera'], message: `no camera "${action.camera}" in cameras` });
      }),
    );
    const accounts = new Map<string, number>();
    cfg.alarmPanels.forEach((p, i) => {
      const key = p.account.toUpperCase();
      if (accounts.has(key)) ctx.addIssue({ code: 'custom', path: ['alarmPanels', i, 'account'], message: `account ${p.account} is already alarmPanels[${accounts.get(key)}]` });
      else accounts.set(key, i);
    });
    if (cfg.uplink && (cfg.uplink.certFile === undefined) !== (cfg.uplink.keyFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['uplink', cfg.uplink.certFile ? 'keyFile' : 'certFile'], message: 'certFile and keyFile go together' });
    }
  });

export type CompoundConfig = z.infer<typeof CompoundConfig>;
export type CompoundConfigInput = z.input<typeof CompoundConfig>;
export type UplinkConfig = z.infer<typeof UplinkConfig>;
export type BrokerConfig = z.infer<typeof BrokerConfig>;
export type OutboxConfig = z.infer<typeof OutboxConfig>;
export type CommandsConfig = z.infer<typeof CommandsConfig>;
export type LockConfig = z.infer<typeof LockConfig>;
export type LogConfig = z.infer<typeof LogConfig>;
export type ChargingSafetyConfig = z.infer<typeof ChargingSafetyConfig>;
export type CabinetBusConfig = z.infer<typeof CabinetBusConfig>;
export type CabinetConfig = z.infer<typeof CabinetConfig>;
export type CabinetConfigInput = z.input<typeof CabinetConfig>;
export type ChargingConfig = z.infer<typeof ChargingConfig>;
export type { AccessConfig, DoorConfig, OsdpBusConfig, ReaderConfig, ScheduleConfig } from './access-schema.js';
export type { CameraConfig, ConsoleConfig, LiveViewConfig, MediaConfig } from './camera-schema.js';
export type { PresenceConfig } from './presence-schema.js';
export type { AlarmsConfig, AlarmPriority, Dc09PanelConfig, Dc09ReceiverConfig, InputModuleConfig, LinkageRule, OutputConfig, PartitionConfig, PerimeterConfig, ZoneConfig } from './perimeter-schema.js';

/** One ModbusBus per distinct key: an RTU line by device path, a TCP endpoint by host:port. */
export function cabinetBusKey(bus: CabinetBusConfig): string {
  return 'rtu' in bus ? `rtu:${bus.rtu.path}` : `tcp:${bus.tcp.host}:${bus.tcp.port}`;
}

/** Secrets file: flat names to strings, e.g. `uplink.password`, `devices.flat-3-201`. */
export const SecretsFile = z.record(z.string(), z.union([z.string(), z.record(z.string(), z.string())]));
