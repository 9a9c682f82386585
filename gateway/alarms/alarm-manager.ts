/**
 * The alarm lifecycle of types.ts: conditions in (raise/clear, called by the families that
 * own them), alarms out (events in class `alarm`, the retained `state/alarms`,
 * and EventEmitter events for linkage and the console).
 *
 * raise/clear are synchronous and never touch the disk on the caller's stack: the store
 * batches its writes per loop turn and the outbox records asynchronously. Nothing they do
 * can throw into a source: record failures and listener exceptions are logged.
 */
import { EventEmitter } from 'node:events';
import type { StoreScope } from '../store/scope.js';
import { idGenerator } from '../core/ids.js';
import type { AlarmsConfig } from '../../config/schema.js';
import { realTimers, type Clock, type TimerHandle, type Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { EventSource } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import type { AlarmKind } from '../families/family.js';
import { AlarmKinds } from './alarm-kinds.js';
import { AlarmStore } from './alarm-store.js';
import { actorData, iso } from './alarm-views.js';
import { AlarmRecorder, type AlarmEventType } from './alarm-recorder.js';
import { AlarmStatePublisher, alarmsStateBody, priorityRank, sortOpen } from './alarm-state.js';
import { FloodControl } from './flood-control.js';
import type { Alarm, AlarmActor, AlarmCondition, AlarmManagerEvents, AlarmSink } from './types.js';

export { ALARMS_STATE_DEVICE, STATE_MAX_SUMMARIES, priorityRank } from './alarm-state.js';
export { RETRIGGER_EVENT_INTERVAL_MS } from './flood-control.js';

export const alarmKey = (kind: string, source: EventSource): string => `${kind}|${source.device}|${source.point ?? ''}`;

export interface AlarmManagerOptions {
  db: StoreScope;
  outbox: Pick<Outbox, 'record' | 'setState'>;
  config: AlarmsConfig;
  clock: Clock;
  log: Logger;
  /** For flood-control trailing events, the state debounce and the restart grace; real timers by default. */
  timers?: Timers;
  /** Minimum spacing of `state/alarms` writes. */
  stateDebounceMs?: number;
  /**
   * After a restart, an alarm restored as active whose source has not reported it again
   * within this time is cleared: nobody holds the condition any more (a door machine starts
   * from "closed", so it never sends the forced_cleared that would let a guard close it).
   */
  restoreGraceMs?: number;
  /** Closed alarms stay listable (and can still get media) this long. */
  keepClosedDays?: number;
}

export interface AlarmListOptions {
  includeClosed?: boolean;
  limit?: number;
}

export class AlarmManager extends EventEmitter<AlarmManagerEvents> implements AlarmSink {
  private readonly store: AlarmStore;
  private readonly outbox: Pick<Outbox, 'record' | 'setState'>;
  private readonly config: AlarmsConfig;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly ulid = idGenerator();
  private readonly byKey = new Map<string, Alarm>();
  private readonly byId = new Map<string, Alarm>();
  private readonly floods: FloodControl;
  /** Restored active alarms no source has reported since this process started. */
  private readonly unconfirmed = new Set<string>();
  private readonly statePublisher: AlarmStatePublisher;
  private graceTimer: TimerHandle | undefined;
  private pruneTimer: TimerHandle | undefined;
  private readonly stateDebounceMs: number;
  private readonly restoreGraceMs: number;
  private readonly keepClosedMs: number;
  private stopped = false;
  private readonly recorder: AlarmRecorder;
  /** The kinds the families declared: the priority of a condition that brings none. */
  private readonly kinds: AlarmKinds;

  constructor(opts: AlarmManagerOptions) {
    super();
    this.outbox = opts.outbox;
    this.config = opts.config;
    this.clock = opts.clock;
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log;
    this.stateDebounceMs = opts.stateDebounceMs ?? 250;
    this.restoreGraceMs = opts.restoreGraceMs ?? 300_000;
    this.keepClosedMs = (opts.keepClosedDays ?? 30) * 86_400_000;
    this.kinds = new AlarmKinds(this.log);
    this.store = new AlarmStore(opts.db, (err) =>
      this.log.error({ err: err.message }, 'alarm store write failed; the alarm is kept in memory'),
    );
    this.recorder = new AlarmRecorder(this.outbox, this.log, (id) => this.byId.has(id));
    this.floods = new FloodControl({
      clock: this.clock,
      timers: this.timers,
      stopped: () => this.stopped,
      recordLate: (id) => {
        const live = this.byId.get(id);
        if (!live) return false;
        this.recordEvent(
          live.state === 'cleared' ? 'alarm.cleared' : 'alarm.retriggered',
          live,
          live.state === 'cleared' ? {} : { data: live.data },
        );
        return true;
      },
    });
    this.statePublisher = new AlarmStatePublisher({
      outbox: this.outbox,
      log: this.log,
      timers: this.timers,
      debounceMs: this.stateDebounceMs,
      body: () => this.stateBody(),
      stopped: () => this.stopped,
    });
    for (const a of this.store.loadOpen()) {
      this.byKey.set(a.key, a);
      this.byId.set(a.id, a);
      if (a.active) this.unconfirmed.add(a.id);
    }
  }

  /** Registers a family's alarm kinds with their default priorities (before its sources run). */
  declareKinds(kinds: readonly AlarmKind[]): void {
    this.kinds.declare(kinds);
  }

  /** The declared kinds, for the console and tests. */
  declaredKinds(): AlarmKind[] {
    return this.kinds.list();
  }

  /** Publishes the restored state and arms the restart grace and the daily prune. */
  start(): void {
    this.stopped = false;
    void this.statePublisher.publish(); // never rejects: a failed write is logged
    if (this.unconfirmed.size) this.graceTimer = this.timers.setTimeout(() => this.expireUnconfirmed(), this.restoreGraceMs);
    this.store.prune(this.clock.now() - this.keepClosedMs);
    this.pruneTimer = this.timers.setInterval(() => this.store.prune(this.clock.now() - this.keepClosedMs), 86_400_000);
  }

  /** Records pending flood-control events, writes the state and the store; the outbox must still be open. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.graceTimer?.cancel();
    this.pruneTimer?.cancel();
    for (const id of this.floods.drainPending()) {
      const a = this.byId.get(id);
      if (a) this.recordEvent(a.state === 'cleared' ? 'alarm.cleared' : 'alarm.retriggered', a);
    }
    this.store.flush();
    this.statePublisher.cancel();
    await this.statePublisher.publish();
  }

  /**
   * Runs raise/clear calls; resolves once the alarm rows and the events they recorded on the
   * spot are committed (a re-trigger event held back by flood control is not waited for, the
   * row counting it is), rejects when one failed. For sources that ACK to a device (DC-09).
   */
  async committed<T>(fn: () => T): Promise<T> {
    const outer = this.recorder.capture;
    const mine: Promise<unknown>[] = [];
    this.recorder.capture = mine;
    let result: T;
    try {
      result = fn();
    } finally {
      this.recorder.capture = outer;
    }
    outer?.push(...mine);
    mine.push(this.store.whenFlushed());
    await Promise.all(mine);
    return result;
  }

  raise(c: AlarmCondition): Alarm {
    const key = alarmKey(c.kind, c.source);
    const now = this.clock.now();
    const override = this.config.priorities[c.kind];
    // Compound file over the source's own priority over the family's declared default.
    const priority = this.kinds.priorityOf(c.kind, c.priority);
    const existing = this.byKey.get(key);
    if (!existing) {
      const alarm: Alarm = {
        id: this.ulid(now),
        key,
        kind: c.kind,
        source: c.source.point === undefined ? { device: c.source.device } : { device: c.source.device, point: c.source.point },
        priority: override ?? priority,
        state: 'raised',
        active: c.momentary !== true,
        count: 1,
        raisedAt: now,
        lastAt: now,
        data: { ...c.data },
        media: [],
      };
      this.byKey.set(key, alarm);
      this.byId.set(alarm.id, alarm);
      this.store.save(alarm);
      this.recordEvent('alarm.raised', alarm, { raisedAt: iso(now), data: alarm.data });
      this.emitSafe('raised', alarm);
      this.enforceMaxOpen();
      this.stateChanged();
      return structuredClone(alarm);
    }
    this.unconfirmed.delete(existing.id);
    existing.count++;
    existing.lastAt = now;
    Object.assign(existing.data, c.data);
    // A kind without an override escalates with its worst report, never de-escalates.
    if (override) existing.priority = override;
    else if (priorityRank(priority) > priorityRank(existing.priority)) existing.priority = priority;
    const reactivated = existing.state === 'cleared';
    if (reactivated) {
      // Keeps an acknowledgement: the guard already owns this alarm; linkage fires again to tell them.
      existing.state = existing.acknowledged ? 'acknowledged' : 'raised';
      delete existing.clearedAt;
    }
    if (c.momentary !== true) existing.active = true;
    this.store.save(existing);
    // Its raise never reached the outbox: the platform must hear of it as raised, not re-triggered.
    if (this.recorder.raiseUnrecorded(existing.id))
      this.recordEvent('alarm.raised', existing, { raisedAt: iso(existing.raisedAt), data: existing.data });
    else this.noisyEvent('alarm.retriggered', existing);
    this.emitSafe('retriggered', existing);
    if (reactivated) this.emitSafe('reactivated', existing);
    this.stateChanged();
    return structuredClone(existing);
  }

  clear(kind: string, source: EventSource, data?: Record<string, unknown>): Alarm | undefined {
    const a = this.byKey.get(alarmKey(kind, source));
    if (!a || !a.active) return undefined;
    this.unconfirmed.delete(a.id);
    const now = this.clock.now();
    a.active = false;
    a.state = 'cleared';
    a.clearedAt = now;
    a.lastAt = now;
    if (data) Object.assign(a.data, data);
    this.store.save(a);
    // The first clear always goes out at once; clears of a flapping condition are rate-limited with its re-triggers.
    if (this.floods.firstClear(a.id)) {
      this.recordEvent('alarm.cleared', a, { clearedAt: iso(now), ...(data ? { data } : {}) });
    } else this.noisyEvent('alarm.cleared', a);
    this.emitSafe('cleared', a);
    if (this.config.autoCloseOnClear.includes(a.kind)) this.doClose(a, 'auto', { by: 'gateway' });
    this.stateChanged();
    return structuredClone(a);
  }

  acknowledge(id: string, actor: AlarmActor): Alarm {
    const a = this.openAlarm(id);
    if (a.acknowledged)
      throw new GatehouseError('ALARM_ACKNOWLEDGED', `alarm ${id} was acknowledged by ${a.acknowledged.by}`, {
        alarmId: id,
        by: a.acknowledged.by,
      });
    a.acknowledged = {
      by: actor.by,
      ...(actor.role ? { role: actor.role } : {}),
      at: this.clock.now(),
      ...(actor.note ? { note: actor.note } : {}),
    };
    if (a.state === 'raised') a.state = 'acknowledged';
    this.store.save(a);
    this.recordEvent('alarm.acknowledged', a, actorData(actor));
    this.emitSafe('acknowledged', a);
    this.stateChanged();
    return structuredClone(a);
  }

  close(id: string, actor: AlarmActor): Alarm {
    const a = this.openAlarm(id);
    if (a.active)
      throw new GatehouseError('ALARM_ACTIVE', `the condition of alarm ${id} (${a.kind} at ${a.source.device}) still holds`, {
        alarmId: id,
        kind: a.kind,
      });
    this.doClose(a, 'operator', actor);
    this.stateChanged();
    return structuredClone(a);
  }

  /** Attaches a snapshot id (the camera family's) to an open or recently closed alarm. */
  attachMedia(id: string, mediaId: string): Alarm {
    const a = this.byId.get(id) ?? this.store.get(id);
    if (!a) throw new GatehouseError('ALARM_UNKNOWN', `no alarm ${id}`, { alarmId: id });
    if (!a.media.includes(mediaId)) a.media.push(mediaId);
    this.store.save(a);
    this.recordEvent('alarm.media', a, { mediaId });
    return structuredClone(a);
  }

  get(id: string): Alarm | undefined {
    const a = this.byId.get(id);
    return a ? structuredClone(a) : this.store.get(id);
  }

  /** Open alarms, highest priority then newest first; then, if asked, the most recently closed. */
  list(opts: AlarmListOptions = {}): Alarm[] {
    const limit = opts.limit ?? 100;
    const open = this.sortedOpen()
      .slice(0, limit)
      .map((a) => structuredClone(a));
    if (!opts.includeClosed || open.length >= limit) return open;
    return [...open, ...this.store.recentClosed(limit - open.length)];
  }

  openCount(): number {
    return this.byId.size;
  }

  /** The retained `state/alarms` body. */
  stateBody(): Record<string, unknown> {
    return alarmsStateBody(this.byId);
  }

  private sortedOpen(): Alarm[] {
    return sortOpen(this.byId.values());
  }

  private openAlarm(id: string): Alarm {
    const a = this.byId.get(id);
    if (a) return a;
    if (this.store.get(id)) throw new GatehouseError('ALARM_CLOSED', `alarm ${id} is closed`, { alarmId: id });
    throw new GatehouseError('ALARM_UNKNOWN', `no alarm ${id}`, { alarmId: id });
  }

  private doClose(a: Alarm, reason: 'operator' | 'auto' | 'overflow', actor: AlarmActor): void {
    a.state = 'closed';
    a.closed = {
      by: actor.by,
      ...(actor.role ? { role: actor.role } : {}),
      at: this.clock.now(),
      ...(actor.note ? { note: actor.note } : {}),
      reason,
    };
    this.byKey.delete(a.key);
    this.byId.delete(a.id);
    this.unconfirmed.delete(a.id);
    this.recorder.forget(a.id);
    this.floods.forget(a.id);
    this.store.save(a);
    this.recordEvent('alarm.closed', a, { ...actorData(actor), reason });
    this.emitSafe('closed', a);
  }

  /** Over maxOpen: close the least recently active alarms whose condition does not hold. Active ones are never dropped. */
  private enforceMaxOpen(): void {
    if (this.byId.size <= this.config.maxOpen) return;
    const closable = [...this.byId.values()].filter((a) => !a.active).sort((x, y) => x.lastAt - y.lastAt);
    for (const a of closable) {
      if (this.byId.size <= this.config.maxOpen) break;
      this.doClose(a, 'overflow', { by: 'gateway' });
    }
    if (this.byId.size > this.config.maxOpen)
      this.log.warn({ open: this.byId.size, maxOpen: this.config.maxOpen }, 'more active alarms than alarms.maxOpen; none is dropped');
  }

  private expireUnconfirmed(): void {
    this.graceTimer = undefined;
    const ids = [...this.unconfirmed];
    this.unconfirmed.clear();
    for (const id of ids) {
      const a = this.byId.get(id);
      if (a?.active) {
        this.log.info(
          { alarmId: id, kind: a.kind, device: a.source.device },
          'restored alarm not reported again since the restart: cleared',
        );
        this.clear(a.kind, a.source, { unconfirmedAfterRestart: true });
      }
    }
  }

  /** Records now, or once the flood window ends with whatever the alarm looks like then. */
  private noisyEvent(type: 'alarm.retriggered' | 'alarm.cleared', a: Alarm): void {
    if (this.floods.noisy(a.id)) this.recordEvent(type, a, type === 'alarm.retriggered' ? { data: a.data } : {});
  }

  private recordEvent(type: AlarmEventType, a: Alarm, extra: Record<string, unknown> = {}): void {
    // Every event carries the full count and state, so it supersedes a suppressed one.
    this.floods.superseded(a.id);
    this.recorder.record(type, a, extra);
  }

  /**
   * The disk has room again: records the alarm events it refused (in their order; each
   * carries its own times in `data`), and writes every open alarm to the store again, since
   * the store's batch of that time was lost too. Returns how many events were re-recorded.
   */
  retryUnrecorded(): number {
    const retried = this.recorder.retryUnrecorded();
    for (const a of this.byId.values()) this.store.save(a);
    this.stateChanged();
    return retried;
  }

  private emitSafe<K extends keyof AlarmManagerEvents>(event: K, a: Alarm): void {
    try {
      (this.emit as (e: K, a: Alarm) => boolean)(event, structuredClone(a));
    } catch (err) {
      this.log.error({ event, alarmId: a.id, err: (err as Error).message }, 'alarm listener failed');
    }
  }

  private stateChanged(): void {
    this.statePublisher.changed();
  }
}
