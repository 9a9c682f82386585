/**
 * A component the compound file requires that cannot start stops the daemon with exit 1
 * and a message saying what to do, through the real CLI. A broker nobody needs may fail
 * and the rest runs on; an unreachable platform at start is offline operation, not a failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

/** Something else holding a loopback port, as a stray mosquitto would. */
async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

function compound(dir: string, body: string): string {
  writeFileSync(join(dir, 's.yaml'), 'devices:\n  flat-1: "lock-password-1"\n', { mode: 0o600 });
  const file = join(dir, 'c.yaml');
  writeFileSync(file, `compound: { id: c }\ngateway: { id: g }\nsecretsFile: s.yaml\nconsole: { enabled: false }\n${body}`);
  return file;
}

function run(file: string, dir: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawnCli(['run', '--config', file, '--data', join(dir, 'data')], { GATEHOUSE_UPLINK_URL: '', ...env });
  const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r((out.code = code))));
  return { child, out, exited };
}

describe('gatehouse run: required components', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0)) await fn();
  });

  it('exits 1 with what to do when the broker port is taken and locks need the broker', async () => {
    const { server, port } = await occupyPort();
    cleanup.push(() => new Promise((r) => server.close(r)));
    const dir = mkdtempSync(join(tmpdir(), 'gh-req-'));
    const file = compound(dir, `broker: { port: ${port} }\nlocks:\n  - id: flat-1\n`);
    const { out, exited } = run(file, dir);
    expect(await exited).toBe(1);
    expect(out.stderr).toContain(
      `gatehouse run: the broker could not start and the compound file has 1 lock that log in to it: embedded broker cannot listen on 127.0.0.1:${port} (EADDRINUSE)`,
    );
    expect(out.stderr).toMatch(/Another program holds the port .*stop it, or set broker\.port\. Nothing was started\./);
    expect(out.stdout).not.toContain('gatehouse running');
    expect(out.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('keeps running when the broker nobody needs cannot start, and when the platform is unreachable', async () => {
    const { server, port } = await occupyPort();
    cleanup.push(() => new Promise((r) => server.close(r)));
    // A platform that refuses connections: the uplink retries in the background.
    const { server: closed, port: deadPort } = await occupyPort();
    await new Promise((r) => closed.close(r));
    const dir = mkdtempSync(join(tmpdir(), 'gh-req-'));
    const file = compound(dir, `broker: { port: ${port} }\n`);
    const { child, out, exited } = run(file, dir, { GATEHOUSE_UPLINK_URL: `mqtt://127.0.0.1:${deadPort}` });
    cleanup.push(() => child.kill('SIGKILL'));
    await waitFor(
      () => out.stdout.includes('gatehouse running') || out.code !== undefined,
      'the daemon to report running',
      20_000,
      () => out,
    );
    expect(out.stdout).toContain('gatehouse running');
    expect(out.stdout).toMatch(/component failed to start; the rest of the gateway keeps running/);
    // Nothing holds a socket open here: the daemon must still wait for its signal, not exit.
    expect(out.code).toBeUndefined();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out.stdout).toContain('"msg":"stopping"');
  });
});
