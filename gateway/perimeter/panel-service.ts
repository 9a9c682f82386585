/**
 * PanelService: what the gateway does with the events of SIA DC-09 alarm panels.
 *
 * - Alarms and troubles become CONDITIONS on the AlarmSink (the AlarmManager owns the
 *   lifecycle, de-duplication and recording): kind `panel.<category>` for alarms
 *   (panel.burglary, panel.fire, panel.panic, panel.tamper...), `panel.ac_loss`,
 *   `panel.low_battery`, `panel.comm_trouble` and `panel.<category>_trouble` for troubles;
 *   source `{ device: <panel id>, point: 'zone-<n>' | 'area-<n>' }`; a restore clears the
 *   condition its alarm or trouble raised.
 * - Everything else is an EVENT through outbox.record, never an alarm:
 *     open/close  → class 'access', type panel.opened / panel.closed (a person disarmed or
 *                   armed the panel: an access fact, with the user number)
 *     bypass      → class 'device', type panel.bypassed / panel.unbypassed
 *     test        → class 'device', type panel.test
 *     other       → class 'device', type panel.event (unknown codes are kept, not dropped)
 * - Supervision: a panel with supervisionS > 0 that is not heard from (any accepted
 *   message: event, periodic test, NULL link test) within supervisionS × 1.5 + 30 s is
 *   offline; the next accepted message brings it back. Both are raw observations for the
 *   presence policy (gateway/presence), which announces them: `device.online` /
 *   `device.offline` {family: panel} events and the `panel.offline` (medium) condition.
 *
 * handle() resolves once every record the message produced is committed: the alarm rows
 * and alarm events (AlarmManager.committed) and the other events (outbox.record); it rejects
 * when any of them failed. The receiver ACKs only after it resolves and NAKs when it
 * rejects, so a panel is never told "received" about an alarm a crash or a full disk can
 * lose. Group commit makes the wait the shared fsync of its turn, not one of its own.
 */
import type { AlarmPriority, Dc09PanelConfig } from '../../config/schema.js';
import type { PanelEvent } from '../../drivers/dc09/events.js';
import type { Dc09ExtendedData } from '../../drivers/dc09/xdata.js';
import type { AlarmSink } from '../alarms/types.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { withUncheckedData, type EventInput, type EventSource } from '../core/events.js';
import type { Logger } from '../core/log.js';
import { passThroughPresence, type DevicePresence, type PresenceAnnouncement, type PresenceTracker } from '../presence/presence-policy.js';

export interface EventRecorder {
  record(input: EventInput): Promise<unknown>;
}

/** An AlarmSink that can say when what a batch of raise/clear calls wrote is committed (AlarmManager). */
export interface CommittingAlarmSink extends AlarmSink {
  committed<T>(fn: () => T): Promise<T>;
}

export interface PanelServiceOptions {
  panels: Dc09PanelConfig[];
  sink: CommittingAlarmSink;
  outbox: EventRecorder;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** Decides what of a panel's raw online/offline is announced; default: everything. */
  presence?: PresenceTracker;
}

/** Where an accepted message came from, for the data of events and the logs. */
export interface PanelMessageMeta {
  seq: string;
  token: string;
  encrypted: boolean;
  transport: 'tcp' | 'udp';
  remote: string;
  /** The panel's own timestamp (epoch ms), when it sent one. */
  panelTime?: number;
  /** The message's extended data blocks (`[X…]`, `[V…]`...), when it had any. */
  extended?: Dc09ExtendedData;
}

/** Grace added to 1.5 supervision intervals before a silent panel is offline. */
export const SUPERVISION_GRACE_S = 30;

const PRIORITY: Record<string, AlarmPriority> = {
  'panel.fire': 'critical',
  'panel.panic': 'critical',
  'panel.duress': 'critical',
  'panel.gas': 'critical',
  'panel.burglary': 'high',
  'panel.perimeter': 'high',
  'panel.medical': 'high',
  'panel.tamper': 'high',
  'panel.water': 'high',
  'panel.offline': 'medium',
  'panel.fire_trouble': 'medium',
  'panel.comm_trouble': 'medium',
};

const TROUBLE_KIND: Partial<Record<string, string>> = { ac: 'panel.ac_loss', battery: 'panel.low_battery', comm: 'panel.comm_trouble' };

export function conditionKind(ev: PanelEvent): string | undefined {
  const of = ev.kind === 'restore' ? ev.restoreOf : ev.kind;
  if (of === 'alarm') return `panel.${ev.category}`;
  if (of === 'trouble') return TROUBLE_KIND[ev.category] ?? `panel.${ev.category}_trouble`;
  return undefined;
}

export function conditionPriority(kind: string): AlarmPriority {
  return PRIORITY[kind] ?? 'low';
}

export function eventSource(panel: Dc09PanelConfig, ev: PanelEvent): EventSource {
  // Zone 0 / 000 is the panel itself in both formats (AC, battery, panel tamper): use the area.
  if (ev.zone !== null && ev.zone > 0) return { device: panel.id, point: `zone-${ev.zone}` };
  if (ev.area !== null) return { device: panel.id, point: `area-${ev.area}` };
  return { device: panel.id };
}

interface Supervised {
  panel: Dc09PanelConfig;
  timer?: TimerHandle;
  offline: boolean;
  lastHeard?: number;
  presence: DevicePresence;
}

export class PanelService {
  private readonly opts: PanelServiceOptions;
  private readonly supervised = new Map<string, Supervised>();
  private started = false;

  constructor(opts: PanelServiceOptions) {
    this.opts = opts;
    const tracker = opts.presence ?? passThroughPresence;
    for (const p of opts.panels) {
      const s: Supervised = { panel: p, offline: false, presence: undefined as unknown as DevicePresence };
      s.presence = tracker.track(p.id, 'panel', (a) => this.announce(s, a));
      this.supervised.set(p.id, s);
    }
  }

  /** Arms the supervision timers: a panel never heard since start is offline after the same delay. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const s of this.supervised.values()) this.arm(s);
  }

  stop(): void {
    this.started = false;
    for (const s of this.supervised.values()) {
      s.timer?.cancel();
      delete s.timer;
    }
  }

  /** Milliseconds since the panel was last heard (any accepted message), undefined if never since start. */
  heardAgoMs(panelId: string): number | undefined {
    const at = this.supervised.get(panelId)?.lastHeard;
    return at === undefined ? undefined : this.opts.clock.monotonic() - at;
  }

  isOffline(panelId: string): boolean {
    return this.supervised.get(panelId)?.offline ?? false;
  }

  /** Any accepted message from the panel: it is alive. */
  heard(panelId: string): void {
    const s = this.supervised.get(panelId);
    if (!s) return;
    s.lastHeard = this.opts.clock.monotonic();
    if (s.offline) {
      s.offline = false;
      this.opts.log.info({ panel: panelId }, 'DC-09 panel heard again');
    }
    s.presence.observe(true);
    if (this.started) this.arm(s);
  }

  /** What the presence policy decided to announce: the device event and the panel.offline condition. */
  private announce(s: Supervised, a: PresenceAnnouncement): void {
    const source = { device: s.panel.id };
    if (a.online) {
      void this.recordInput({ class: 'device', type: 'device.online', source, data: { family: 'panel' } });
      this.opts.sink.clear('panel.offline', source, { heardAt: this.opts.clock.now() });
      return;
    }
    const silentS = (a.detail?.silentS as number | null | undefined) ?? null;
    void this.recordInput({ class: 'device', type: 'device.offline', source, data: { family: 'panel', reason: a.reason ?? 'silent' } });
    this.opts.sink.raise({
      kind: 'panel.offline',
      source,
      priority: 'medium',
      data: { account: s.panel.account, supervisionS: s.panel.supervisionS, silentS },
    });
  }

  /** Hands the decoded events of one accepted message to the gateway; resolves once all of it is committed. */
  async handle(panel: Dc09PanelConfig, events: PanelEvent[], meta: PanelMessageMeta): Promise<void> {
    const records: Promise<unknown>[] = [];
    const alarms = this.opts.sink.committed(() => this.apply(panel, events, meta, records));
    // allSettled first: every write has finished (none left running) before the answer is decided.
    const results = await Promise.allSettled([alarms, ...records]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private apply(panel: Dc09PanelConfig, events: PanelEvent[], meta: PanelMessageMeta, records: Promise<unknown>[]): void {
    for (const ev of events) {
      const data: Record<string, unknown> = {
        account: panel.account,
        protocol: ev.protocol,
        code: ev.code,
        text: ev.text,
        area: ev.area,
        zone: ev.zone,
        seq: meta.seq,
      };
      if (ev.user !== undefined) data.user = ev.user;
      if (ev.note !== undefined) data.note = ev.note;
      if (ev.panelText !== undefined) data.panelText = ev.panelText;
      if (ev.blocks !== undefined) data.blocks = ev.blocks;
      if (meta.panelTime !== undefined) data.panelTime = new Date(meta.panelTime).toISOString();
      if (meta.extended) {
        data.extended = meta.extended;
        // On the alarm itself, so the console can offer the panel's video/audio verification link.
        if (meta.extended.verificationUrl !== undefined) data.verificationUrl = meta.extended.verificationUrl;
      }
      const source = eventSource(panel, ev);
      const kind = conditionKind(ev);
      if (kind && ev.kind === 'restore') {
        this.opts.sink.clear(kind, source, data);
      } else if (kind) {
        // A panel that never sends restores reports one-shot alarms (closable once handled).
        this.opts.sink.raise({
          kind,
          source,
          priority: conditionPriority(kind),
          data,
          ...(panel.sendsRestores ? {} : { momentary: true }),
        });
      } else {
        records.push(this.record(ev, source, data));
      }
    }
  }

  /** `data` is the DC-09 message's PanelEventData, assembled field by field by the processor. */
  private record(ev: PanelEvent, source: EventSource, data: Record<string, unknown>): Promise<unknown> {
    let input: EventInput;
    switch (ev.kind) {
      case 'open':
      case 'close':
        input = withUncheckedData({
          class: 'access',
          type: ev.kind === 'open' ? 'panel.opened' : 'panel.closed',
          source: { device: source.device, ...(ev.area !== null ? { point: `area-${ev.area}` } : {}) },
          data,
        });
        break;
      case 'bypass':
        input = withUncheckedData({ class: 'device', type: ev.restored ? 'panel.unbypassed' : 'panel.bypassed', source, data });
        break;
      case 'test':
        input = withUncheckedData({ class: 'device', type: 'panel.test', source: { device: source.device }, data });
        break;
      default:
        input = withUncheckedData({ class: 'device', type: 'panel.event', source, data });
    }
    return this.recordInput(input);
  }

  /** Records one event; a failure is logged here and left to the caller (the ACK path turns it into a NAK). */
  private recordInput(input: EventInput): Promise<unknown> {
    const recorded = this.opts.outbox.record(input);
    const failed = 'recording a DC-09 panel event failed: the panel gets a NAK and retries';
    recorded.catch((err: unknown) => this.opts.log.error({ err, type: input.type, panel: input.source.device }, failed));
    return recorded;
  }

  private arm(s: Supervised): void {
    s.timer?.cancel();
    delete s.timer;
    const interval = s.panel.supervisionS;
    if (!interval || interval <= 0 || s.offline) return;
    const deadlineMs = (interval * 1.5 + SUPERVISION_GRACE_S) * 1000;
    s.timer = this.opts.timers.setTimeout(() => {
      delete s.timer;
      if (s.offline) return;
      s.offline = true;
      const silentS = s.lastHeard === undefined ? undefined : Math.round((this.opts.clock.monotonic() - s.lastHeard) / 1000);
      this.opts.log.warn({ panel: s.panel.id, supervisionS: interval, silentS }, 'DC-09 panel silent: offline');
      s.presence.observe(false, 'silent', { silentS: silentS ?? null });
    }, deadlineMs);
  }
}
