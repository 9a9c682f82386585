/**
 * A real Mosquitto for tests and benchmarks: started on a free loopback port with a
 * generated config in a temp dir, restartable on the same port (a broker restart as the
 * gateway sees it), stoppable. Optional TLS listener with a throwaway CA made by openssl,
 * optional password file, optional persistence (so a platform-side subscriber with a
 * persistent session loses nothing across a restart, as a real platform broker would),
 * optional WebSocket listeners (`ws://`, and `wss://` with the same throwaway CA).
 *
 * Fails loudly when /usr/sbin/mosquitto (or GATEHOUSE_MOSQUITTO) is missing: these tests
 * are about a real broker, and a silently skipped test proves nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO_BIN = process.env.GATEHOUSE_MOSQUITTO ?? '/usr/sbin/mosquitto';

export function requireMosquitto(): string {
  if (!existsSync(MOSQUITTO_BIN)) {
    throw new Error(
      `Mosquitto is not installed at ${MOSQUITTO_BIN}. These tests need a real broker: ` +
        'install it with `sudo apt-get install -y mosquitto` (the .ci/run script does), or point GATEHOUSE_MOSQUITTO at the binary.',
    );
  }
  return MOSQUITTO_BIN;
}

/** A port the kernel says is free right now (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestCerts {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl is needed for the TLS tests and could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate (EC P-256: fast). */
export function makeTestCerts(dir: string, caName = 'Gatehouse Test CA'): TestCerts {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${caName}`], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  openssl(['req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=gw-test'], dir);
  openssl(
    ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2'],
    dir,
  );
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
  };
}

export interface MosquittoOptions {
  /** Keep retained messages and persistent sessions across restart(). Default true. */
  persistence?: boolean;
  /** username → password; when given, anonymous access is refused. */
  users?: Record<string, string>;
  /** Add a TLS listener (certificates generated in the broker's temp dir). */
  tls?: boolean | { requireClientCertificate?: boolean };
  /** Add a WebSocket listener (`wsUrl`); `{ tls: true }` adds a TLS one as well (`wssUrl`, certificates as for `tls`). */
  websockets?: boolean | { tls?: boolean };
  /** Extra mosquitto.conf lines, appended. */
  extraConfig?: string[];
}

/** Brokers of this process: killed and removed at exit even if a test forgot to, or crashed. */
const live = new Set<Mosquitto>();
process.once('exit', () => {
  for (const m of live) m.killNowSync();
});

export class Mosquitto {
  private child: ChildProcess | undefined;
  private output = '';
  readonly url: string;
  readonly tlsUrl: string | undefined;
  /** ws://127.0.0.1:{port} when started with `websockets`. */
  wsUrl: string | undefined;
  /** wss://127.0.0.1:{port} when started with `websockets: { tls: true }`. */
  wssUrl: string | undefined;
  private wsPorts: number[] = [];

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly tlsPort: number | undefined,
    readonly certs: TestCerts | undefined,
    private readonly confFile: string,
  ) {
    this.url = `mqtt://127.0.0.1:${port}`;
    this.tlsUrl = tlsPort ? `mqtts://127.0.0.1:${tlsPort}` : undefined;
  }

  static async start(opts: MosquittoOptions = {}, attempt = 1): Promise<Mosquitto> {
    requireMosquitto();
    const dir = mkdtempSync(join(tmpdir(), 'gh-mosquitto-'));
    const port = await freePort();
    const tlsPort = opts.tls ? await freePort() : undefined;
    const wss = typeof opts.websockets === 'object' && opts.websockets.tls === true;
    const wsPort = opts.websockets ? await freePort() : undefined;
    const wssPort = wss ? await freePort() : undefined;
    const certs = opts.tls || wss ? makeTestCerts(dir) : undefined;
    const lines = [
      // Running as root, mosquitto would switch to the `mosquitto` user and could not write its temp dir.
      `user ${userInfo().username}`,
      'per_listener_settings false',
      `persistence ${opts.persistence === false ? 'false' : 'true'}`,
      `persistence_location ${dir}/`,
      'autosave_interval 3600',
      // A platform subscriber may fall behind during a burst; never drop its queued messages.
      'max_queued_messages 0',
      'max_inflight_messages 100',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
      'log_timestamp_format %H:%M:%S',
    ];
    if (opts.users) {
      const pwFile = join(dir, 'passwd');
      writeFileSync(pwFile, '', { mode: 0o600 });
      for (const [user, pw] of Object.entries(opts.users)) {
        const r = spawnSync('mosquitto_passwd', ['-b', pwFile, user, pw], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.error?.message ?? r.stderr}`);
      }
      lines.push('allow_anonymous false', `password_file ${pwFile}`);
    } else {
      lines.push('allow_anonymous true');
    }
    lines.push(`listener ${port} 127.0.0.1`);
    if (certs && tlsPort) {
      const requireCert = typeof opts.tls === 'object' && opts.tls.requireClientCertificate === true;
      lines.push(
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${certs.caFile}`,
        `certfile ${certs.serverCertFile}`,
        `keyfile ${certs.serverKeyFile}`,
        `require_certificate ${requireCert}`,
      );
    }
    // WebSocket listeners (this Debian build has libwebsockets; it refuses to start with only
    // WebSocket listeners, which never happens here: the plain one above is always there).
    // Without `socket_domain ipv4` libwebsockets binds [::] whatever the address: loopback only.
    if (wsPort) lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets', 'socket_domain ipv4');
    if (wssPort && certs)
      lines.push(
        `listener ${wssPort} 127.0.0.1`,
        'protocol websockets',
        'socket_domain ipv4',
        `cafile ${certs.caFile}`,
        `certfile ${certs.serverCertFile}`,
        `keyfile ${certs.serverKeyFile}`,
        'require_certificate false',
      );
    lines.push(...(opts.extraConfig ?? []));
    const confFile = join(dir, 'mosquitto.conf');
    writeFileSync(confFile, lines.join('\n') + '\n');
    const m = new Mosquitto(dir, port, tlsPort, certs, confFile);
    if (wsPort) m.wsUrl = `ws://127.0.0.1:${wsPort}`;
    if (wssPort) m.wssUrl = `wss://127.0.0.1:${wssPort}`;
    m.wsPorts = [wsPort, wssPort].filter((p): p is number => p !== undefined);
    live.add(m);
    try {
      await m.launch();
    } catch (err) {
      // Another process took one of the free ports between freePort() and the bind: new ports.
      const taken = /Address already in use/.test((err as Error).message);
      live.delete(m);
      rmSync(dir, { recursive: true, force: true });
      if (taken && attempt < 3) return Mosquitto.start(opts, attempt + 1);
      throw err;
    }
    return m;
  }

  /** Everything the broker printed, for failure messages. */
  log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  private async launch(): Promise<void> {
    const child = spawn(MOSQUITTO_BIN, ['-c', this.confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let running = false;
    const collect = (b: Buffer) => {
      if (/ running\b/.test(b.toString())) running = true;
      this.output += b.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 10_000;
    for (const port of [this.port, this.tlsPort, ...this.wsPorts].filter((p): p is number => p !== undefined)) {
      for (;;) {
        if (exited) throw new Error(`mosquitto ${exited} during start-up:\n${this.output}`);
        if (await canConnect(port)) break;
        if (Date.now() > deadline) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within 10 s:\n${this.output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    // A port that answers may be another process's (freePort() races with the rest of the
    // suite): mosquitto says "running" only once it has bound every listener itself.
    while (!running) {
      if (exited) throw new Error(`mosquitto ${exited} during start-up:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not report running within 10 s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Clean shutdown (SIGTERM: persistence is written); SIGKILL if it takes longer than 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
    this.child = undefined;
  }

  /** Abrupt death: nothing saved, every client sees its connection reset. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    this.child = undefined;
  }

  /** Starts again on the same port(s) with the same config and data directory. */
  async start(): Promise<void> {
    if (this.child) return;
    await this.launch();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the broker and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  /** For the process exit hook: synchronous, no waiting. */
  killNowSync(): void {
    this.child?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts a broker; `stop()` on the result stops it (and `dispose()` also removes its files). */
export function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  return Mosquitto.start(opts);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
