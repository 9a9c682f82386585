/**
 * The life of one camera connection: connect (time sync, services, profiles), read what
 * the gateway needs, keep a PullPoint subscription pulling, check liveness, and on any
 * failure drop everything and connect again with exponential backoff.
 *
 * Availability is debounced: a camera is announced offline only once it has been failing
 * for `offlineAfterMs` (a dropped subscription that reconnects at once is not an outage),
 * and online again on the first successful connect after that.
 */
import type { CameraConfig } from '../../config/schema.js';
import { OnvifCamera } from '../../drivers/onvif/client.js';
import { normaliseNotification, type CameraEvent } from '../../drivers/onvif/events.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { GatehouseError, toGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { CameraStatus } from './types.js';
import { cameraPasswordSecret } from './family.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export interface ConnectionDeps {
  config: CameraConfig;
  /** undefined: the secret is missing; the camera is reported offline with a reason saying so. */
  password: string | undefined;
  clock: Clock;
  timers: Timers;
  log: Logger;
  backoff: BackoffOptions;
  requestTimeoutMs: number;
  maxResponseBytes: number;
  /** Liveness check interval while connected. */
  probeIntervalMs: number;
  onOnline(status: CameraStatus): void;
  onOffline(reason: string): void;
  onEvent(event: CameraEvent): void;
}

export class CameraConnection {
  readonly id: string;
  status: CameraStatus;
  private client: OnvifCamera | undefined;
  private gen = 0;
  private attempt = 0;
  private failingSince: number | undefined;
  private announced: 'online' | 'offline' | undefined;
  private retryTimer: TimerHandle | undefined;
  private offlineTimer: TimerHandle | undefined;
  private probeTimer: TimerHandle | undefined;
  private stopped = true;
  private snapshotUriCache: string | undefined;

  constructor(private readonly d: ConnectionDeps) {
    this.id = d.config.id;
    this.status = { camera: this.id, online: false, events: false };
  }

  start(): void {
    this.stopped = false;
    this.failingSince = this.d.clock.monotonic();
    this.armOfflineTimer();
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.gen++;
    for (const t of [this.retryTimer, this.offlineTimer, this.probeTimer]) t?.cancel();
    const client = this.client;
    this.client = undefined;
    if (client && this.status.events) {
      // Best effort: free the camera's subscription slot now rather than at its expiry.
      await new Promise<void>((resolve) => {
        const t = this.d.timers.setTimeout(resolve, 1000);
        client.unsubscribe().then(
          () => (t.cancel(), resolve()),
          () => (t.cancel(), resolve()),
        );
      });
    }
    client?.close();
  }

  /** The connected client, or DEVICE_OFFLINE. */
  ready(): OnvifCamera {
    if (!this.client || !this.status.online)
      throw new GatehouseError('DEVICE_OFFLINE', `camera ${this.id} is not connected`, {
        camera: this.id,
        ...(this.status.lastError ? { lastError: this.status.lastError } : {}),
      });
    return this.client;
  }

  get profileToken(): string {
    const p = this.status.profile;
    if (!p) throw new GatehouseError('DEVICE_OFFLINE', `camera ${this.id} is not connected`);
    return p;
  }

  /** The connected client, once the camera advertised `service`; else DEVICE_UNSUPPORTED naming it (or DEVICE_OFFLINE). */
  readyFor(service: string): OnvifCamera {
    const client = this.ready();
    try {
      client.requireService(service);
    } catch (err) {
      const e = toGatehouseError(err);
      throw new GatehouseError(e.code, `camera ${this.id}: ${e.message}`, { camera: this.id, ...e.details });
    }
    return client;
  }

  /** The snapshot URI of the chosen profile, asked once per connection, pointed at the configured host. */
  async snapshotUri(): Promise<string> {
    if (this.snapshotUriCache) return this.snapshotUriCache;
    const uri = new URL(await this.readyFor('media').snapshotUri(this.profileToken));
    // The picture comes from the camera we configured, whatever address it believes it has
    // (NAT), so a hostile answer cannot send our credentials elsewhere.
    uri.hostname = this.d.config.host;
    this.snapshotUriCache = uri.toString();
    return this.snapshotUriCache;
  }

  /** Reports a failure seen by a caller (snapshot, PTZ) that means the camera is gone. */
  reportFailure(err: unknown): void {
    const e = toGatehouseError(err);
    if (e.code === 'DEVICE_OFFLINE' && this.client) this.lost(this.gen, e);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.gen;
    const cfg = this.d.config;
    if (this.d.password === undefined) {
      return this.lost(gen, new GatehouseError('CONFIG_INVALID', `no secret ${cameraPasswordSecret(cfg)} for camera ${cfg.id}`));
    }
    const client = new OnvifCamera({
      host: cfg.host,
      port: cfg.port,
      path: cfg.path,
      username: cfg.username,
      password: this.d.password,
      timeoutMs: this.d.requestTimeoutMs,
      maxResponseBytes: this.d.maxResponseBytes,
    });
    this.client = client;
    this.snapshotUriCache = undefined;
    try {
      await client.connect();
      const info = await client.deviceInfo();
      const profiles = client.profiles();
      const profile = cfg.profile ?? profiles[0]?.token;
      if (!profile || !profiles.some((p) => p.token === profile)) {
        throw new GatehouseError(
          'DEVICE_PROTOCOL',
          cfg.profile
            ? `camera has no media profile "${cfg.profile}" (it has ${profiles.map((p) => p.token).join(', ') || 'none'})`
            : 'camera lists no media profile',
        );
      }
      const streamUri = await client.streamUri(profile).catch(() => undefined);
      if (gen !== this.gen) return void client.close();
      const skewMs = client.skewMs(this.d.clock.now());
      const services = client.services();
      this.status = {
        camera: cfg.id,
        online: true,
        info,
        profiles,
        profile,
        ...(streamUri ? { streamUri } : {}),
        skewMs,
        events: false,
        services,
      };
      if (Math.abs(skewMs) > 60_000)
        this.d.log.warn(
          { camera: cfg.id, skewMs },
          'camera clock is off; authenticating with its own time, but its event times are corrected by this much',
        );
      // A camera without an Events service is online all the same (snapshots, presets, live
      // view); subscribing would only fail and look like a lost connection.
      if (cfg.events && !client.hasService('events')) {
        this.d.log.info({ camera: cfg.id, services }, 'camera advertises no ONVIF Events service; online without camera events');
      }
      if (cfg.events && client.hasService('events')) {
        await client.createPullPoint();
        if (gen !== this.gen) return void client.close();
        this.status.events = true;
      }
    } catch (err) {
      return this.lost(gen, err);
    }
    this.attempt = 0;
    this.failingSince = undefined;
    this.offlineTimer?.cancel();
    this.offlineTimer = undefined;
    this.probeTimer = this.d.timers.setInterval(() => this.probe(gen), this.d.probeIntervalMs);
    if (this.announced !== 'online') {
      this.announced = 'online';
      this.d.onOnline(this.status);
    }
    if (this.status.events) void this.pullLoop(gen, client);
  }

  private async pullLoop(gen: number, client: OnvifCamera): Promise<void> {
    while (gen === this.gen && !this.stopped) {
      try {
        const r = await client.pull();
        if (gen !== this.gen) return;
        // Measured again after a clock step (client.resyncTime), so read it per batch.
        const skew = client.skewMs(this.d.clock.now());
        this.status.skewMs = skew;
        for (const m of r.messages) {
          const ev = normaliseNotification(m, skew, this.d.clock.now());
          if (!ev) continue;
          try {
            this.d.onEvent(ev);
          } catch (err) {
            this.d.log.error({ camera: this.id, err }, 'camera event handler failed');
          }
        }
        // Renew well before the camera drops the subscription (it was asked for two minutes).
        if (r.remainingMs < 60_000) await client.renew();
      } catch (err) {
        return this.lost(gen, err);
      }
    }
  }

  private probe(gen: number): void {
    const client = this.client;
    if (!client || gen !== this.gen) return;
    client.ping().catch((err) => this.lost(gen, err));
  }

  private lost(gen: number, err: unknown): void {
    if (gen !== this.gen || this.stopped) return;
    this.gen++;
    const e = toGatehouseError(err);
    this.probeTimer?.cancel();
    this.client?.close();
    this.client = undefined;
    this.status = { ...this.status, online: false, events: false, lastError: e.code };
    this.d.log.warn({ camera: this.id, code: e.code, error: e.message, attempt: this.attempt }, 'camera connection failed; retrying');
    if (this.failingSince === undefined) {
      this.failingSince = this.d.clock.monotonic();
      this.armOfflineTimer();
    }
    const delay = Math.min(this.d.backoff.maxMs, this.d.backoff.initialMs * 2 ** this.attempt);
    this.attempt++;
    this.retryTimer?.cancel();
    this.retryTimer = this.d.timers.setTimeout(() => void this.connect(), delay);
  }

  private armOfflineTimer(): void {
    this.offlineTimer?.cancel();
    if (this.announced === 'offline') return;
    const since = this.failingSince ?? this.d.clock.monotonic();
    const wait = Math.max(0, since + this.d.config.offlineAfterMs - this.d.clock.monotonic());
    this.offlineTimer = this.d.timers.setTimeout(() => {
      this.offlineTimer = undefined;
      if (this.stopped || this.status.online || this.announced === 'offline') return;
      this.announced = 'offline';
      this.d.onOffline(reasonOf(this.status.lastError));
    }, wait);
  }
}

function reasonOf(code: string | undefined): string {
  switch (code) {
    case 'DEVICE_AUTH_FAILED':
      return 'auth_failed';
    case 'DEVICE_RESPONSE_REFUSED':
    case 'DEVICE_PROTOCOL':
      return 'protocol_error';
    case 'CONFIG_INVALID':
      return 'missing_secret';
    default:
      return 'unreachable';
  }
}
