/**
 * The camera family (issue 6): one CameraConnection per configured camera, what their
 * events become, availability, snapshots and PTZ presets.
 *
 * What camera events become (decided here; docs/asyncapi.yaml and README "Cameras" say the same):
 * - tamper (scene change: covered, sprayed, turned) → alarm condition `camera.tamper`,
 *   high, raised while the camera says so and cleared when it stops;
 * - line crossing → alarm condition `camera.line`, high, momentary (nothing clears it);
 *   field intrusion (object inside a drawn area) → `camera.field`, high, raised/cleared.
 *   Both are rules an installer drew on purpose (a tripwire along the fence), so they mean
 *   "someone is where they should not be";
 * - motion → not an alarm by default: cell motion fires on trees, rain and headlights and
 *   would bury the guard. It is recorded as a `camera.motion` device event on each change,
 *   at most one `active: true` per camera per `motionMinIntervalMs`, so the platform can
 *   correlate without the uplink flooding. `motionAlarms: true` also raises `camera.motion`
 *   (low);
 * - digital input → `camera.input` device event on each change (point = input token): what
 *   is wired to it differs per site, a linkage rule or the platform decides what it means.
 * Initial states (sent when a subscription starts) update conditions but are not recorded
 * as events, so a reconnect does not repeat "motion: false" to the platform.
 *
 * Availability: `device.online` / `device.offline` {family: 'camera'} events and the
 * retained `state/{camera}` {online, model, manufacturer, firmware, profile, skewMs,
 * events, services, lastError}, as the presence policy (gateway/presence) announces them; the
 * `online`/`offline` emitter events (live view, linkage) follow the connection itself.
 *
 * Only services the camera advertised are called: without Events it is online with
 * `events: false`; PTZ commands on a camera without PTZ answer DEVICE_UNSUPPORTED.
 */
import { EventEmitter } from 'node:events';
import type { Secrets } from '../../config/load.js';
import type { CameraConfig, MediaConfig } from '../../config/schema.js';
import { fetchSnapshot } from '../../drivers/onvif/snapshot.js';
import type { AlarmSink } from '../alarms/types.js';
import type { Clock, Timers } from '../core/clock.js';
import { GatehouseError, toGatehouseError } from '../core/errors.js';
import type { EventInput } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { CameraConnection, type BackoffOptions } from './camera-connection.js';
import type { CameraControl, CameraEvent, CameraServiceEvents, CameraStatus, Preset } from './types.js';
import { passThroughPresence, type DevicePresence, type PresenceAnnouncement, type PresenceTracker } from '../presence/presence-policy.js';
import { cameraPasswordSecret } from './family.js';

export interface CameraServiceOptions {
  cameras: CameraConfig[];
  media: MediaConfig;
  secrets: Secrets;
  outbox: Pick<Outbox, 'record' | 'setState'>;
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  log: Logger;
  backoff?: Partial<BackoffOptions>;
  /** Timeout of ordinary ONVIF requests; default 5 s. */
  requestTimeoutMs?: number;
  /** Largest SOAP response accepted; default 1 MiB. */
  maxResponseBytes?: number;
  /** Liveness check while connected; default a third of offlineAfterMs, at most 10 s. */
  probeIntervalMs?: number;
  /** Raise `camera.motion` (low) alarms too; default false. */
  motionAlarms?: boolean;
  /** At most one recorded `camera.motion` active event per camera per this interval; default 10 s. */
  motionMinIntervalMs?: number;
  /** Decides what of a camera's raw online/offline is announced; default: everything. */
  presence?: PresenceTracker;
}

const ALARM_KINDS = { tamper: 'camera.tamper', line: 'camera.line', field: 'camera.field', motion: 'camera.motion' } as const;

export class CameraService extends EventEmitter<CameraServiceEvents> implements CameraControl {
  private readonly conns = new Map<string, CameraConnection>();
  private readonly configs = new Map<string, CameraConfig>();
  private readonly lastState = new Map<string, boolean>();
  private readonly lastMotionAt = new Map<string, number>();
  private readonly presence = new Map<string, DevicePresence>();

  constructor(private readonly o: CameraServiceOptions) {
    super();
    for (const cfg of o.cameras) {
      this.configs.set(cfg.id, cfg);
      this.presence.set(
        cfg.id,
        (o.presence ?? passThroughPresence).track(cfg.id, 'camera', (a) => this.announce(cfg.id, a)),
      );
      const log = o.log.child({ camera: cfg.id });
      this.conns.set(
        cfg.id,
        new CameraConnection({
          config: cfg,
          password: o.secrets.get(cameraPasswordSecret(cfg)),
          clock: o.clock,
          timers: o.timers,
          log,
          backoff: { initialMs: o.backoff?.initialMs ?? 1000, maxMs: o.backoff?.maxMs ?? 60_000 },
          requestTimeoutMs: o.requestTimeoutMs ?? 5000,
          maxResponseBytes: o.maxResponseBytes ?? 1024 * 1024,
          probeIntervalMs: o.probeIntervalMs ?? Math.max(500, Math.min(10_000, Math.floor(cfg.offlineAfterMs / 3))),
          onOnline: (s) => this.onOnline(cfg.id, s),
          onOffline: (reason) => this.onOffline(cfg.id, reason),
          onEvent: (ev) => this.onEvent(cfg.id, ev),
        }),
      );
    }
  }

  async start(): Promise<void> {
    await Promise.all([...this.conns.keys()].map((id) => this.publishState(id)));
    for (const c of this.conns.values()) c.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.conns.values()].map((c) => c.stop()));
  }

  has(camera: string): boolean {
    return this.conns.has(camera);
  }

  status(camera: string): CameraStatus | undefined {
    return this.conns.get(camera)?.status;
  }

  async snapshot(camera: string): Promise<Buffer> {
    const conn = this.conn(camera);
    const cfg = this.configs.get(camera)!;
    const password = this.o.secrets.get(cameraPasswordSecret(cfg)) ?? '';
    try {
      const uri = await conn.snapshotUri();
      return await fetchSnapshot(uri, {
        username: cfg.username,
        password,
        maxBytes: this.o.media.maxSnapshotBytes,
        timeoutMs: this.o.media.snapshotTimeoutMs,
        timers: this.o.timers,
      });
    } catch (err) {
      conn.reportFailure(err);
      throw toGatehouseError(err, 'DEVICE_PROTOCOL');
    }
  }

  async streamUri(camera: string): Promise<string> {
    const conn = this.conn(camera);
    const uri = conn.status.streamUri ?? (await conn.readyFor('media').streamUri(conn.profileToken));
    return uri;
  }

  async presets(camera: string): Promise<Preset[]> {
    const conn = this.conn(camera);
    return conn.readyFor('ptz').presets(conn.profileToken);
  }

  async gotoPreset(camera: string, preset: string): Promise<void> {
    const conn = this.conn(camera);
    const client = conn.readyFor('ptz');
    const list = await client.presets(conn.profileToken);
    const found = list.find((p) => p.token === preset) ?? list.find((p) => p.name === preset);
    if (!found)
      throw new GatehouseError('DEVICE_REFUSED', `camera ${camera} has no preset "${preset}"`, {
        camera,
        preset,
        presets: list.map((p) => p.name),
      });
    await client.gotoPreset(conn.profileToken, found.token);
  }

  async setPreset(camera: string, preset: string, name?: string): Promise<Preset> {
    const conn = this.conn(camera);
    const client = conn.readyFor('ptz');
    const list = await client.presets(conn.profileToken);
    const existing = list.find((p) => p.token === preset) ?? list.find((p) => p.name === preset);
    const newName = name ?? existing?.name ?? preset;
    const token = await client.setPreset(conn.profileToken, newName, existing?.token);
    return { token, name: newName };
  }

  private conn(camera: string): CameraConnection {
    const c = this.conns.get(camera);
    if (!c) throw new GatehouseError('DEVICE_UNKNOWN', `no camera "${camera}" in the compound file`, { camera });
    return c;
  }

  private onOnline(camera: string, s: CameraStatus): void {
    this.o.log.info({ camera, model: s.info?.model, profile: s.profile, skewMs: s.skewMs }, 'camera online');
    this.presence.get(camera)?.observe(true);
    this.emit('online', camera, s);
  }

  private onOffline(camera: string, reason: string): void {
    this.o.log.warn({ camera, reason }, 'camera offline');
    this.presence.get(camera)?.observe(false, reason);
    this.emit('offline', camera, reason);
  }

  /** What the presence policy decided to announce: the device event and the retained state. */
  private announce(camera: string, a: PresenceAnnouncement): void {
    const source = { device: camera };
    this.record(
      a.online
        ? { class: 'device', type: 'device.online', source, data: { family: 'camera' } }
        : { class: 'device', type: 'device.offline', source, data: { family: 'camera', reason: a.reason ?? 'unreachable' } },
    );
    void this.publishState(camera);
  }

  private onEvent(camera: string, ev: CameraEvent): void {
    this.emit('event', camera, ev);
    const source = {
      device: camera,
      ...(ev.point !== undefined && (ev.kind === 'input' || ev.kind === 'line' || ev.kind === 'field') ? { point: ev.point } : {}),
    };
    const data = { camera, at: new Date(ev.at).toISOString(), ...(ev.point !== undefined ? { point: ev.point } : {}) };
    const key = `${camera}|${ev.kind}|${ev.point ?? ''}`;
    const changed = this.lastState.get(key) !== ev.active;
    this.lastState.set(key, ev.active);
    switch (ev.kind) {
      case 'tamper':
      case 'field':
        if (ev.active) this.o.sink.raise({ kind: ALARM_KINDS[ev.kind], source, priority: 'high', data });
        else this.o.sink.clear(ALARM_KINDS[ev.kind], source, data);
        return;
      case 'line': {
        if (ev.initial) return;
        // Momentary: a crossing has no "gone"; the field is set through a variable so this
        // compiles against the AlarmCondition of before and after `momentary` was added.
        const condition = { kind: ALARM_KINDS.line, source, priority: 'high' as const, data, momentary: true };
        this.o.sink.raise(condition);
        return;
      }
      case 'motion':
        if (this.o.motionAlarms) {
          if (ev.active) this.o.sink.raise({ kind: ALARM_KINDS.motion, source, priority: 'low', data });
          else this.o.sink.clear(ALARM_KINDS.motion, source, data);
        }
        if (ev.initial || !changed) return;
        if (ev.active) {
          const last = this.lastMotionAt.get(camera);
          const now = this.o.clock.monotonic();
          if (last !== undefined && now - last < (this.o.motionMinIntervalMs ?? 10_000)) return;
          this.lastMotionAt.set(camera, now);
        }
        this.record({ class: 'device', type: 'camera.motion', source, data: { ...data, active: ev.active } });
        return;
      case 'input':
        if (ev.initial || !changed) return;
        this.record({ class: 'device', type: 'camera.input', source, data: { ...data, active: ev.active } });
        return;
    }
  }

  private record(e: EventInput): void {
    this.o.outbox
      .record(e)
      .catch((err) => this.o.log.error({ err: toGatehouseError(err).toJSON(), type: e.type }, 'camera event not recorded'));
  }

  private async publishState(camera: string): Promise<void> {
    const s = this.conns.get(camera)!.status;
    const online = this.presence.get(camera)?.announced === true;
    const state: Record<string, unknown> = { online, events: s.events };
    if (s.info)
      Object.assign(state, { manufacturer: s.info.manufacturer, model: s.info.model, firmware: s.info.firmware, serial: s.info.serial });
    if (s.profile) state.profile = s.profile;
    if (s.skewMs !== undefined) state.skewMs = s.skewMs;
    if (s.services) state.services = s.services;
    if (!online && s.lastError) state.lastError = s.lastError;
    await this.o.outbox
      .setState(camera, state)
      .catch((err) => this.o.log.error({ err: toGatehouseError(err).toJSON(), camera }, 'camera state not stored'));
  }
}
