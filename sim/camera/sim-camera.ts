/**
 * A simulated ONVIF camera (Profile S subset) over real HTTP, SOAP 1.2 and UDP, written by
 * us so the driver is tested against a device whose behaviour we control: a skewed clock,
 * wrong passwords, a camera that vanishes and comes back, events on demand.
 *
 * Services: Device (GetSystemDateAndTime unauthenticated, GetDeviceInformation,
 * GetCapabilities, GetServices), Media (GetProfiles, GetVideoSources, GetStreamUri,
 * GetSnapshotUri), PTZ (GetPresets, GotoPreset, SetPreset), Events (PullPoint). Every call
 * but GetSystemDateAndTime needs a WS-Security UsernameToken digest whose `created` is within
 * `authWindowMs` of the camera's own (skewed) clock. The snapshot URL needs HTTP Digest.
 * The RTSP stream itself is not served here: `rtspUrl` is whatever the RTSP side offers.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HttpAuthenticator } from './http-digest.js';
import { testJpeg } from './jpeg.js';
import * as R from './responses.js';
import { DiscoveryResponder, type DiscoveryOptions } from './sim-discovery.js';
import { PullPointManager, type SimNotification } from './sim-events.js';
import { SimServices, type SimServiceOptions } from './sim-services.js';
import { createPullPoint, subscriptionCall, type PullPointHost } from './pull-point-soap.js';
import { bodyAction, envelope, fault, textOf, UsernameTokenChecker } from './soap.js';

export interface SimCameraOptions {
  id: string;
  username: string;
  password: string;
  /** What GetStreamUri answers (the RTSP server is another component's). */
  rtspUrl?: string;
  /** Camera clock minus true time, ms (+300_000 = five minutes fast). */
  skewMs?: number;
  /** Address to bind and advertise; default 127.0.0.1. */
  host?: string;
  /** HTTP port; default 0 (a free one). */
  port?: number;
  /** One or two media profiles (main and sub stream); default 2. */
  profiles?: 1 | 2;
  /** How far `created` may be from the camera's clock; default 30 s. */
  authWindowMs?: number;
  /** HTTP status of a WS-Security refusal: the core spec says 400, many cameras send 401. */
  authFailureStatus?: 400 | 401;
  /** Snapshot URL protection; default digest. */
  snapshotAuth?: 'digest' | 'basic';
  /** Longest a PullMessages is held waiting for an event; a real camera holds up to the asked Timeout. Default 10 s. */
  maxPullHoldMs?: number;
  /** WS-Discovery responder; false for none. Default: UDP 3702 multicast. */
  discovery?: DiscoveryOptions | false;
  name?: string;
  hardware?: string;
  /** Optional services, all on by default; a camera without Events or PTZ leaves them out of GetServices and GetCapabilities. */
  services?: SimServiceOptions;
  /** false: GetServices is not implemented (an ONVIF 1.0 camera), clients must fall back to GetCapabilities. */
  getServices?: boolean;
}

export interface SimCameraStats {
  soapRequests: number;
  authFailures: number;
  snapshots: number;
  /** Authorization schemes the snapshot URL has seen, in order. */
  snapshotSchemes: string[];
  /** SOAP requests posted to a path that is no service of this camera (answered 404), in order. */
  badPaths: string[];
}

const MAX_REQUEST_BYTES = 256 * 1024;

export class SimulatedCamera {
  readonly id: string;
  readonly endpoint = `urn:uuid:${randomUUID()}`;
  readonly presets = new Map<string, string>([['preset_1', 'Home']]);
  currentPreset: string | undefined;
  readonly stats: SimCameraStats = { soapRequests: 0, authFailures: 0, snapshots: 0, snapshotSchemes: [], badPaths: [] };
  readonly identity: R.SimIdentity;
  skewMs: number;
  httpPort = 0;
  private online = false;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly users: Map<string, string>;
  private readonly auth: UsernameTokenChecker;
  private readonly httpAuth: HttpAuthenticator;
  private readonly pullPoints: PullPointManager;
  private readonly discovery: DiscoveryResponder | undefined;
  private readonly profiles: R.SimProfile[];
  private readonly services: SimServices;
  private readonly state = { motion: false, tamper: false, field: false, inputs: new Map<string, boolean>([['DI_1', false]]) };
  private presetSeq = 2;
  private jpeg: Buffer = Buffer.alloc(0);

  constructor(private readonly opts: SimCameraOptions) {
    this.id = opts.id;
    this.skewMs = opts.skewMs ?? 0;
    this.users = new Map([[opts.username, opts.password]]);
    this.auth = new UsernameTokenChecker(() => this.users, opts.authWindowMs ?? 30_000);
    this.httpAuth = new HttpAuthenticator(
      `Sim camera ${opts.id}`,
      () => this.users,
      () => opts.snapshotAuth ?? 'digest',
    );
    this.pullPoints = new PullPointManager(() => opts.maxPullHoldMs ?? 10_000);
    this.services = new SimServices(opts.services);
    this.identity = {
      manufacturer: 'Gatehouse',
      model: 'SimCam 2000',
      firmware: '1.0.0',
      serial: `SIM-${opts.id}`,
      hardwareId: opts.hardware ?? 'SimCam-HW1',
    };
    this.profiles = [{ token: 'profile_1', name: 'MainStream', width: 1920, height: 1080, ptz: this.hasPtz }];
    if ((opts.profiles ?? 2) === 2) this.profiles.push({ token: 'profile_2', name: 'SubStream', width: 640, height: 360, ptz: false });
    if (opts.discovery !== false) {
      this.discovery = new DiscoveryResponder(
        { endpoint: this.endpoint, xaddr: () => this.xaddr, scopes: () => this.scopes(), online: () => this.online },
        opts.discovery ?? {},
      );
    }
  }

  get hasEvents(): boolean {
    return this.services.events;
  }
  get hasPtz(): boolean {
    return this.services.ptz;
  }

  get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }
  get xaddr(): string {
    return `http://${this.host}:${this.httpPort}/onvif/device_service`;
  }
  get discoveryPort(): number | undefined {
    return this.discovery?.port;
  }
  /** The camera's own clock. */
  cameraNow(): number {
    return Date.now() + this.skewMs;
  }
  /** Live PullPoint subscriptions, for tests. */
  get subscriptions(): number {
    return this.pullPoints.count;
  }

  async start(): Promise<void> {
    this.jpeg = testJpeg();
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await this.listen(this.opts.port ?? 0);
    await this.discovery?.start();
  }

  async stop(): Promise<void> {
    await this.goOffline();
    await this.discovery?.stop();
  }

  // ---- scenario helpers ----
  motion(on: boolean): void {
    this.state.motion = on;
    this.publish('tns1:RuleEngine/CellMotionDetector/Motion', this.analyticsSource('MyMotionDetectorRule'), [
      { name: 'IsMotion', value: String(on) },
    ]);
  }
  tamper(on = true): void {
    this.state.tamper = on;
    this.publish(
      'tns1:VideoSource/GlobalSceneChange/ImagingService',
      [{ name: 'Source', value: 'VS_1' }],
      [{ name: 'State', value: String(on) }],
    );
  }
  digitalInput(on: boolean, token = 'DI_1'): void {
    this.state.inputs.set(token, on);
    this.publish('tns1:Device/Trigger/DigitalInput', [{ name: 'InputToken', value: token }], [{ name: 'LogicalState', value: String(on) }]);
  }
  lineCrossed(objectId = 1): void {
    this.publish('tns1:RuleEngine/LineDetector/Crossed', this.analyticsSource('MyLineDetectorRule'), [
      { name: 'ObjectId', value: String(objectId) },
    ]);
  }
  fieldInside(on: boolean): void {
    this.state.field = on;
    this.publish('tns1:RuleEngine/FieldDetector/ObjectsInside', this.analyticsSource('MyFieldDetectorRule'), [
      { name: 'IsInside', value: String(on) },
    ]);
  }
  setSkew(ms: number): void {
    this.skewMs = ms;
  }
  setPassword(password: string): void {
    this.users.set(this.opts.username, password);
  }
  /** Drops off the network: listening stops, open connections (held pulls too) are cut, subscriptions are lost. */
  async goOffline(): Promise<void> {
    if (!this.server) return;
    this.online = false;
    this.pullPoints.clear();
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
  /** Back on the network at the same address and port. */
  async comeBack(): Promise<void> {
    if (this.online) return;
    await this.listen(this.httpPort);
  }

  // ---- internals ----
  private async listen(port: number): Promise<void> {
    const server = this.server!;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.httpPort = (server.address() as { port: number }).port;
    this.online = true;
  }

  private scopes(): string[] {
    const enc = (s: string) => encodeURIComponent(s);
    return [
      'onvif://www.onvif.org/type/video_encoder',
      ...(this.hasPtz ? ['onvif://www.onvif.org/type/ptz'] : []),
      'onvif://www.onvif.org/Profile/Streaming',
      `onvif://www.onvif.org/name/${enc(this.opts.name ?? `SimCam ${this.id}`)}`,
      `onvif://www.onvif.org/hardware/${enc(this.identity.hardwareId)}`,
      'onvif://www.onvif.org/location/compound',
    ];
  }

  private analyticsSource(rule: string) {
    return [
      { name: 'VideoSourceConfigurationToken', value: 'VSC_1' },
      { name: 'VideoAnalyticsConfigurationToken', value: 'VAC_1' },
      { name: 'Rule', value: rule },
    ];
  }

  private publish(topic: string, source: SimNotification['source'], data: SimNotification['data']): void {
    this.pullPoints.publish({ topic, utcTime: this.cameraNow(), operation: 'Changed', source, data });
  }

  private initialState(): SimNotification[] {
    const at = this.cameraNow();
    const n = (topic: string, source: SimNotification['source'], data: SimNotification['data']): SimNotification => ({
      topic,
      utcTime: at,
      operation: 'Initialized',
      source,
      data,
    });
    return [
      n('tns1:RuleEngine/CellMotionDetector/Motion', this.analyticsSource('MyMotionDetectorRule'), [
        { name: 'IsMotion', value: String(this.state.motion) },
      ]),
      n(
        'tns1:VideoSource/GlobalSceneChange/ImagingService',
        [{ name: 'Source', value: 'VS_1' }],
        [{ name: 'State', value: String(this.state.tamper) }],
      ),
      ...[...this.state.inputs].map(([token, on]) =>
        n('tns1:Device/Trigger/DigitalInput', [{ name: 'InputToken', value: token }], [{ name: 'LogicalState', value: String(on) }]),
      ),
      n('tns1:RuleEngine/FieldDetector/ObjectsInside', this.analyticsSource('MyFieldDetectorRule'), [
        { name: 'IsInside', value: String(this.state.field) },
      ]),
    ];
  }

  private pullPointHost(): PullPointHost {
    return { pullPoints: this.pullPoints, now: () => this.cameraNow(), base: this.base() };
  }

  private base(): string {
    return `http://${this.host}:${this.httpPort}`;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' && req.url?.startsWith('/onvif/snapshot/')) return this.snapshot(req, res);
    if (req.method !== 'POST') return void res.writeHead(405).end();
    if (!this.services.servesPath(req.url ?? '')) {
      // What a camera does with a request to a service it does not have (the `onvif`
      // package's fallback posts to the literal path "events" or "ptz").
      this.stats.badPaths.push(req.url ?? '');
      return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      this.soap(req, Buffer.concat(chunks).toString('utf8'))
        .then(([status, xml]) => {
          if (res.destroyed) return;
          res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8' }).end(xml);
        })
        .catch(() => res.destroyed || res.writeHead(500).end(fault('Receiver', 'ter:Action', 'internal error')));
    });
  }

  private async soap(req: IncomingMessage, xml: string): Promise<[number, string]> {
    this.stats.soapRequests++;
    const action = bodyAction(xml);
    if (!action) return [400, fault('Sender', 'ter:WellFormed', 'No operation in the SOAP body')];
    if (action === 'GetSystemDateAndTime') return [200, envelope(R.systemDateAndTime(this.cameraNow()))];
    const auth = this.auth.check(xml, this.cameraNow());
    if (!auth.ok) {
      this.stats.authFailures++;
      return [this.opts.authFailureStatus ?? 400, fault('Sender', 'ter:NotAuthorized', 'Sender not Authorized')];
    }
    const x = this.services.xaddrs(this.base());
    const missing = this.services.missingFor(action);
    if (missing) return [400, fault('Receiver', 'ter:ActionNotSupported', `${missing} service not supported by this camera`)];
    const ok = (body: string): [number, string] => [200, envelope(body)];
    const profile = textOf(xml, 'ProfileToken');
    const badProfile = profile !== undefined && !this.profiles.some((p) => p.token === profile);
    if (badProfile) return [400, fault('Sender', 'ter:InvalidArgVal', 'No such profile')];
    switch (action) {
      case 'GetDeviceInformation':
        return ok(R.deviceInformation(this.identity));
      case 'GetCapabilities':
        return ok(R.capabilities(x));
      case 'GetServices':
        if (this.opts.getServices === false) {
          return [400, fault('Receiver', 'ter:ActionNotSupported', 'GetServices is not supported by this camera')];
        }
        return ok(R.services(x));
      case 'GetProfiles':
        return ok(R.profiles(this.profiles));
      case 'GetVideoSources':
        return ok(R.videoSources());
      case 'GetStreamUri':
        return ok(R.mediaUri('GetStreamUri', this.opts.rtspUrl ?? `rtsp://${this.host}:8554/${this.id}/${profile ?? 'profile_1'}`));
      case 'GetSnapshotUri':
        return ok(R.mediaUri('GetSnapshotUri', `${this.base()}/onvif/snapshot/${profile ?? 'profile_1'}.jpg`));
      case 'GetPresets':
        return ok(R.presets(this.presets));
      case 'GotoPreset': {
        const token = textOf(xml, 'PresetToken');
        if (!token || !this.presets.has(token)) return [400, fault('Sender', 'ter:InvalidArgVal', 'No such preset')];
        this.currentPreset = token;
        return ok('<tptz:GotoPresetResponse/>');
      }
      case 'SetPreset': {
        const name = textOf(xml, 'PresetName') ?? '';
        const token = textOf(xml, 'PresetToken') ?? `preset_${this.presetSeq++}`;
        if (!name && !this.presets.has(token)) return [400, fault('Sender', 'ter:InvalidArgVal', 'PresetName required')];
        this.presets.set(token, name || this.presets.get(token)!);
        this.currentPreset = token;
        return ok(`<tptz:SetPresetResponse><tptz:PresetToken>${token}</tptz:PresetToken></tptz:SetPresetResponse>`);
      }
      case 'CreatePullPointSubscription':
        return ok(createPullPoint(this.pullPointHost(), xml, () => this.initialState()));
      case 'PullMessages':
      case 'Renew':
      case 'Unsubscribe':
        return subscriptionCall(this.pullPointHost(), action, req.url ?? '', xml);
      default:
        return [400, fault('Receiver', 'ter:ActionNotSupported', `${action} is not supported by this simulator`)];
    }
  }

  private snapshot(req: IncomingMessage, res: ServerResponse): void {
    const verdict = this.httpAuth.check(req);
    this.stats.snapshotSchemes.push(verdict.scheme ?? 'none');
    if (!verdict.ok)
      return void res.writeHead(401, { 'WWW-Authenticate': verdict.challenge ?? '', 'Content-Type': 'text/plain' }).end('Unauthorized');
    const token = /^\/onvif\/snapshot\/([\w-]+)\.jpg$/.exec(req.url ?? '')?.[1];
    if (!token || !this.profiles.some((p) => p.token === token)) return void res.writeHead(404).end();
    this.stats.snapshots++;
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': this.jpeg.length }).end(this.jpeg);
  }
}

export interface SimCameraSpec {
  id: string;
  username: string;
  password: string;
  rtspUrl?: string;
  skewMs?: number;
}

/** Starts one simulated camera per spec; `extra` applies to all (host, discovery, profiles...). */
export async function startSimulatedCameras(
  specs: SimCameraSpec[],
  extra: Omit<SimCameraOptions, keyof SimCameraSpec> = {},
): Promise<SimulatedCamera[]> {
  const cams: SimulatedCamera[] = [];
  try {
    for (const spec of specs) {
      const cam = new SimulatedCamera({ ...extra, ...spec });
      await cam.start();
      cams.push(cam);
    }
  } catch (err) {
    await Promise.all(cams.map((c) => c.stop()));
    throw err;
  }
  return cams;
}
