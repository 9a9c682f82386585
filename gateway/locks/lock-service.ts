/**
 * The smart locks of the compound: one SmartLockDriver per configured lock, wired to the
 * embedded broker's in-process transport, their events recorded in the outbox, their
 * state kept as retained `state/{lock}`, and their commands offered to the router. Tamper
 * and an announced outage are conditions: the raw event is recorded, then the condition is
 * reported to the alarm sink (kinds and priorities in alarm-kinds.ts).
 *
 * Nothing here waits on the uplink: events are recorded locally and the outbox delivers.
 */
import type { LockConfig } from '../../config/schema.js';
import { SmartLockDriver, type LockTransport } from '../../drivers/smartlock/driver.js';
import type { LockDeviceEvent } from '../../drivers/smartlock/types.js';
import type { Clock, Timers } from '../core/clock.js';
import type { CommandDefinition } from '../commands/types.js';
import { isGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { conditionOfEvent, reportCondition } from '../alarms/report.js';
import type { AlarmSink } from '../alarms/types.js';
import { DEVICE_OFFLINE_ALARM } from '../presence/alarm-kinds.js';
import { lockCommands } from './commands.js';
import { toPlatformEvent, toPlatformState } from './events.js';
import { passThroughPresence, type DevicePresence, type PresenceAnnouncement, type PresenceTracker } from '../presence/presence-policy.js';

/**
 * The embedded broker as the lock service sees it: a transport that reports disconnects
 * and, optionally, lets the service take a lock's events before they are acknowledged.
 */
export interface LockBroker extends LockTransport {
  on(event: 'clientOffline', listener: (clientId: string) => void): unknown;
  off(event: 'clientOffline', listener: (clientId: string) => void): unknown;
  gate?(pattern: string, handler: (clientId: string, topic: string, payload: Buffer) => Promise<void>): () => void;
}

export interface LockServiceOptions {
  locks: readonly LockConfig[];
  /** The embedded broker (preferred: its disconnect reports speed up offline detection)… */
  broker?: LockBroker;
  /** …or any transport, e.g. an in-memory bus in tests. */
  transport?: LockTransport;
  outbox: Pick<Outbox, 'record' | 'setState'>;
  /** Where tamper and offline conditions go (the alarm manager). */
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  log: Logger;
  commandTimeoutMs?: number;
  /** Decides what of a lock's raw online/offline is announced (gateway/presence); default: everything. */
  presence?: PresenceTracker;
}

/** Retained state is rewritten on every change, and otherwise this often to refresh lastSeen. */
const STATE_REFRESH_MS = 5 * 60_000;
/** One protocol warning per lock and code per window: a broken lock must not flood the log. */
const PROTOCOL_WARN_WINDOW_MS = 60_000;

export class LockService {
  private readonly drivers = new Map<string, SmartLockDriver>();
  private readonly presence = new Map<string, DevicePresence>();
  private readonly transport: LockTransport;
  private readonly lastStateWrite = new Map<string, number>();
  private readonly lastProtocolWarn = new Map<string, number>();
  private running = false;
  /** Records started while one gated lock message is handled: its PUBACK waits for them. */
  private collecting: Promise<unknown>[] | undefined;
  private readonly onClientOffline = (id: string): void => this.drivers.get(id)?.connectionLost();

  constructor(private readonly opts: LockServiceOptions) {
    const transport = opts.broker ?? opts.transport;
    if (!transport) throw new Error('LockService needs a broker or a transport');
    this.transport = transport;
    for (const cfg of opts.locks) {
      const driver = new SmartLockDriver({
        id: cfg.id,
        transport: this.gatedTransport(cfg.id, transport),
        clock: opts.clock,
        timers: opts.timers,
        offlineAfterMs: cfg.offlineAfterMs,
        ...(opts.commandTimeoutMs !== undefined ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
      });
      driver.on('event', (e) => this.onEvent(e));
      this.drivers.set(cfg.id, driver);
      this.presence.set(
        cfg.id,
        (opts.presence ?? passThroughPresence).track(cfg.id, 'lock', (a) => this.announce(cfg.id, a)),
      );
    }
  }

  /**
   * A lock's events (QoS 1 on `.../evt`) are acknowledged only once committed: through the
   * broker's gate, the driver handles the message before the PUBACK, and the PUBACK waits
   * for every record that handling started. A failed commit withholds the PUBACK (the lock
   * sends again) and forgets the event id so that resend is not dropped as a duplicate.
   * Other topics (status, state, command answers) go through the plain subscription.
   */
  private gatedTransport(id: string, transport: LockTransport): LockTransport {
    const broker = this.opts.broker;
    if (!broker?.gate) return transport;
    const gate = broker.gate.bind(broker);
    return {
      publish: (topic, payload, opts) => transport.publish(topic, payload, opts),
      subscribe: (pattern, handler) => {
        if (!pattern.endsWith('/evt')) return transport.subscribe(pattern, handler);
        return gate(pattern, (_clientId, topic, payload) => {
          const commits = this.collect(() => handler(topic, payload));
          return commits.catch((err: unknown) => {
            const eid = eventIdOf(payload);
            if (eid !== undefined) this.drivers.get(id)?.forgetEid(eid);
            throw err;
          });
        });
      },
    };
  }

  private collect(handle: () => void): Promise<void> {
    const outer = this.collecting;
    const mine: Promise<unknown>[] = [];
    this.collecting = mine;
    try {
      handle();
    } finally {
      this.collecting = outer;
    }
    return Promise.all(mine).then(() => undefined);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.opts.broker?.on('clientOffline', this.onClientOffline);
    for (const d of this.drivers.values()) d.start();
    this.opts.log.info({ locks: this.drivers.size }, 'lock service started');
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.opts.broker?.off('clientOffline', this.onClientOffline);
    for (const d of this.drivers.values()) d.stop();
  }

  commands(): CommandDefinition[] {
    return lockCommands((id) => this.drivers.get(id));
  }

  driver(id: string): SmartLockDriver | undefined {
    return this.drivers.get(id);
  }

  /** The current snapshot of every lock, e.g. for the console and `status`. */
  states(): Record<string, ReturnType<SmartLockDriver['snapshot']>> {
    return Object.fromEntries([...this.drivers].map(([id, d]) => [id, d.snapshot()]));
  }

  private onEvent(e: LockDeviceEvent): void {
    if (e.type === 'protocol_error') return this.warnProtocol(e);
    if (e.type === 'state') {
      const now = this.opts.clock.monotonic();
      const last = this.lastStateWrite.get(e.lock);
      if (!e.changed && last !== undefined && now - last < STATE_REFRESH_MS) return;
      this.writeState(e.lock, e.state);
      return;
    }
    // Raw presence goes to the policy; it calls announce() with what is to be said.
    if (e.type === 'online') return this.presence.get(e.lock)?.observe(true);
    if (e.type === 'offline') return this.presence.get(e.lock)?.observe(false, e.reason);
    const input = toPlatformEvent(e);
    if (!input) return;
    if (e.type === 'tamper') this.opts.log.warn({ lock: e.lock, type: input.type, data: input.data }, 'lock event');
    else this.opts.log.debug({ lock: e.lock, type: input.type }, 'lock event');
    const committed = this.opts.outbox.record(input);
    this.collecting?.push(committed);
    committed.catch((err: unknown) => this.recordFailed(err, input.type, e.lock));
    // After its raw event, so the platform hears `lock.tamper` before the `alarm.raised` it causes.
    if (e.type === 'tamper') reportCondition(this.opts.sink, conditionOfEvent(input), this.opts.log);
  }

  private announce(lock: string, a: PresenceAnnouncement): void {
    const input = toPlatformEvent(a.online ? { type: 'online', lock } : { type: 'offline', lock, reason: a.reason ?? 'unknown' });
    if (!input) return;
    if (!a.online) this.opts.log.warn({ lock, type: input.type, data: input.data }, 'lock event');
    this.opts.outbox.record(input).catch((err: unknown) => this.recordFailed(err, input.type, lock));
    // An announced outage is one device.offline alarm (the policy announces each outage once).
    const offline = { kind: DEVICE_OFFLINE_ALARM.kind, source: input.source, active: !a.online, data: { ...input.data } };
    reportCondition(this.opts.sink, offline, this.opts.log);
    const driver = this.drivers.get(lock);
    if (driver) this.writeState(lock, driver.snapshot());
  }

  /** The retained state with presence as announced (a flapping lock stays offline there too). */
  private writeState(lock: string, snapshot: ReturnType<SmartLockDriver['snapshot']>): void {
    this.lastStateWrite.set(lock, this.opts.clock.monotonic());
    const body = { ...toPlatformState(snapshot), online: this.presence.get(lock)?.announced === true };
    this.opts.outbox.setState(lock, body).catch((err: unknown) => this.recordFailed(err, 'state', lock));
  }

  private warnProtocol(e: Extract<LockDeviceEvent, { type: 'protocol_error' }>): void {
    const key = `${e.lock}|${e.code}`;
    const now = this.opts.clock.monotonic();
    const last = this.lastProtocolWarn.get(key);
    if (last !== undefined && now - last < PROTOCOL_WARN_WINDOW_MS) return;
    this.lastProtocolWarn.set(key, now);
    this.opts.log.warn({ lock: e.lock, code: e.code, topic: e.topic, reason: e.message }, 'lock sent a message that was refused');
  }

  private recordFailed(err: unknown, what: string, lock: string): void {
    // During shutdown the outbox closes before late events settle; that is not news.
    if (isGatehouseError(err, 'OUTBOX_CLOSED'))
      return void this.opts.log.debug({ lock, what }, 'outbox closed; lock event dropped at shutdown');
    this.opts.log.error({ lock, what, err: (err as Error).message }, 'could not record a lock event');
  }
}

/** The lock's own event id in a raw `evt` payload, if it has one. */
function eventIdOf(payload: Buffer): string | undefined {
  try {
    const eid = (JSON.parse(payload.toString()) as { eid?: unknown }).eid;
    return typeof eid === 'string' ? eid : undefined;
  } catch {
    return undefined;
  }
}
