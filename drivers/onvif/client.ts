/**
 * One ONVIF camera as the gateway sees it, on top of the `onvif` package's Cam (we do not
 * speak ONVIF ourselves on the client side): promises instead of callbacks, coded errors,
 * the hostile-response guard on every request, and clock skew handled.
 *
 * Skew: WS-Security digests carry a `created` time the camera checks against its own
 * clock. The package measures the camera's clock with the unauthenticated
 * GetSystemDateAndTime and keeps the difference (`timeShift`, relative to process uptime,
 * so our own wall clock stepping does not matter). A camera whose clock is stepped later
 * refuses us with NotAuthorized; we then measure again once and retry before calling the
 * credentials wrong.
 */
import { createRequire } from 'node:module';
import { GatehouseError, isGatehouseError } from '../../gateway/core/errors.js';
import { checkSoapText, DEFAULT_MAX_RESPONSE_BYTES, GuardedAgent } from './guard.js';

const require = createRequire(import.meta.url);

/** The part of the package's Cam we use; its own typings leave out timeShift and _request. */
export interface CamLike {
  timeShift?: number;
  /** Service name (device, media, media2, ptz, events, imaging...) → URL, as advertised by GetServices or GetCapabilities. */
  uri?: Record<string, { path?: string } | undefined>;
  profiles?: {
    $: { token: string };
    name?: string;
    videoEncoderConfiguration?: { encoding?: string; resolution?: { width: number; height: number } };
    PTZConfiguration?: unknown;
  }[];
  activeSource?: { profileToken: string };
  connect(cb: (err: Error | null) => void): void;
  getSystemDateAndTime(cb: (err: Error | null, date: Date) => void): void;
  _request(options: Record<string, unknown>, cb: (err: Error | null, data?: unknown, xml?: string, status?: number) => void): void;
  [method: string]: unknown;
}

const { Cam } = require('onvif') as { Cam: new (opts: Record<string, unknown>) => CamLike };

export interface OnvifCameraOptions {
  host: string;
  port: number;
  path: string;
  username: string;
  password: string;
  /** Per-request timeout (ms) for ordinary calls. */
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export interface DeviceInfo {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
}

export interface MediaProfile {
  token: string;
  name: string;
  encoding?: string;
  width?: number;
  height?: number;
  ptz: boolean;
}

export interface Preset {
  token: string;
  name: string;
}

export interface PullResult {
  messages: unknown[];
  /** Camera's termination time minus its current time, ms. */
  remainingMs: number;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Maps what the package reports into our coded errors; never includes request bodies (they carry the digest). */
export function toOnvifError(err: unknown, what: string): GatehouseError {
  if (isGatehouseError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  const msg = String(e?.message ?? err);
  if ((e?.code && NETWORK_CODES.has(e.code)) || /Network timeout|socket hang up/i.test(msg)) {
    return new GatehouseError('DEVICE_OFFLINE', `${what}: camera unreachable (${e?.code ?? msg})`, { cause: e?.code ?? msg });
  }
  if (/NotAuthori[sz]ed|not authori[sz]ed|Digest authentication failed|Unauthorized/i.test(msg)) {
    return new GatehouseError('DEVICE_AUTH_FAILED', `${what}: the camera refused the credentials`);
  }
  if (/ONVIF SOAP Fault/.test(msg)) return new GatehouseError('DEVICE_REFUSED', `${what}: ${msg.slice(0, 200)}`);
  return new GatehouseError('DEVICE_PROTOCOL', `${what}: ${msg.slice(0, 200)}`);
}

/** Services the gateway uses, by the package's name for them, and how we name them to people. */
export const SERVICE_NAMES: Record<string, string> = {
  device: 'Device',
  media: 'Media',
  media2: 'Media2',
  ptz: 'PTZ',
  events: 'Events',
  imaging: 'Imaging',
};

const escapeXml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

function unsupported(service: string, advertised: string[]): GatehouseError {
  const name = SERVICE_NAMES[service] ?? service;
  const message = `the camera does not advertise the ONVIF ${name} service (it has ${advertised.join(', ') || 'none'})`;
  return new GatehouseError('DEVICE_UNSUPPORTED', message, { service: name, services: advertised });
}

export class OnvifCamera {
  readonly cam: CamLike;
  private readonly agent: GuardedAgent;
  private readonly maxBytes: number;
  private closed = false;
  private resyncing: Promise<Date> | undefined;
  private readonly pending = new Set<(err: GatehouseError) => void>();

  constructor(opts: OnvifCameraOptions) {
    this.maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.agent = new GuardedAgent(this.maxBytes);
    this.cam = new Cam({
      hostname: opts.host,
      port: opts.port,
      path: opts.path,
      username: opts.username,
      password: opts.password,
      timeout: opts.timeoutMs ?? 5000,
      agent: this.agent,
      autoconnect: false,
      // Cameras behind NAT report their inside address in XAddrs; talk to the one configured.
      preserveAddress: true,
    });
    this.guard();
  }

  /** Wraps the package's request so every response passes the guard before it is used. */
  private guard(): void {
    // The package strips namespace declarations before it parses and hands the stripped
    // text to callbacks, so the raw text is taken from its rawResponse event, emitted just
    // before the (synchronous) xml2js parse whose callback follows in the same tick.
    let raw: string | undefined;
    (this.cam as unknown as { on(ev: string, fn: (xml: string) => void): void }).on('rawResponse', (xml) => {
      raw = xml;
    });
    const original = this.cam._request.bind(this.cam);
    this.cam._request = (options, cb) => {
      // The package posts to the literal path "events" or "ptz" when the camera did not
      // advertise that service: an invalid request target. Refuse it here instead.
      const service = options.url ? undefined : options.service;
      if (typeof service === 'string' && !this.cam.uri?.[service]) {
        const err = unsupported(service, this.services());
        return void process.nextTick(() => cb(err));
      }
      // Subscription calls pass a parsed URL instead of host/port: give them our agent too.
      if (options.url && typeof options.url === 'object') options = { ...options, url: { ...(options.url as object), agent: this.agent } };
      let done = false;
      original(options, (err, data, xml, status) => {
        if (done) return;
        done = true;
        const text = raw ?? xml;
        raw = undefined;
        const bad = typeof text === 'string' && text.length > 0 ? checkSoapText(text, this.maxBytes) : undefined;
        try {
          cb(bad ?? err, bad ? undefined : data, xml, status);
        } catch (thrown) {
          // The package's own handling of an odd answer threw (it would have been an
          // uncaught exception): fail whatever is waiting on this camera instead.
          const e = new GatehouseError(
            'DEVICE_PROTOCOL',
            `camera answer not understood: ${String((thrown as Error)?.message ?? thrown).slice(0, 200)}`,
          );
          for (const reject of [...this.pending]) reject(e);
        }
      });
    };
  }

  /** Time sync, services, profiles and video sources, as the package's connect does. */
  async connect(): Promise<void> {
    await this.callback<void>((done) => this.cam.connect((err) => done(err)), 'connect');
  }

  /** Services the camera advertised at connect (GetServices, else GetCapabilities), sorted; empty before. */
  services(): string[] {
    return Object.keys(this.cam.uri ?? {})
      .filter((k) => this.cam.uri?.[k])
      .sort();
  }

  hasService(service: string): boolean {
    return Boolean(this.cam.uri?.[service]);
  }

  /** DEVICE_UNSUPPORTED naming the service, unless the camera advertised it. */
  requireService(service: string): void {
    if (!this.hasService(service)) throw unsupported(service, this.services());
  }

  /** Camera clock minus process-uptime based time, as measured; undefined before connect. */
  get timeShift(): number | undefined {
    return this.cam.timeShift;
  }

  /**
   * Measures the camera's clock again (unauthenticated), e.g. after it was stepped. The
   * old shift stays in use until the answer is in (requests signed meanwhile must not use
   * no shift at all), and concurrent callers share one measurement.
   */
  resyncTime(): Promise<Date> {
    this.resyncing ??= this.callback<Date>((done) => this.cam.getSystemDateAndTime((err, date) => done(err, date)), 'GetSystemDateAndTime')
      .then((date) => {
        // The package's own formula (camera time relative to process uptime); it only sets it when unset.
        this.cam.timeShift = date.getTime() - process.uptime() * 1000;
        return date;
      })
      .finally(() => {
        this.resyncing = undefined;
      });
    return this.resyncing;
  }

  /** A cheap liveness check: GetSystemDateAndTime (unauthenticated), keeping the measured time shift. */
  async ping(): Promise<void> {
    await this.callback<Date>((done) => this.cam.getSystemDateAndTime((err, date) => done(err, date)), 'GetSystemDateAndTime');
  }

  /** Camera clock minus our wall clock, ms (for correcting event times). */
  skewMs(now = Date.now()): number {
    return this.cam.timeShift === undefined ? 0 : Math.round(this.cam.timeShift + process.uptime() * 1000 - now);
  }

  async deviceInfo(): Promise<DeviceInfo> {
    const d = await this.call<Record<string, unknown>>('getDeviceInformation', [], 'GetDeviceInformation');
    const s = (k: string) => (d?.[k] === undefined ? '' : String(d[k]));
    return {
      manufacturer: s('manufacturer'),
      model: s('model'),
      firmware: s('firmwareVersion'),
      serial: s('serialNumber'),
      hardwareId: s('hardwareId'),
    };
  }

  profiles(): MediaProfile[] {
    return (this.cam.profiles ?? []).map((p) => ({
      token: String(p.$.token),
      name: String(p.name ?? p.$.token),
      encoding: p.videoEncoderConfiguration?.encoding,
      width: p.videoEncoderConfiguration?.resolution?.width,
      height: p.videoEncoderConfiguration?.resolution?.height,
      ptz: p.PTZConfiguration !== undefined,
    }));
  }

  async streamUri(profileToken: string): Promise<string> {
    const r = await this.call<{ uri?: unknown }>('getStreamUri', [{ protocol: 'RTSP', profileToken }], 'GetStreamUri');
    if (typeof r?.uri !== 'string') throw new GatehouseError('DEVICE_PROTOCOL', 'GetStreamUri: no URI in the answer');
    return r.uri;
  }

  async snapshotUri(profileToken: string): Promise<string> {
    const r = await this.call<{ uri?: unknown }>('getSnapshotUri', [{ profileToken }], 'GetSnapshotUri');
    if (typeof r?.uri !== 'string') throw new GatehouseError('DEVICE_PROTOCOL', 'GetSnapshotUri: no URI in the answer');
    return r.uri;
  }

  async presets(profileToken: string): Promise<Preset[]> {
    const r = await this.call<Record<string, { $: { token: unknown } }>>('getPresets', [{ profileToken }], 'GetPresets');
    return Object.entries(r ?? {}).map(([name, p]) => ({ token: String(p.$.token), name }));
  }

  async gotoPreset(profileToken: string, token: string): Promise<void> {
    await this.call('gotoPreset', [{ profileToken, preset: escapeXml(token) }], 'GotoPreset');
  }

  /** Stores the current position as a preset; returns its token (the camera's when new). */
  async setPreset(profileToken: string, name: string, token?: string): Promise<string> {
    const data = await this.call<unknown>(
      'setPreset',
      [{ profileToken, presetName: escapeXml(name), ...(token ? { presetToken: escapeXml(token) } : {}) }],
      'SetPreset',
    );
    const body = data as { setPresetResponse?: { presetToken?: unknown[] }[] }[] | undefined;
    const got = body?.[0]?.setPresetResponse?.[0]?.presetToken?.[0];
    return got === undefined ? (token ?? name) : String(got);
  }

  async createPullPoint(): Promise<void> {
    await this.call('createPullPointSubscription', [], 'CreatePullPointSubscription');
  }

  async pull(messageLimit = 20): Promise<PullResult> {
    const d = await this.call<{ notificationMessage?: unknown; currentTime?: Date; terminationTime?: Date }>(
      'pullMessages',
      [{ messageLimit }],
      'PullMessages',
    );
    const m = d?.notificationMessage;
    const remainingMs =
      d?.terminationTime instanceof Date && d.currentTime instanceof Date ? d.terminationTime.getTime() - d.currentTime.getTime() : 0;
    return { messages: m === undefined ? [] : Array.isArray(m) ? m : [m], remainingMs };
  }

  async renew(): Promise<void> {
    await this.call('renew', [{}], 'Renew');
  }

  async unsubscribe(): Promise<void> {
    await this.call('unsubscribe', [], 'Unsubscribe');
  }

  /** Cuts every open connection (a held PullMessages too); the object is unusable after. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  /** Calls a package method; on NotAuthorized measures the camera clock again and retries once. */
  private async call<T>(method: string, args: unknown[], what: string): Promise<T> {
    try {
      return await this.invoke<T>(method, args, what);
    } catch (err) {
      if (!isGatehouseError(err, 'DEVICE_AUTH_FAILED') || this.closed) throw err;
      await this.resyncTime();
      return this.invoke<T>(method, args, what);
    }
  }

  private invoke<T>(method: string, args: unknown[], what: string): Promise<T> {
    const fn = this.cam[method] as (...a: unknown[]) => void;
    return this.callback<T>((done) => fn.call(this.cam, ...args, (err: Error | null, data: T) => done(err, data)), what);
  }

  private callback<T>(start: (done: (err: Error | null, data?: T) => void) => void, what: string): Promise<T> {
    if (this.closed) return Promise.reject(new GatehouseError('DEVICE_OFFLINE', `${what}: connection closed`));
    return new Promise<T>((resolve, reject) => {
      const fail = (e: GatehouseError) => {
        this.pending.delete(fail);
        reject(e);
      };
      this.pending.add(fail);
      try {
        start((err, data) => {
          this.pending.delete(fail);
          if (err) reject(toOnvifError(err, what));
          else resolve(data as T);
        });
      } catch (err) {
        // The package throws synchronously on some malformed answers (e.g. profiles that match no video source).
        fail(toOnvifError(err, what));
      }
    });
  }
}
