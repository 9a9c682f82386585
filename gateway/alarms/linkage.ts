/**
 * Linkage: "on an alarm from X, do Y" (compound file `linkage`). Runs when an alarm is
 * raised and when a cleared one becomes active again — not on every re-trigger, so a
 * flapping beam does not restart a siren sixty times a minute.
 *
 * Nothing here may hold up or fail the alarm: it is already recorded when the manager tells
 * us, every device call is fire-and-forget with its error logged, and each action leaves a
 * `linkage.executed` system event so an installer can see from the platform that it worked.
 *
 * Outputs: on for `seconds`, then off. A second trigger while on extends to the later of
 * the two ends, never shortens. stop() turns every output we turned on off again.
 * Cameras: preset first (the snapshot should show what the preset points at), then the
 * snapshot, attached to the alarm with attachMedia().
 */
import { EventEmitter } from 'node:events';
import type { AlarmPriority, LinkageRule } from '../../config/schema.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import type { AlarmManager } from './alarm-manager.js';
import { priorityRank } from './alarm-manager.js';
import type { Alarm, CameraLinkage, OutputDriver } from './types.js';
import type { EventDataMap } from '../core/events.js';

/** What one rule's action did: `linkage.executed` data without the alarm's part. */
type LinkageOutcome = Omit<EventDataMap['linkage.executed'], 'rule' | 'alarmId' | 'kind' | 'alarmSource'>;

export interface LinkageEngineOptions {
  rules: LinkageRule[];
  manager: Pick<AlarmManager, 'on' | 'off' | 'attachMedia'>;
  outputs?: OutputDriver;
  cameras?: CameraLinkage;
  timers: Timers;
  /** Monotonic time for output end times. */
  clock: Pick<Clock, 'monotonic'>;
  /** Where `linkage.executed` goes; without it the actions are only logged. */
  outbox?: Pick<Outbox, 'record'>;
  log: Logger;
}

export interface LinkageEvents {
  /** A `notify: console` action: the console shows the alarm prominently. */
  notify: [Alarm, { rule: number }];
}

type Action = LinkageRule['do'][number];

export class LinkageEngine extends EventEmitter<LinkageEvents> {
  /** Outputs linkage holds on, with their monotonic end time. */
  private readonly held = new Map<string, { until: number; timer: TimerHandle }>();
  private readonly onAlarm = (a: Alarm) => this.fire(a);
  private started = false;

  constructor(private readonly opts: LinkageEngineOptions) {
    super();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.opts.manager.on('raised', this.onAlarm);
    this.opts.manager.on('reactivated', this.onAlarm);
  }

  /** Stops listening and turns off every output still on; resolves when the drivers answered. */
  async stop(): Promise<void> {
    this.started = false;
    this.opts.manager.off('raised', this.onAlarm);
    this.opts.manager.off('reactivated', this.onAlarm);
    const outputs = [...this.held.keys()];
    for (const o of this.held.values()) o.timer.cancel();
    this.held.clear();
    await Promise.all(outputs.map((o) => this.drive(o, false)));
  }

  /** Outputs currently held on by linkage, with their monotonic end time. */
  outputsOn(): Record<string, number> {
    return Object.fromEntries([...this.held].map(([k, v]) => [k, v.until]));
  }

  /** All conditions a rule gives must hold; a source matches the alarm's device or point (a zone on a module). */
  static matches(rule: LinkageRule, alarm: Alarm): boolean {
    const w = rule.when;
    if (
      w.sources &&
      !w.sources.includes(alarm.source.device) &&
      !(alarm.source.point !== undefined && w.sources.includes(alarm.source.point))
    )
      return false;
    if (w.kinds && !w.kinds.includes(alarm.kind)) return false;
    if (w.minPriority && priorityRank(alarm.priority) < priorityRank(w.minPriority as AlarmPriority)) return false;
    return true;
  }

  private fire(alarm: Alarm): void {
    this.opts.rules.forEach((rule, i) => {
      if (!LinkageEngine.matches(rule, alarm)) return;
      for (const action of rule.do) {
        try {
          this.run(action, i, alarm);
        } catch (err) {
          this.opts.log.error({ rule: i, alarmId: alarm.id, err: (err as Error).message }, 'linkage action failed');
        }
      }
    });
  }

  private run(action: Action, rule: number, alarm: Alarm): void {
    if ('output' in action) return this.output(action.output, action.seconds, rule, alarm);
    if ('camera' in action) return void this.camera(action, rule, alarm);
    this.emit('notify', alarm, { rule });
    this.executed(rule, alarm, { action: 'notify', target: action.notify, ok: true });
  }

  private output(output: string, seconds: number, rule: number, alarm: Alarm): void {
    const now = this.opts.clock.monotonic();
    const until = now + seconds * 1000;
    const cur = this.held.get(output);
    if (cur && cur.until >= until) {
      this.executed(rule, alarm, { action: 'output', target: output, seconds, ok: true, extended: false });
      return;
    }
    cur?.timer.cancel();
    const timer = this.opts.timers.setTimeout(() => {
      this.held.delete(output);
      void this.drive(output, false);
    }, until - now);
    this.held.set(output, { until, timer });
    if (cur) {
      this.executed(rule, alarm, { action: 'output', target: output, seconds, ok: true, extended: true });
      return;
    }
    void this.drive(output, true).then((error) =>
      this.executed(rule, alarm, { action: 'output', target: output, seconds, ok: error === undefined, ...(error ? { error } : {}) }),
    );
  }

  /** Resolves with the error message, never rejects. */
  private async drive(output: string, on: boolean): Promise<string | undefined> {
    if (!this.opts.outputs) {
      this.opts.log.warn({ output }, 'linkage names an output but no output driver is wired');
      return 'no output driver';
    }
    try {
      await this.opts.outputs.setOutput(output, on);
      return undefined;
    } catch (err) {
      this.opts.log.error({ output, on, err: (err as Error).message }, 'linkage output failed');
      return (err as Error).message;
    }
  }

  private async camera(action: Extract<Action, { camera: string }>, rule: number, alarm: Alarm): Promise<void> {
    const cameras = this.opts.cameras;
    const base = { action: 'camera' as const, target: action.camera, ...(action.preset ? { preset: action.preset } : {}) };
    if (!cameras) {
      this.opts.log.warn({ camera: action.camera }, 'linkage names a camera but no camera family is wired');
      return this.executed(rule, alarm, { ...base, ok: false, error: 'no camera driver' });
    }
    const errors: string[] = [];
    if (action.preset) {
      try {
        await cameras.gotoPreset(action.camera, action.preset);
      } catch (err) {
        errors.push(`preset: ${(err as Error).message}`);
      }
    }
    let mediaId: string | undefined;
    if (action.snapshot) {
      try {
        mediaId = await cameras.snapshot(action.camera, alarm);
        if (mediaId !== undefined) this.opts.manager.attachMedia(alarm.id, mediaId);
      } catch (err) {
        errors.push(`snapshot: ${(err as Error).message}`);
      }
    }
    if (errors.length) this.opts.log.error({ camera: action.camera, alarmId: alarm.id, errors }, 'linkage camera action failed');
    this.executed(rule, alarm, {
      ...base,
      ok: errors.length === 0,
      ...(mediaId !== undefined ? { mediaId } : {}),
      ...(errors.length ? { error: errors.join('; ') } : {}),
    });
  }

  private executed(rule: number, alarm: Alarm, data: LinkageOutcome): void {
    const body = { rule, alarmId: alarm.id, kind: alarm.kind, alarmSource: alarm.source, ...data };
    this.opts.log.info(body, 'linkage executed');
    try {
      this.opts.outbox
        ?.record({ class: 'system', type: 'linkage.executed', source: { device: 'gateway', point: 'linkage' }, data: body })
        .catch((err: Error) => this.opts.log.error({ err: err.message }, 'linkage.executed not recorded'));
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'linkage.executed not recorded');
    }
  }
}
