/**
 * The family contract: what a device family (locks, cabinets, access, perimeter, DC-09
 * panels, cameras, and the next ones) declares so the composition root can iterate a
 * registry without knowing any family's insides. After zigbee2mqtt's Extension (start,
 * stop, failure isolation per extension) and fastify's declared plugin dependencies
 * (`needs` is checked at boot and orders the start).
 *
 * A manifest is cheap to import: it holds zod schemas and declarations only. The family's
 * code and its heavy dependencies (onvif/xml2js, serialport, ffmpeg supervision) are
 * imported by `load()`, and only when `configured()` says the compound file uses it.
 */
import type { z } from 'zod';
import type { Clock, Timers } from '../core/clock.js';
import type { Logger, LoggerFactory } from '../core/log.js';
import type { EventInput } from '../core/events.js';
import type { CommandDefinition } from '../commands/types.js';
import type { Secrets } from '../../config/load.js';
import type { Outbox } from '../outbox/outbox.js';
import type { EventDoc } from '../events/declare.js';

/** A place in the compound file, for error messages (`cameras[2].id`). */
export type ConfigPath = (string | number)[];

/** One device id a family claims in the shared id space (`source.device`, `state/{device}`). */
export interface DeviceClaim {
  id: string;
  path: ConfigPath;
}

/**
 * One secret a family reads, with its name as the compound file resolves it (an explicit
 * `passwordSecret`, else the family's default such as `cameras.{id}`). `gatehouse check`
 * lists the missing ones; the family reads them through `ctx.secret(ref)`, never by
 * composing the name again.
 */
export interface SecretRef {
  name: string;
  /** Where in the compound file it is asked for. */
  path: ConfigPath;
  /** Whose it is, for the installer: "camera gate-cam" (`camera gate-cam has no password secret "cameras.gate-cam"`). */
  what: string;
  /** What it holds; default `password`. */
  kind?: 'password' | 'key';
  /** A missing required secret fails `gatehouse check`; an optional one is a warning. */
  required: boolean;
}

/** An alarm kind a family raises through the alarm sink, with its default priority. */
export interface AlarmKind {
  kind: string;
  priority: 'critical' | 'high' | 'medium' | 'low';
  /** What it means, for docs and the console. */
  description: string;
}

/** One event type a family records: its class, its `data` schema (zod), what it means. */
export interface EventDeclaration {
  type: string;
  class: EventInput['class'];
  data: z.ZodType;
  description: string;
}

/** One numbered step of a family's store (tables it owns in outbox.db). */
export interface StoreMigration {
  /** Strictly increasing per family, from 1. */
  version: number;
  description: string;
  /** Runs inside the migration transaction. */
  up(db: { exec(sql: string): unknown }): void;
}

/**
 * An owner of tables in outbox.db: its stable name (recorded in schema_migrations, never
 * renamed once shipped), its migrations, and its tables (its scoped handle may use them and
 * no other may; their presence in a database from before the registry means version 1).
 */
export interface StoreOwnerDeclaration {
  owner: string;
  migrations: StoreMigration[];
  tables: readonly string[];
}

/**
 * What families provide to each other and the core provides to all. A family lists the
 * names it needs; the registry refuses to boot when nobody provides one and starts the
 * provider first.
 */
export type Capability =
  | 'alarms' // the alarm sink (raise/clear) and the lifecycle
  | 'presence' // presence damping (track device online/offline)
  | 'broker' // the embedded MQTT broker (device accounts, device topics)
  | 'outputs' // relay outputs linkage rules drive (perimeter)
  | 'camera-linkage' // snapshots on alarm (cameras)
  | 'live-streams' // which cameras exist and their RTSP URL with credentials, for the console's live view (cameras)
  | 'media' // the snapshot store
  | 'calendar' // the access time zone and holidays
  | 'uplink-status' // whether the platform hears us right now
  | 'door-grants'; // subscribe to credentials granted at a door, decided locally (access): DoorGrants

export interface FamilyManifest<C = Record<string, unknown>> {
  /** Short, stable: the component name in status and logs. */
  name: string;
  /** The compound-file keys this family owns, composed by config/schema.ts. */
  config: z.ZodRawShape;
  /** Cross-references inside the family's slice (a reader's bus exists...). */
  check?(config: C, issue: (path: ConfigPath, message: string) => void): void;
  /** Whether the compound file uses this family at all; if not, its code is never imported. */
  configured(config: C): boolean;
  /** Device ids it claims; uniqueness across families is checked once, generically. */
  devices(config: C): DeviceClaim[];
  /**
   * Its part of `gatehouse check`'s summary line, counted from the compound file
   * (`2 door(s) with 3 reader(s)`); a family without one is counted from devices().
   */
  summary?(config: C): string;
  secrets?(config: C): SecretRef[];
  /**
   * Devices that log in to the embedded broker, with their resolved password secret; the
   * broker builds its account table from these before any family code is loaded.
   */
  brokerAccounts?(config: C): BrokerAccount[];
  /** Its part of the gateway status while not configured, so status keeps its keys and shapes. */
  idleStatus?(config: C): unknown;
  needs?: Capability[];
  /**
   * Capabilities used when some configured family provides them (started after it), and
   * `use()` gives undefined otherwise: for a feature of the compound file that is optional
   * (a swap cabinet's reader needs access control only when the cabinet has one).
   */
  wants?: Capability[];
  provides?: Capability[];
  alarms?: AlarmKind[];
  /**
   * The event types it records, with their data schemas: read by `npm run docs` to generate
   * docs/asyncapi.yaml, never at run time (so the schemas load lazily, like the family's code).
   */
  events?(): Promise<readonly EventDoc[]>;
  /** Its tables in outbox.db, each owner with numbered migrations (gateway/store/). */
  store?: readonly StoreOwnerDeclaration[];
  /** Its pages in the guard console and the kind of each device it shows there. */
  console?: FamilyConsole<C>;
  /**
   * The live check of its devices (`gatehouse check --devices`, gateway/probe/): imported
   * only by that command or the daemon's `probe` control request, like load().
   */
  probe?(): Promise<FamilyProbe<C>>;
  load(): Promise<{ create(ctx: FamilyContext<C>): FamilyInstance | Promise<FamilyInstance> }>;
}

/**
 * A page of the guard console a family owns: `public/views/{module}` served only when the
 * family is configured, under the nav link `#/{route}` (label: `nav.{route}` in public/i18n/, read through strings.js).
 */
export interface ConsoleView {
  route: string;
  module: string;
  /** Position among the family pages in the nav (the core pages frame them). */
  order: number;
}

/**
 * How the console shows a family: its pages, and the console kind of each of its devices
 * (`door`, `reader`, `zone`…: the label `dkind.{kind}` and the page that lists it), so the
 * browser never guesses a device's family from its state's keys. Cheap: declarations only.
 */
export interface FamilyConsole<C = Record<string, unknown>> {
  views?: ConsoleView[];
  devices(config: C): { id: string; kind: string }[];
}

/** A credential granted at a door by the local decision (online or offline); never the card number. */
export interface DoorGrant {
  door: string;
  /** The credential's id in the credential store (the platform's id for its holder). */
  credentialId: string;
  offline: boolean;
}

/** The `door-grants` capability: subscribe, and the returned function unsubscribes. */
export type DoorGrants = (listener: (g: DoorGrant) => void) => () => void;

/** A device account on the embedded broker (`kind` words the "N locks log in to it" reason). */
export interface BrokerAccount {
  username: string;
  secret: string;
  kind: string;
}

/** What the core hands a family at create(). */
export interface FamilyContext<C = Record<string, unknown>> {
  config: C;
  dataDir: string;
  /** Where the family records its events and device states. */
  outbox: Outbox;
  /** The secrets file, for drivers that take it whole (names still come from the manifest). */
  secrets: Secrets;
  clock: Clock;
  timers: Timers;
  log: Logger;
  logs: LoggerFactory;
  /** The secret a SecretRef names (undefined when missing). */
  secret(ref: SecretRef): string | undefined;
  /** A capability another family or the core provides; throws if it was not declared in `needs`. */
  use<T = unknown>(capability: Capability): T;
  /** What the core measures of the family (the metrics); absent when `metrics.enabled` is false. */
  observe?: GatewayObserver;
}

/** Hooks for the gateway's metrics (gateway/metrics/): plain calls, so no family imports prom-client. */
export interface GatewayObserver {
  /** One answered poll of a Modbus unit took `seconds` on `bus` (its cabinetBusKey, e.g. `tcp:10.0.0.5:502`). */
  pollCycle(bus: string, seconds: number): void;
}

export interface FamilyInstance {
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  /** The family's part of the gateway status (`gatehouse status`, the console). */
  status?(): unknown;
  commands?(): CommandDefinition[];
  /** Values for the capabilities its manifest `provides`. */
  provides?: Partial<Record<Capability, unknown>>;
}

/**
 * One device's live result in `gatehouse check --devices` and the commissioning report.
 * Everything in it may come from a device (identity strings): the report escapes it.
 */
export interface DeviceProbeResult {
  id: string;
  /** `reader`, `lock`, `cabinet`, `module`, `panel`, `camera`, `uplink`. */
  kind: string;
  ok: boolean;
  /** One word or two for the table: `online`, `OFFLINE`, `UNKNOWN (gateway stopped)`, `REFUSED`... */
  status: string;
  /** What was seen (identity, secure channel, last heard...). */
  detail: string;
  /** For a failure: what the installer does about it (wrong key, no answer at address 3 on /dev/ttyUSB0...). */
  advice?: string;
  /** Firmware and identity data for the report (vendor, model, serial, firmware...). */
  identity?: Record<string, string>;
  /** A camera's snapshot, embedded in the report. */
  snapshot?: { mime: string; base64: string };
  /** Things to fix that do not fail the check (a reader in clear text...). */
  warnings?: string[];
}

/** What a family's probe gets: its slice of the compound, and the running instance when the daemon runs it. */
export interface ProbeContext<C = Record<string, unknown>> {
  config: C;
  secrets: Secrets;
  dataDir: string;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** The most one device may take (an answer, a handshake, a snapshot). */
  deviceTimeoutMs: number;
  /** A progress line for the installer (`reader gate-in: OK`). */
  progress(line: string): void;
  /**
   * The family's running instance when the daemon runs the probe (it holds the serial ports
   * and connections; the probe goes through its drivers); undefined when the CLI opens the
   * devices itself. Only the family's own probe knows its type.
   */
  running?: FamilyInstance;
  /**
   * Rows of the daemon's outbox.db, read-only, when the daemon is not running (what it last
   * saw of devices that come to it: locks, alarm panels); undefined when there is no database.
   */
  stored?(sql: string): Record<string, unknown>[] | undefined;
}

/** A family's live check (gateway/<family>/probe.ts). */
export interface FamilyProbe<C = Record<string, unknown>> {
  probe(ctx: ProbeContext<C>): Promise<DeviceProbeResult[]>;
}
