/**
 * The compound file schema: the single source of every config type (z.infer) and of the
 * defaults. Anything a component reads from configuration is declared here, with a
 * default that is safe for a real compound.
 */
import { z } from 'zod';

import { Id, Duration, checkSharedRtuLines } from './common.js';
import { BrokerAuthThrottleConfig, BrokerPendingConfig, BrokerTlsConfig } from './broker-schema.js';
import { ConsoleConfig, LiveViewConfig, MediaConfig } from './camera-schema.js';
import { AlarmsConfig, LinkageRule } from './perimeter-schema.js';
import { PresenceConfig } from './presence-schema.js';
import { MetricsConfig } from './metrics-schema.js';
import type { FamilyManifest } from '../gateway/families/family.js';
import { FAMILIES, type FamilyConfigShapes } from '../gateway/families/registry.js';
import { checkDeviceIds } from '../gateway/families/boot.js';

export { Id };
export { LockConfig } from './lock-schema.js';
export { ChargingSafetyConfig, CabinetBusConfig, CabinetConfig, ChargingConfig, cabinetBusKey } from './charging-schema.js';

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
     * gateway/outbox/footprint.ts). Caps below 512 KiB are held at 512 KiB on disk (the empty schema of every store owner is ~240 KiB).
     */
    maxBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(256 * 1024 * 1024),
    /** Group commit: at most this many events per transaction. */
    maxBatch: z.number().int().min(1).max(100_000).default(5000),
    /** How often the WAL is checkpointed (truncated) so it cannot grow without bound. */
    checkpointIntervalMs: Duration.default(30_000),
    /**
     * A reserve file of this size is kept beside outbox.db and deleted when the disk fills,
     * so the disk-full report and the alarms of that moment still fit (0 disables it).
     */
    reserveBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
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

const UplinkUrl = z.string().regex(/^(mqtts?|wss?):\/\/[^\s,]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL');

export const UplinkConfig = z
  .object({
    /** One broker. */
    url: UplinkUrl.optional(),
    /** Or the nodes of a broker cluster, tried in this order: on failure the uplink moves to the next (gateway/uplink/connection.ts). */
    urls: z.array(UplinkUrl).min(1).max(16).optional(),
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
    /**
     * A connection lost for at most this long resumes its broker session (command
     * subscription, commands queued meanwhile); after a longer outage, at start, or on
     * another node, the session starts clean so a queued command never runs late.
     */
    sessionResumeMs: Duration.max(3600_000).default(60_000),
  })
  .strict()
  .superRefine((u, ctx) => {
    if ((u.url === undefined) === (u.urls === undefined))
      ctx.addIssue({ code: 'custom', path: u.url === undefined ? ['url'] : ['urls'], message: 'give exactly one of url or urls' });
  });

/** The broker nodes of an uplink, in the order they are tried. */
export function uplinkUrls(u: { url?: string | undefined; urls?: readonly string[] | undefined }): string[] {
  return u.urls ? [...u.urls] : u.url !== undefined ? [u.url] : [];
}

/** `GATEHOUSE_UPLINK_URL`: one URL or a comma-separated list of cluster nodes. */
export function splitUplinkUrls(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export const BrokerConfig = z
  .object({
    /** Interface address to bind. Defaults to loopback: exposing the LAN is a decision. */
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1883),
    maxPayloadBytes: z
      .number()
      .int()
      .min(256)
      .default(64 * 1024),
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
    maxPayloadBytes: z
      .number()
      .int()
      .min(256)
      .default(64 * 1024),
    /** A command with no `expires` is dropped if it waited longer than this. */
    defaultTtlMs: Duration.default(60_000),
    /** How long seen command ids are remembered for replay refusal. */
    replayWindowMs: Duration.default(24 * 3600_000),
  })
  .strict();

export const LogConfig = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Per-component level overrides, e.g. `{ uplink: debug }`. */
    components: z.record(z.string(), z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default({}),
  })
  .strict();

/** Configurations applied by the platform (config.apply): probation and history (docs/REMOTE-CONFIG.md). */
export const RemoteConfigConfig = z
  .object({
    /** A new configuration must prove healthy within this (components, uplink, devices) or it is rolled back. */
    probationMs: Duration.default(120_000),
    /** Applied configurations kept in the data directory. */
    keep: z.number().int().min(2).max(50).default(5),
  })
  .strict();

/** The compound-file keys of the core; each family's keys come from its manifest (gateway/families/registry.ts). */
const coreShape = {
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
  /** The alarm lifecycle shared by every family, and what an alarm sets off. */
  alarms: AlarmsConfig.prefault({}),
  /** Presence damping for every family: a flapping device is held offline (gateway/presence/). */
  presence: PresenceConfig.prefault({}),
  linkage: z.array(LinkageRule).default([]),
  /** Snapshots, live view and the guards' console: core services the cameras family feeds. */
  media: MediaConfig.prefault({}),
  liveView: LiveViewConfig.prefault({}),
  console: ConsoleConfig.prefault({}),
  remoteConfig: RemoteConfigConfig.prefault({}),
  /** Prometheus `/metrics` and `/healthz` on a listener of their own (off by default). */
  metrics: MetricsConfig.prefault({}),
};

type CompoundShape = typeof coreShape & FamilyConfigShapes;
type Compound = z.infer<z.ZodObject<CompoundShape>>;

/**
 * The compound schema over a list of families: their config slices spread into the compound
 * object, the shared device-id space checked once, then each family's own checks and the
 * checks that span families (serial lines, linkage rules). Tests compose extra families.
 */
export function compoundSchema<C extends Compound = Compound>(
  families: readonly FamilyManifest<C>[],
): z.ZodObject<CompoundShape, z.core.$strict> {
  const shape = Object.assign({}, coreShape, ...families.map((f) => f.config)) as CompoundShape;
  return z
    .object(shape)
    .strict()
    .superRefine((parsed, ctx) => {
      const cfg = parsed as C;
      const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      checkDeviceIds(families, cfg, issue);
      for (const f of families) f.check?.(cfg, issue);
      // One serial port per path: cabinets and input modules on it must agree on its settings.
      checkSharedRtuLines(
        [
          ...cfg.cabinets.flatMap((c, i) => ('rtu' in c.bus ? [{ path: ['cabinets', i], rtu: c.bus.rtu }] : [])),
          ...cfg.inputModules.flatMap((m, i) => ('rtu' in m.bus ? [{ path: ['inputModules', i], rtu: m.bus.rtu }] : [])),
        ],
        ctx,
      );
      const outputIds = new Set(cfg.outputs.map((o) => o.id));
      cfg.linkage.forEach((rule, i) =>
        rule.do.forEach((action, j) => {
          if ('output' in action && !outputIds.has(action.output))
            issue(['linkage', i, 'do', j, 'output'], `no output "${action.output}" in outputs`);
          if ('camera' in action && !cfg.cameras.some((c) => c.id === action.camera))
            issue(['linkage', i, 'do', j, 'camera'], `no camera "${action.camera}" in cameras`);
        }),
      );
      if (cfg.uplink && (cfg.uplink.certFile === undefined) !== (cfg.uplink.keyFile === undefined)) {
        issue(['uplink', cfg.uplink.certFile ? 'keyFile' : 'certFile'], 'certFile and keyFile go together');
      }
    });
}

export const CompoundConfig = compoundSchema(FAMILIES);

export type CompoundConfig = Compound;
export type CompoundConfigInput = z.input<z.ZodObject<CompoundShape>>;
export type UplinkConfig = z.infer<typeof UplinkConfig>;
export type BrokerConfig = z.infer<typeof BrokerConfig>;
export type OutboxConfig = z.infer<typeof OutboxConfig>;
export type CommandsConfig = z.infer<typeof CommandsConfig>;
export type LogConfig = z.infer<typeof LogConfig>;
export type { CabinetConfigInput } from './charging-schema.js';
export type { AccessConfig, DoorConfig, OsdpBusConfig, ReaderConfig, ScheduleConfig } from './access-schema.js';
export type { CameraConfig, ConsoleConfig, LiveViewConfig, MediaConfig } from './camera-schema.js';
export type { PresenceConfig } from './presence-schema.js';
export type { MetricsConfig } from './metrics-schema.js';
export type {
  AlarmsConfig,
  AlarmPriority,
  Dc09PanelConfig,
  Dc09ReceiverConfig,
  InputModuleConfig,
  LinkageRule,
  OutputConfig,
  PartitionConfig,
  PerimeterConfig,
  ZoneConfig,
} from './perimeter-schema.js';

/** Secrets file: flat names to strings, e.g. `uplink.password`, `devices.flat-3-201`. */
export const SecretsFile = z.record(z.string(), z.union([z.string(), z.record(z.string(), z.string())]));
