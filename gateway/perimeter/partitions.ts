/**
 * Partitions: groups of perimeter zones armed and disarmed as a whole.
 *
 * - By schedule: a partition with an `armSchedule` is armed during that schedule's windows
 *   (perimeter.armSchedules, in access.timezone, access.holidays honoured), e.g. nights.
 * - By command: `partition.arm` / `partition.disarm` override the schedule until its next
 *   edge (a window opening or closing); then the schedule rules again. A partition without
 *   a schedule stays as commanded.
 *
 * The edge is detected, not computed: an override remembers what the schedule said when it
 * was given and ends at the first evaluation where the schedule says otherwise. Evaluations
 * run at every wall-clock minute boundary (windows are whole minutes) and at start.
 *
 * Every change is an event (class `alarm`: the guard needs to know what is armed) and the
 * state is kept in the `perimeter_partitions` table of outbox.db, so a restart comes back
 * armed as it was; if an edge passed while the gateway was down, the schedule applies.
 * (Two edges while down, e.g. a whole night window missed, look like none: the override
 * stays, which errs towards what a person last asked for.)
 */
import type { StoreScope } from '../store/scope.js';
import type { PartitionConfig, ScheduleConfig } from '../../config/schema.js';
import { isOpenAt } from '../access/schedule.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';

export interface PartitionStatus {
  armed: boolean;
  /** `schedule`, or the principal whose command set it. */
  by: string;
  /** Wall ms of the last change. */
  since: number;
  /** A command holds the state until the next schedule edge. */
  override: boolean;
  /** Zones tripped when it was armed (not raised until back to normal). */
  notReady: string[];
}

interface Row extends PartitionStatus {
  /** What the schedule said when the override was given. */
  scheduleAt: boolean;
}

export interface PartitionsDeps {
  partitions: readonly PartitionConfig[];
  schedules: Record<string, ScheduleConfig>;
  timeZone: string;
  holidays: readonly string[];
  db: StoreScope;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** Sets the zones of a partition armed or not; returns the zones that are not ready. */
  apply(partition: string, armed: boolean): string[];
  record(e: EventInput): void;
  publish(partition: string, status: PartitionStatus): void;
}

export interface ArmResult {
  partition: string;
  armed: boolean;
  by: string;
  changed: boolean;
  notReady: string[];
}

export class Partitions {
  private readonly rows = new Map<string, Row>();
  private readonly cfg = new Map<string, PartitionConfig>();
  private readonly holidays: ReadonlySet<string>;
  private timer: TimerHandle | undefined;
  private readonly stmts;

  constructor(private readonly d: PartitionsDeps) {
    for (const p of d.partitions) this.cfg.set(p.id, p);
    this.holidays = new Set(d.holidays);
    this.stmts = {
      all: d.db.prepare('SELECT partition, armed, by, since, override, schedule_at FROM perimeter_partitions'),
      put: d.db.prepare(
        'INSERT INTO perimeter_partitions (partition, armed, by, since, override, schedule_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(partition) DO UPDATE SET armed = excluded.armed, by = excluded.by, since = excluded.since, override = excluded.override, schedule_at = excluded.schedule_at',
      ),
    };
  }

  /** Restores the stored states, applies them to the zones, then follows the schedules. */
  start(): void {
    const stored = this.stmts.all.all() as {
      partition: string;
      armed: number;
      by: string;
      since: number;
      override: number;
      schedule_at: number;
    }[];
    for (const r of stored) {
      if (!this.cfg.has(r.partition)) continue;
      this.rows.set(r.partition, {
        armed: r.armed === 1,
        by: r.by,
        since: r.since,
        override: r.override === 1,
        scheduleAt: r.schedule_at === 1,
        notReady: [],
      });
    }
    for (const id of this.cfg.keys()) {
      const row = this.rows.get(id) ?? {
        armed: false,
        by: 'schedule',
        since: this.d.clock.now(),
        override: false,
        scheduleAt: false,
        notReady: [],
      };
      this.rows.set(id, row);
      // Quietly: the zones start disarmed, and this is the state everyone already knew.
      row.notReady = row.armed ? this.d.apply(id, true) : [];
      this.d.publish(id, this.status(id));
    }
    this.evaluate();
    this.scheduleTick();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  status(id: string): PartitionStatus {
    const r = this.row(id);
    return { armed: r.armed, by: r.by, since: r.since, override: r.override, notReady: [...r.notReady] };
  }

  all(): Record<string, PartitionStatus> {
    return Object.fromEntries([...this.cfg.keys()].map((id) => [id, this.status(id)]));
  }

  /** A command: holds `armed` until the partition's next schedule edge. */
  command(id: string, armed: boolean, principal: string): ArmResult {
    const row = this.row(id);
    const now = this.d.clock.now();
    row.override = true;
    row.scheduleAt = this.scheduled(id, now);
    if (row.armed === armed) {
      this.save(id, row);
      return { partition: id, armed, by: row.by, changed: false, notReady: [...row.notReady] };
    }
    this.change(id, row, armed, principal, now);
    return { partition: id, armed, by: principal, changed: true, notReady: [...row.notReady] };
  }

  /** Re-reads every schedule; exported for tests and for a clock that jumped. */
  evaluate(): void {
    const now = this.d.clock.now();
    for (const id of this.cfg.keys()) {
      const row = this.row(id);
      const sched = this.scheduled(id, now);
      if (row.override && this.cfg.get(id)!.armSchedule && sched !== row.scheduleAt) {
        row.override = false;
        this.d.log.info({ partition: id, armed: sched }, 'schedule edge: the command override ends');
        if (row.armed === sched) this.save(id, row);
      }
      if (!row.override && row.armed !== sched) this.change(id, row, sched, 'schedule', now);
    }
  }

  private scheduled(id: string, now: number): boolean {
    const name = this.cfg.get(id)?.armSchedule;
    const schedule = name ? this.d.schedules[name] : undefined;
    return schedule ? isOpenAt(schedule, this.holidays, this.d.timeZone, now) : false;
  }

  private change(id: string, row: Row, armed: boolean, by: string, now: number): void {
    row.armed = armed;
    row.by = by;
    row.since = now;
    row.notReady = this.d.apply(id, armed);
    this.save(id, row);
    this.d.log.info({ partition: id, armed, by, notReady: row.notReady }, armed ? 'partition armed' : 'partition disarmed');
    this.d.record({
      class: 'alarm',
      type: armed ? 'partition.armed' : 'partition.disarmed',
      source: { device: id },
      data: { partition: id, by, notReady: [...row.notReady] },
    });
    this.d.publish(id, this.status(id));
  }

  private save(id: string, row: Row): void {
    try {
      this.stmts.put.run(id, row.armed ? 1 : 0, row.by, row.since, row.override ? 1 : 0, row.scheduleAt ? 1 : 0);
    } catch (err) {
      // The zones follow the new state anyway; only a restart would forget it.
      this.d.log.error({ partition: id, err: (err as Error).message }, 'could not store the partition state');
    }
  }

  private row(id: string): Row {
    const r = this.rows.get(id);
    if (!r) throw new GatehouseError('DEVICE_UNKNOWN', `no partition "${id}" in the compound file`, { partition: id });
    return r;
  }

  /** Next wall-clock minute boundary (+5 ms so the new minute is surely current). */
  private scheduleTick(): void {
    const now = this.d.clock.now();
    const ms = 60_000 - (now % 60_000) + 5;
    this.timer = this.d.timers.setTimeout(() => {
      this.evaluate();
      this.scheduleTick();
    }, ms);
  }
}
