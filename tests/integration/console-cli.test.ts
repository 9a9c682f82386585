/**
 * `gatehouse user` through the real CLI (dist/), on the same outbox.db a console then
 * serves: the first administrator without any default password, passwords from stdin
 * only, and CLI changes (passwd, disable) ending the sessions the daemon holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, requireBuild } from '../helpers/cli.js';
import { ConsoleRig, PASSWORD } from '../helpers/console-rig.js';

function user(args: string[], input: string) {
  requireBuild();
  const r = spawnSync(process.execPath, [BIN, 'user', ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gatehouse user', () => {
  let dir: string;
  let config: string;
  let rig: ConsoleRig | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-user-cli-'));
    config = join(dir, 'c.yaml');
    writeFileSync(config, 'compound: { id: c }\ngateway: { id: g }\n');
    // Run as root (CI), `gatehouse user` refuses to create a missing data dir (see data-dir.test.ts).
    mkdirSync(join(dir, 'data'));
  });
  afterAll(async () => {
    await rig?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = () => ['--config', config, '--data', join(dir, 'data')];

  it('creates the first administrator from a piped password and refuses weak or duplicate ones', () => {
    expect(user(['add', ...base(), '--username', 'root', '--role', 'admin'], 'short\n').status).toBe(2);
    const ok = user(['add', ...base(), '--username', 'Root', '--role', 'admin'], `${PASSWORD}\n`);
    // No daemon runs here: the CLI writes outbox.db itself and says that nothing was audited.
    expect(ok.stderr).toBe('daemon not running: wrote outbox.db directly; no audit event\n');
    expect([ok.status, ok.stdout]).toEqual([0, 'user root (admin) created\n']);
    const dup = user(['add', ...base(), '--username', 'root', '--role', 'guard', '--password-stdin'], `${PASSWORD}\n`);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toContain('CONSOLE_USER_EXISTS');
    expect(user(['add', ...base(), '--username', 'x', '--role', 'boss'], `${PASSWORD}\n`).status).toBe(2);
    expect(user(['add', '--username', 'x', '--role', 'admin'], `${PASSWORD}\n`).status).toBe(2);
    expect(user(['add', ...base(), '--username', 'anna', '--role', 'guard'], `${PASSWORD}\n`).status).toBe(0);
    const list = user(['list', ...base()], '');
    expect(list.stdout).toMatch(/^anna +guard +enabled .*\nroot +admin +enabled /);
  });

  it('the console then prints no setup token; passwd and disable from the CLI end live sessions', async () => {
    rig = await new ConsoleRig(join(dir, 'data')).start();
    expect(rig.printed).toEqual([]);
    const root = await rig.login('root');
    const anna = await rig.login('anna');
    expect(user(['passwd', ...base(), '--username', 'root'], 'another long password\n').status).toBe(0);
    expect((await rig.call('GET', '/api/session', { cookie: root.cookie })).status).toBe(401);
    await rig.login('root', 'another long password');
    const last = user(['disable', ...base(), '--username', 'root'], '');
    expect(last.status).toBe(1);
    expect(last.stderr).toBe(
      'gatehouse user disable: CONSOLE_LAST_ADMIN: This is the last enabled administrator: create or enable another administrator first\n',
    );
    expect(user(['disable', ...base(), '--username', 'anna'], '').status).toBe(0);
    expect((await rig.call('GET', '/api/session', { cookie: anna.cookie })).status).toBe(401);
    expect(user(['list', ...base()], '').stdout).toMatch(/anna +guard +disabled/);
  });
});
