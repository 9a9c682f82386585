/**
 * The rig for the console's end-to-end browser tests: a real Gateway with every family a
 * guard watches from the console — a simulated input module on Modbus TCP (an h24 beam, a
 * perimeter beam in a partition), two simulated OSDP readers with their door on a socat pty,
 * a simulated ONVIF camera with an RTSP test stream — the console on HTTPS with its
 * self-signed certificate, a real Mosquitto as the district platform with a subscriber, and
 * a real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
 *
 * Chromium missing is a loud failure with the install command, never a skip: a browser test
 * that did not run proves nothing. Screenshots go to test-artifacts/console/*.png.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { secretsFrom } from '../../config/load.js';
import { CompoundConfig } from '../../config/schema.js';
import { Gateway } from '../../gateway/app.js';
import { Accounts } from '../../gateway/console/accounts.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { startSimulatedCameras, type SimulatedCamera } from '../../sim/camera/index.js';
import { startTestStream, type TestStream } from '../../sim/camera/rtsp.js';
import { startSimulatedReaders, type SimulatedReaders } from '../../sim/osdp/index.js';
import { startSimulatedInputModules, type SimulatedInputModules } from '../../sim/perimeter/index.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';
import { createPtyPair, type PtyPair } from './pty.js';
import { waitFor } from './wait.js';

export const CHROMIUM_BIN = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--ignore-certificate-errors',
];

/** The repository root, from the sources or from dist/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}
export const ARTIFACTS = resolve(repoRoot(), 'test-artifacts', 'console');

export function requireChromium(): string {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_BIN}. The console's browser tests need a real browser: ` +
        'install it with `sudo apt-get install -y chromium` (the .ci/run script does), or point GATEHOUSE_CHROMIUM at the binary.',
    );
  }
  return CHROMIUM_BIN;
}

/** Waits until `selector` is visible, or fails saying what the contract expected there. */
export async function visible(page: Page, selector: string, what: string, timeoutMs = 5000): Promise<Locator> {
  const loc = page.locator(selector).first();
  try {
    await loc.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    const count = await page
      .locator(selector)
      .count()
      .catch(() => -1);
    throw new Error(`${what}: no visible \`${selector}\` within ${timeoutMs} ms (${count} in the DOM) on ${page.url()}`);
  }
  return loc;
}

export const USERS = {
  guard: { username: 'guard-1', password: 'a long guard passphrase', role: 'guard' as const },
  admin: { username: 'admin-1', password: 'a long admin passphrase', role: 'admin' as const },
};

/** The simulator's identities, so the tests name what they drive. */
export const IDS = {
  alarmZone: 'east-beam',
  armedZone: 'north-beam',
  partition: 'north',
  door: 'main-gate',
  doorReader: 1,
  camera: 'cam-2',
  panel: 'panel-b7',
  lock: 'flat-9',
};

export interface PlatformMessage {
  topic: string;
  raw: string;
  body: Record<string, any>;
}

const CAMERA_PASSWORD = randomBytes(9).toString('base64url');

export class ConsoleBrowserRig {
  broker!: Mosquitto;
  platform!: MqttClient;
  modules!: SimulatedInputModules;
  pty!: PtyPair;
  readers!: SimulatedReaders;
  stream!: TestStream;
  camera!: SimulatedCamera;
  gateway!: Gateway;
  browser!: Browser;
  base!: URL;
  dir = '';
  readonly messages: PlatformMessage[] = [];
  /** Errors thrown in any page (uncaught exceptions, console.error), for failure messages. */
  readonly pageErrors: string[] = [];
  private readonly contexts: BrowserContext[] = [];

  /** Gateway events of `type` the platform received. */
  events(type: string): PlatformMessage[] {
    return this.messages.filter((m) => m.topic.includes('/evt/') && m.body.type === type);
  }

  async start(): Promise<this> {
    requireChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
    const keyIn = randomBytes(16);
    const keyOut = randomBytes(16);
    // Everything independent starts at once: the suite has a time budget.
    const [broker, modules, pty, stream] = await Promise.all([
      startMosquitto({ persistence: false }),
      startSimulatedInputModules({
        tcp: [{ id: 'wall-east', channels: 8, port: 0, host: '127.0.0.1' }],
        zones: [
          { id: IDS.alarmZone, module: 'wall-east', channel: 2, contact: 'NC' },
          { id: IDS.armedZone, module: 'wall-east', channel: 3, contact: 'NC' },
        ],
      }),
      createPtyPair(),
      startTestStream({ path: '/cam2', size: '320x180', fps: 10, tag: 'gh-console-browser' }),
    ]);
    Object.assign(this, { broker, modules, pty, stream });
    this.readers = await startSimulatedReaders({
      path: this.pty.b,
      baudRate: 115_200,
      readers: [
        { address: 1, key: keyIn },
        { address: 2, key: keyOut },
      ],
    });
    this.camera = (
      await startSimulatedCameras([{ id: IDS.camera, username: 'gatehouse', password: CAMERA_PASSWORD, rtspUrl: this.stream.url }], {
        host: '127.0.0.1',
        discovery: false,
      })
    )[0]!;
    this.camera.presets.set('gate', 'Gate');
    this.dir = mkdtempSync(join(tmpdir(), 'gh-console-browser-'));
    const config = CompoundConfig.parse({
      compound: { id: 'console-court' },
      gateway: { id: 'gw-1' },
      broker: { port: 0 },
      uplink: { url: this.broker.url, keepaliveSeconds: 5 },
      log: { level: 'silent' },
      inputModules: [
        { id: 'wall-east', bus: { tcp: { host: '127.0.0.1', port: this.modules.tcpPort('wall-east') } }, channels: 8, pollMs: 100 },
      ],
      zones: [
        // h24: alarms armed or not, so the board gets an alarm without arming first.
        { id: IDS.alarmZone, module: 'wall-east', channel: 2, type: 'h24', contact: 'NC', debounceMs: 0 },
        { id: IDS.armedZone, module: 'wall-east', channel: 3, type: 'perimeter', contact: 'NC', debounceMs: 0, partition: IDS.partition },
      ],
      partitions: [{ id: IDS.partition }],
      osdpBuses: [{ id: 'rs485-1', path: this.pty.a }],
      readers: [
        { id: 'gate-in', bus: 'rs485-1', address: 1 },
        { id: 'gate-out', bus: 'rs485-1', address: 2 },
      ],
      doors: [
        {
          id: IDS.door,
          entryReader: 'gate-in',
          exitReader: 'gate-out',
          lock: { reader: 'gate-in', index: 0 },
          contact: { reader: 'gate-in', index: 0 },
          unlockMs: 3000,
          heldOpenMs: 30_000,
        },
      ],
      cameras: [{ id: IDS.camera, host: '127.0.0.1', port: this.camera.httpPort, username: 'gatehouse' }],
      // Never connects: the devices page shows it from the state a test writes.
      locks: [{ id: IDS.lock }],
      linkage: [{ when: { sources: [IDS.alarmZone] }, do: [{ camera: IDS.camera, snapshot: true, preset: 'gate' }] }],
      // A plain SIA DC-09 panel, so the board shows what panels add (verification links).
      perimeter: { dc09: { host: '127.0.0.1' } },
      alarmPanels: [{ id: IDS.panel, account: 'B7A1', supervisionS: 0 }],
      console: { port: 0, tls: { enabled: true } },
      // The simulator's RTSP server speaks UDP only.
      liveView: { rtspTransport: 'udp', width: 320, lingerMs: 0 },
    });
    const secrets = secretsFrom({
      [`devices.${IDS.lock}`]: randomBytes(12).toString('base64url'),
      [`cameras.${IDS.camera}`]: CAMERA_PASSWORD,
      'osdp.gate-in': keyIn.toString('hex'),
      'osdp.gate-out': keyOut.toString('hex'),
    });
    this.gateway = new Gateway({
      config,
      secrets,
      dataDir: this.dir,
      logs: createLoggerFactory({ level: 'silent' }, { destination: process.stderr }),
    });
    this.platform = await mqtt.connectAsync(this.broker.url, { clientId: 'platform-console-browser', reconnectPeriod: 100 });
    this.platform.on('message', (topic, payload) => {
      const raw = payload.toString();
      if (!raw || topic.includes('/media/')) return;
      try {
        this.messages.push({ topic, raw, body: JSON.parse(raw) as Record<string, any> });
      } catch {
        /* not JSON: not ours to read */
      }
    });
    await this.platform.subscribeAsync(`${this.gateway.root}/#`, { qos: 1 });
    // The browser starts while the gateway does.
    const [browser] = await Promise.all([
      // launch() gives every run a fresh temporary profile (user-data dir) and removes it on close.
      chromium.launch({ executablePath: CHROMIUM_BIN, args: CHROMIUM_ARGS, timeout: 30_000 }),
      this.gateway.start(),
    ]);
    this.browser = browser;
    if (!this.gateway.consoleUrl) throw new Error(`the console did not start: ${JSON.stringify(this.gateway.status().failedComponents)}`);
    this.base = new URL(this.gateway.consoleUrl);
    const accounts = new Accounts(this.gateway.outbox.scope('console'), () => Date.now());
    for (const u of Object.values(USERS)) await accounts.add(u.username, u.role, u.password);
    const state = (device: string) => this.messages.filter((m) => m.topic.endsWith(`/state/${device}`)).at(-1)?.body;
    await waitFor(
      () =>
        state('gate-in')?.online === true &&
        state('wall-east')?.online === true &&
        this.events('device.online').some((e) => e.body.source?.device === IDS.camera),
      'the door reader, the input module and the camera online',
      20_000,
      () => ({ gateIn: state('gate-in'), module: state('wall-east'), failed: this.gateway.status().failedComponents }),
    );
    return this;
  }

  /** A fresh browser context (own cookies and storage) that accepts the console's self-signed certificate. */
  async context(): Promise<BrowserContext> {
    const ctx = await this.browser.newContext({
      ignoreHTTPSErrors: true,
      baseURL: this.base.origin,
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
    });
    this.contexts.push(ctx);
    ctx.on('page', (p) => this.watch(p));
    return ctx;
  }

  private watch(page: Page): void {
    page.on('pageerror', (err) => this.pageErrors.push(`${page.url()}: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.pageErrors.push(`${page.url()}: console.error ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) this.pageErrors.push(`${page.url()}: HTTP ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
    });
  }

  /** A page already signed in through the API (the login form is scenario 1's business). */
  /** A page signed in through the API; `before` runs on it before it loads (routes, init scripts). */
  async signedIn(user: { username: string; password: string }, before?: (page: Page) => Promise<void>): Promise<Page> {
    const ctx = await this.context();
    const res = await ctx.request.post('/api/login', {
      data: { username: user.username, password: user.password },
      headers: { Origin: this.base.origin },
    });
    if (res.status() !== 200) throw new Error(`API login of ${user.username} answered ${res.status()}: ${await res.text()}`);
    const page = await ctx.newPage();
    await before?.(page);
    await page.goto('/');
    return page;
  }

  async screenshot(page: Page, name: string): Promise<string> {
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  /** Runs a browser step; on failure saves `<name>-failed.png` and adds the page errors to the message. */
  async step<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      await this.screenshot(page, `${name}-failed`).catch(() => undefined);
      const e = err as Error;
      if (this.pageErrors.length) e.message += `\npage errors so far:\n  ${this.pageErrors.slice(-10).join('\n  ')}`;
      e.message += `\n(page ${page.url()}; screenshot ${join(ARTIFACTS, `${name}-failed.png`)})`;
      throw e;
    }
  }

  /** An unauthenticated HTTPS GET from outside the browser. */
  get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolvePromise, reject) => {
      const req = httpsRequest(
        {
          host: this.base.hostname,
          port: this.base.port,
          path,
          method: 'GET',
          rejectUnauthorized: false,
          headers: { Origin: this.base.origin, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.setTimeout(5000, () => req.destroy(new Error(`GET ${path} timed out`)));
      req.end();
    });
  }

  /** The HTTP status an unauthenticated WebSocket upgrade gets (101 if it was let in). */
  upgradeStatus(path: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((resolvePromise, reject) => {
      const ws = new WebSocket(`wss://${this.base.host}${path}`, {
        headers: { Origin: this.base.origin, ...headers },
        rejectUnauthorized: false,
      });
      const t = setTimeout(() => reject(new Error(`no answer to the upgrade of ${path} within 5 s`)), 5000);
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(t);
        resolvePromise(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        clearTimeout(t);
        resolvePromise(101);
        ws.terminate();
      });
      ws.on('error', () => undefined);
    });
  }

  async stop(): Promise<void> {
    // What the pages complained about (CSP violations, failed requests), kept with the screenshots.
    if (existsSync(ARTIFACTS)) writeFileSync(join(ARTIFACTS, 'page-errors.txt'), this.pageErrors.map((e) => `${e}\n`).join(''));
    for (const c of this.contexts) await c.close().catch(() => undefined);
    await this.browser?.close().catch(() => undefined);
    await this.gateway?.stop();
    await this.readers?.close();
    await this.pty?.stop();
    await this.camera?.stop();
    await this.stream?.stop();
    await this.modules?.stop();
    await this.platform?.endAsync(true);
    await this.broker?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Pixel statistics of a PNG (an element screenshot), decoded by the browser in a blank page
 * of its own (the console's CSP does not allow data: images, and must not be loosened).
 */
export async function pngStats(browser: Browser, png: Buffer): Promise<{ width: number; height: number; stddev: number; colours: number }> {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    return await page.evaluate(async (b64: string) => {
      const g = globalThis as any;
      const img = new g.Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = g.document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const x = c.getContext('2d');
      x.drawImage(img, 0, 0);
      const d: Uint8ClampedArray = x.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      let sq = 0;
      const colours = new Set<number>();
      const n = d.length / 4;
      for (let i = 0; i < d.length; i += 4) {
        const l = 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
        sum += l;
        sq += l * l;
        if (colours.size < 1000) colours.add((d[i]! >> 4) * 256 + (d[i + 1]! >> 4) * 16 + (d[i + 2]! >> 4));
      }
      const mean = sum / n;
      return { width: c.width, height: c.height, stddev: Math.sqrt(Math.max(0, sq / n - mean * mean)), colours: colours.size };
    }, png.toString('base64'));
  } finally {
    await ctx.close();
  }
}
