/**
 * One presence policy for every device family (readers, locks, cabinets, input modules,
 * DC-09 panels, cameras). A family reports RAW observations of a device ("it answered",
 * "it stopped answering, because...") and the policy decides what is ANNOUNCED: the family's
 * announce callback records `device.online` / `device.offline`, writes the retained
 * presence and raises or clears the family's offline alarm on the alarm sink (its own kind:
 * `reader.offline`, `module.offline`, `panel.offline`, or `device.offline` of alarm-kinds.ts
 * for locks and cabinets), but only when the policy says so: one alarm per outage. What the
 * family does operationally (re-send a lock state, drop a half-typed PIN) stays on the raw
 * observation.
 *
 * Damping: announced changes are counted over `windowMs`. A change beyond `maxChanges`
 * starts a flapping episode: the device is announced offline (if it was online), one
 * `device.flapping` alarm is raised, and nothing more is announced until the device has
 * answered without a break for the episode's hold (`holdMs`, doubling per episode up to
 * `maxHoldMs`). Then it is announced online; the alarm clears once it has also stayed up for
 * that long after the release (one alarm per flapping spell, not one per episode). A device
 * that goes down again within `resetAfterMs` of a release is held at once, without free
 * changes: so a device costs the platform a bounded number of events per hour whatever it
 * does (≤ 20 with the defaults, a reader's offline alarm events included).
 *
 * Planned stops: stop() silences every announcement (a gateway going down is not its devices
 * going down), and markStopped() leaves each device's retained state saying so.
 */
import type { PresenceConfig } from '../../config/schema.js';
import type { AlarmSink } from '../alarms/types.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { DEVICE_FLAPPING_ALARM } from './alarm-kinds.js';

export type DeviceFamily = 'reader' | 'lock' | 'cabinet' | 'module' | 'panel' | 'camera';

/** What the policy tells a family to announce. `detail` is the one given with the raw observation. */
export interface PresenceAnnouncement {
  online: boolean;
  reason?: string;
  detail?: Record<string, unknown>;
}

export type Announce = (a: PresenceAnnouncement) => void;

/** One device as the family sees the policy. */
export interface DevicePresence {
  /** A raw observation: the device answered (true) or stopped answering (false, with why). */
  observe(online: boolean, reason?: string, detail?: Record<string, unknown>): void;
  /** What is announced now: null before the first observation. */
  readonly announced: boolean | null;
}

/** What a family needs to get a DevicePresence: the policy, or a pass-through in unit tests. */
export interface PresenceTracker {
  track(device: string, family: DeviceFamily, announce: Announce): DevicePresence;
}

/** The retained state of every device while the gateway is stopped (planned stop, not an outage). */
export const GATEWAY_STOPPED = { online: null, reason: 'gateway_stopped' } as const;

export interface PresencePolicyOptions {
  config: PresenceConfig;
  clock: Clock;
  timers: Timers;
  /** Where the `device.flapping` alarm goes (the alarm manager). */
  sink: AlarmSink;
  log: Logger;
}

interface Tracked extends DevicePresence {
  device: string;
  family: DeviceFamily;
  announced: boolean | null;
  raw: boolean | null;
  lastUp?: { reason?: string; detail?: Record<string, unknown> };
  /** Monotonic times of announced changes, oldest first (only those inside the window matter). */
  changes: number[];
  held: boolean;
  episodes: number;
  holdMs: number;
  releasedAt: number | undefined;
  release: TimerHandle | undefined;
  /** The device.flapping alarm is raised (across episodes, until the device stays up after a release). */
  flappingRaised: boolean;
  clearFlapping: TimerHandle | undefined;
  announce: Announce;
}

export class PresencePolicy implements PresenceTracker {
  private readonly devices = new Map<string, Tracked>();
  private stopped = false;

  constructor(private readonly opts: PresencePolicyOptions) {}

  track(device: string, family: DeviceFamily, announce: Announce): DevicePresence {
    const t: Tracked = {
      device,
      family,
      announce,
      announced: null,
      raw: null,
      changes: [],
      held: false,
      episodes: 0,
      holdMs: this.opts.config.holdMs,
      releasedAt: undefined,
      release: undefined,
      flappingRaised: false,
      clearFlapping: undefined,
      observe: (online, reason, detail) => this.observe(t, online, reason, detail),
    };
    this.devices.set(device, t);
    return t;
  }

  /** Every device the families registered, with its family. */
  tracked(): { device: string; family: DeviceFamily; announced: boolean | null }[] {
    return [...this.devices.values()].map((t) => ({ device: t.device, family: t.family, announced: t.announced }));
  }

  /** Devices held offline as flapping right now, for status and the console. */
  flapping(): string[] {
    return [...this.devices.values()].filter((t) => t.held).map((t) => t.device);
  }

  /** A planned stop: from now on nothing is announced, no hold is released. */
  stop(): void {
    this.stopped = true;
    for (const t of this.devices.values()) {
      t.release?.cancel();
      t.release = undefined;
      t.clearFlapping?.cancel();
      t.clearFlapping = undefined;
    }
  }

  /**
   * Rewrites each tracked device's retained state with `online: null, reason: gateway_stopped`,
   * keeping the rest of what it last said (call after the families stopped, before the uplink
   * does). Devices without a retained state (DC-09 panels) get none.
   */
  async markStopped(outbox: Pick<Outbox, 'readStates' | 'setState'>): Promise<void> {
    const last = new Map(outbox.readStates().map((s) => [s.device, s.body]));
    await Promise.all(
      [...this.devices.keys()]
        .filter((device) => last.has(device))
        .map((device) => {
          let body: Record<string, unknown> = {};
          try {
            const parsed = JSON.parse(last.get(device)!) as unknown;
            if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
          } catch {
            // An unreadable body is replaced by the stopped marker alone.
          }
          delete body.ts;
          return outbox.setState(device, { ...body, ...GATEWAY_STOPPED });
        }),
    );
  }

  private observe(t: Tracked, online: boolean, reason: string | undefined, detail: Record<string, unknown> | undefined): void {
    if (this.stopped) return;
    if (online) t.lastUp = { ...(reason !== undefined ? { reason } : {}), ...(detail ? { detail } : {}) };
    if (t.raw === online) return;
    t.raw = online;
    const now = this.opts.clock.monotonic();
    if (t.held) {
      // Only an unbroken run of answers releases a held device.
      t.release?.cancel();
      t.release = online ? this.opts.timers.setTimeout(() => this.releaseHold(t), t.holdMs) : undefined;
      return;
    }
    if (t.announced === online) return;
    if (t.announced === null) {
      // The first thing learnt after start is not a change: nothing to count.
      return this.say(t, announcement(online, reason, detail));
    }
    const { windowMs, maxChanges, resetAfterMs } = this.opts.config;
    t.changes = t.changes.filter((at) => now - at < windowMs);
    const recentlyHeld = t.releasedAt !== undefined && now - t.releasedAt < resetAfterMs;
    if (t.episodes > 0 && !recentlyHeld) t.episodes = 0;
    if (!online && (t.changes.length >= maxChanges || t.episodes > 0)) return this.hold(t, reason, detail);
    if (online && t.changes.length >= maxChanges) {
      // It came back once too often: stay announced offline and wait for it to settle.
      this.hold(t, reason, detail);
      t.release = this.opts.timers.setTimeout(() => this.releaseHold(t), t.holdMs);
      return;
    }
    t.changes.push(now);
    this.say(t, announcement(online, reason, detail));
  }

  private hold(t: Tracked, reason: string | undefined, detail: Record<string, unknown> | undefined): void {
    const { holdMs, maxHoldMs, windowMs } = this.opts.config;
    t.episodes++;
    t.holdMs = Math.min(holdMs * 2 ** (t.episodes - 1), maxHoldMs);
    t.held = true;
    this.opts.log.warn(
      { device: t.device, family: t.family, episode: t.episodes, holdMs: t.holdMs },
      'device is flapping: held offline until it answers without a break',
    );
    t.clearFlapping?.cancel();
    t.clearFlapping = undefined;
    if (t.announced !== false) this.say(t, announcement(false, reason ?? 'flapping', detail));
    // One alarm for the whole spell: a device held again soon after a release is already raised.
    if (t.flappingRaised) return;
    t.flappingRaised = true;
    try {
      this.opts.sink.raise({
        // Its priority is the one declared in alarm-kinds.ts.
        kind: DEVICE_FLAPPING_ALARM.kind,
        source: { device: t.device },
        data: { family: t.family, changes: t.changes.length + 1, windowMs, holdMs: t.holdMs, episode: t.episodes },
      });
    } catch (err) {
      this.opts.log.error({ device: t.device, err: (err as Error).message }, 'flapping alarm could not be raised');
    }
  }

  private releaseHold(t: Tracked): void {
    t.release = undefined;
    if (this.stopped || !t.held || t.raw !== true) return;
    t.held = false;
    t.releasedAt = this.opts.clock.monotonic();
    t.changes = [];
    this.opts.log.info({ device: t.device, family: t.family, stableMs: t.holdMs }, 'flapping device stable again: announced online');
    this.say(t, announcement(true, t.lastUp?.reason, t.lastUp?.detail));
    // The alarm clears when the device has stayed up as long again (a new hold cancels this).
    t.clearFlapping = this.opts.timers.setTimeout(() => this.clearFlapping(t), t.holdMs);
  }

  private clearFlapping(t: Tracked): void {
    t.clearFlapping = undefined;
    if (this.stopped || t.held || !t.flappingRaised) return;
    t.flappingRaised = false;
    try {
      this.opts.sink.clear(DEVICE_FLAPPING_ALARM.kind, { device: t.device }, { stableMs: 2 * t.holdMs });
    } catch (err) {
      this.opts.log.error({ device: t.device, err: (err as Error).message }, 'flapping alarm could not be cleared');
    }
  }

  private say(t: Tracked, a: PresenceAnnouncement): void {
    t.announced = a.online;
    try {
      t.announce(a);
    } catch (err) {
      // A family's recording failure must not wedge the policy for the other devices.
      this.opts.log.error({ device: t.device, family: t.family, err: (err as Error).message }, 'presence announcement failed');
    }
  }
}

function announcement(online: boolean, reason: string | undefined, detail: Record<string, unknown> | undefined): PresenceAnnouncement {
  return { online, ...(reason !== undefined ? { reason } : {}), ...(detail ? { detail } : {}) };
}

/**
 * No damping: every raw change is announced at once. For unit tests of one family and for
 * families built outside a gateway; the gateway always gives its PresencePolicy.
 */
export const passThroughPresence: PresenceTracker = {
  track(_device, _family, announce) {
    const t = {
      announced: null as boolean | null,
      observe(online: boolean, reason?: string, detail?: Record<string, unknown>) {
        if (t.announced === online) return;
        t.announced = online;
        announce(announcement(online, reason, detail));
      },
    };
    return t;
  },
};
