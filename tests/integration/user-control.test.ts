/**
 * `gatehouse user` and the daemon's control socket, with the real CLI (dist/) in a child
 * process and a real Gateway on a real data directory: while the daemon runs the change
 * goes through {dataDir}/control.sock and is recorded as a console.user event; once it is
 * stopped (or was killed, leaving its socket file) the CLI migrates and writes outbox.db
 * itself and says so. The socket is private to the daemon's user and bounded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory, silentLogger } from '../../gateway/core/log.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { Gateway } from '../../gateway/app.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { Accounts } from '../../gateway/console/accounts.js';
import {
  ControlServer,
  controlRequest,
  controlSocketPath,
  MAX_CONNECTIONS,
  MAX_REQUEST_BYTES,
} from '../../gateway/control/control-socket.js';
import { userControlHandlers } from '../../gateway/console/user-control.js';
import { BIN, ROOT, requireBuild } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'correct horse battery';
const NOT_RUNNING = 'daemon not running: wrote outbox.db directly; no audit event\n';

/** The CLI in a child process, asynchronously: the daemon answering it lives in this process. */
function user(args: string[], input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'user', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

type Audit = { type: string; source: unknown; data: Record<string, unknown> };
const isAudit = (e: { type: string }) => e.type === 'console.user';
/** console.user events as the outbox commits them (the uplink forwards and removes them soon after). */
const recordedAudits = (outbox: Pick<Outbox, 'on'>): Audit[] => {
  const seen: Audit[] = [];
  outbox.on('recorded', (envs) => seen.push(...(envs as unknown as Audit[]).filter(isAudit)));
  return seen;
};
const storedAudits = (outbox: Pick<Outbox, 'readEvents'>): Audit[] =>
  outbox
    .readEvents(0, 10_000)
    .map((r) => JSON.parse(r.body) as Audit)
    .filter(isAudit);

describe('gatehouse user with the daemon running and stopped', () => {
  let dir: string;
  let data: string;
  let config: string;
  let gateway: Gateway | undefined;
  const base = () => ['--config', config, '--data', data];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-user-ctl-'));
    data = join(dir, 'data');
    mkdirSync(data, { mode: 0o700 });
    config = join(dir, 'c.yaml');
    writeFileSync(config, 'compound: { id: c }\ngateway: { id: g }\n');
  });
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const startGateway = async () => {
    const cfg = CompoundConfig.parse({
      compound: { id: 'c' },
      gateway: { id: 'g' },
      console: { enabled: false },
      broker: { port: 0 },
      outbox: { checkpointIntervalMs: 0 },
    });
    gateway = new Gateway({
      config: cfg,
      secrets: secretsFrom({}),
      dataDir: data,
      logs: createLoggerFactory({ level: 'silent' }, { destination: process.stderr }),
    });
    await gateway.start();
    return gateway;
  };

  it('through the running daemon: the change is applied by it and audited as console.user, the output unchanged', async () => {
    const gw = await startGateway();
    const audits = recordedAudits(gw.outbox);
    expect(statSync(controlSocketPath(data)).mode & 0o777).toBe(0o600);

    const add = await user(['add', ...base(), '--username', 'Root', '--role', 'admin'], `${PASSWORD}\n`);
    expect(add).toEqual({ status: 0, stdout: 'user root (admin) created\n', stderr: '' });
    await user(['add', ...base(), '--username', 'anna', '--role', 'guard'], `${PASSWORD}\n`);
    const passwd = await user(['passwd', ...base(), '--username', 'ROOT'], 'another long password\n');
    expect(passwd).toEqual({ status: 0, stdout: 'password of root changed; its console sessions are ended\n', stderr: '' });
    const disable = await user(['disable', ...base(), '--username', 'anna'], '');
    expect(disable).toEqual({ status: 0, stdout: 'user anna disabled; its console sessions are ended\n', stderr: '' });

    // Refusals keep their codes and exit statuses, and record nothing.
    const dup = await user(['add', ...base(), '--username', 'root', '--role', 'guard'], `${PASSWORD}\n`);
    expect([dup.status, dup.stderr]).toEqual([
      1,
      'gatehouse user add: CONSOLE_USER_EXISTS: A console user with this name already exists\n',
    ]);
    expect((await user(['add', ...base(), '--username', 'bob', '--role', 'guard'], 'short\n')).status).toBe(2);
    const last = await user(['disable', ...base(), '--username', 'root'], '');
    expect([last.status, last.stderr]).toEqual([
      1,
      'gatehouse user disable: CONSOLE_LAST_ADMIN: This is the last enabled administrator: create or enable another administrator first\n',
    ]);

    expect(audits).toEqual(
      [
        {
          type: 'console.user',
          source: { device: 'gateway', point: 'console' },
          data: { action: 'created', user: 'root', role: 'admin', by: 'cli' },
        },
        {
          type: 'console.user',
          source: { device: 'gateway', point: 'console' },
          data: { action: 'created', user: 'anna', role: 'guard', by: 'cli' },
        },
        { type: 'console.user', source: { device: 'gateway', point: 'console' }, data: { action: 'password', user: 'root', by: 'cli' } },
        {
          type: 'console.user',
          source: { device: 'gateway', point: 'console' },
          data: { action: 'disabled', user: 'anna', role: 'guard', by: 'cli' },
        },
      ].map((e) => expect.objectContaining(e)),
    );
    const accounts = new Accounts(gw.outbox.scope('console'), () => Date.now());
    expect(await accounts.check('root', 'another long password')).toMatchObject({ ok: true });

    const list = await user(['list', ...base()], '');
    expect(list.stderr).toBe('');
    expect(list.stdout).toMatch(/^anna +guard +disabled .*\nroot +admin +enabled /);
  });

  it('with the daemon stopped: migrates and writes outbox.db itself, says so, and records no event', async () => {
    await gateway!.stop();
    gateway = undefined;
    expect(existsSync(controlSocketPath(data))).toBe(false);
    const add = await user(['add', ...base(), '--username', 'carl', '--role', 'installer'], `${PASSWORD}\n`);
    expect(add).toEqual({ status: 0, stdout: 'user carl (installer) created\n', stderr: NOT_RUNNING });
    const outbox = new Outbox({ file: join(data, 'outbox.db'), clock: new ManualClock(), config: { checkpointIntervalMs: 0 } });
    try {
      expect(storedAudits(outbox)).toEqual([]);
      expect(new Accounts(outbox.scope('console'), () => Date.now()).get('carl')).toMatchObject({ role: 'installer', disabled: false });
    } finally {
      outbox.close();
    }
  });

  it('a socket file left by a killed daemon: the CLI writes directly, and the next daemon replaces the file', async () => {
    // A process that listens on the path and is SIGKILLed leaves the socket file behind.
    const path = controlSocketPath(data);
    const child = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(existsSync(path)).toBe(true);

    const dis = await user(['disable', ...base(), '--username', 'carl'], '');
    expect(dis).toEqual({ status: 0, stdout: 'user carl disabled; its console sessions are ended\n', stderr: NOT_RUNNING });

    const gw = await startGateway();
    const audits = recordedAudits(gw.outbox);
    const add = await user(['add', ...base(), '--username', 'dora', '--role', 'guard'], `${PASSWORD}\n`);
    expect(add).toEqual({ status: 0, stdout: 'user dora (guard) created\n', stderr: '' });
    expect(audits.map((e) => e.data)).toEqual([{ action: 'created', user: 'dora', role: 'guard', by: 'cli' }]);
    expect(audits.at(-1)?.data).toEqual({ action: 'created', user: 'dora', role: 'guard', by: 'cli' });
  });
});

describe('gatehouse user when the daemon goes away mid-request', () => {
  it('says the change may or may not be made, in one line, not a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-user-lost-'));
    try {
      const config = join(dir, 'c.yaml');
      writeFileSync(config, 'compound: { id: c }\ngateway: { id: g }\n');
      // A daemon that answers the CLI's probe, then dies on the request itself (the connection closes unanswered).
      const server = createServer({ allowHalfOpen: true }, (s) => {
        s.once('data', (d: Buffer) => (d.toString().includes('"ping"') ? s.end('{"ok":true,"result":"pong"}\n') : s.destroy()));
      });
      await new Promise<void>((resolve) => server.listen(controlSocketPath(dir), resolve));
      try {
        const r = await user(['disable', '--config', config, '--data', dir, '--username', 'anna'], '');
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(
          /^gatehouse user disable: the daemon closed the control socket without an answer .*; the change may or may not be made: see gatehouse user list\n$/,
        );
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the control socket', () => {
  let dir: string;
  let outbox: Outbox;
  let server: ControlServer;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-ctl-'));
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock: new ManualClock(), config: { checkpointIntervalMs: 0 } });
    server = new ControlServer({
      dataDir: dir,
      handlers: userControlHandlers({ outbox, now: () => 0, log: silentLogger() }),
      log: silentLogger(),
      idleMs: 300,
    });
    await server.start();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  afterAll(async () => {
    await server.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends raw bytes, resolves what came back before the server closed. */
  const exchange = (bytes: string | Buffer): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = connect(controlSocketPath(dir));
      sockets.push(s);
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      // A connection the server refuses (over the limit) may be reset rather than closed.
      s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(got) : reject(err)));
      s.on('close', () => resolve(got));
      s.write(bytes);
    });

  it('answers bad input with a coded error and keeps serving', async () => {
    expect(JSON.parse(await exchange('not json\n'))).toEqual({
      ok: false,
      error: { code: 'CONSOLE_REQUEST_INVALID', message: 'a control request is one line of JSON' },
    });
    expect(JSON.parse(await exchange('{"op":"user.drop"}\n'))).toMatchObject({ ok: false, error: { code: 'CONSOLE_REQUEST_INVALID' } });
    expect(
      JSON.parse(await exchange('{"op":"user.add","username":"x y","role":"admin","password":"long enough password"}\n')),
    ).toMatchObject({ ok: false, error: { code: 'CONSOLE_REQUEST_INVALID' } });
    expect(JSON.parse(await exchange('null\n'))).toMatchObject({ ok: false, error: { code: 'CONSOLE_REQUEST_INVALID' } });
    expect(JSON.parse(await exchange('{"op":"__proto__"}\n'))).toMatchObject({ ok: false, error: { code: 'CONSOLE_REQUEST_INVALID' } });
    expect(await controlRequest(dir, { op: 'ping' })).toEqual({ ok: true, result: 'pong' });
  });

  it('refuses a request over the size limit without reading it to the end', async () => {
    const answer = JSON.parse(await exchange(Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x61))) as { ok: boolean; error: { message: string } };
    expect(answer).toMatchObject({ ok: false, error: { code: 'CONSOLE_REQUEST_INVALID' } });
    expect(answer.error.message).toMatch(/at most 16384 bytes/);
  });

  it('closes a connection that sends nothing complete, and holds at most MAX_CONNECTIONS at once', async () => {
    expect(await exchange('{"op":"pi')).toBe('');
    const idle = await Promise.all(
      Array.from(
        { length: MAX_CONNECTIONS },
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect(controlSocketPath(dir), () => resolve(s));
            sockets.push(s);
          }),
      ),
    );
    // One more is closed by the server at once, unanswered.
    expect(await exchange('{"op":"ping"}\n')).toBe('');
    for (const s of idle) s.destroy();
    // The server learns of the closes asynchronously: ask until it answers (bounded by waitFor).
    let served = false;
    const ask = (): void => {
      void controlRequest(dir, { op: 'ping' }).then((a) => (a?.ok ? (served = true) : ask()), ask);
    };
    ask();
    await waitFor(() => served, 'served again once the idle connections are gone');
  });

  it('is refused to a user who cannot open the file (mode 0600 in the data directory)', () => {
    expect(statSync(controlSocketPath(dir)).mode & 0o777).toBe(0o600);
    // Root bypasses file modes; elsewhere show that another uid is refused by the kernel.
    if (process.getuid?.() !== 0) return;
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '-e',
        `require('net').connect(${JSON.stringify(controlSocketPath(dir))}).on('error', (e) => { console.log(e.code); }).on('connect', () => console.log('connected'))`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('EACCES');
  });
});
