/**
 * `gatehouse sim --config FILE` through the CLI: every family simulates its own devices of the
 * file (cabinets and input modules here, on real TCP sockets), the runner lists what each
 * started, and a lock without its password is refused before anything starts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function compound(extra: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-cli-sim-bench-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'c.yaml'), `compound: { id: c }\ngateway: { id: gw }\nuplink: { url: "mqtt://127.0.0.1:1" }\n${extra}`);
  return join(dir, 'c.yaml');
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

describe('gatehouse sim --config', () => {
  it("starts each family's simulators where the file puts them, and stops on SIGINT", async () => {
    const [cab, mod] = [await freePort(), await freePort()];
    const file = compound(
      [
        `cabinets:\n  - { id: cab-a, ports: 4, bus: { tcp: { host: 127.0.0.1, port: ${cab} } } }`,
        `inputModules:\n  - { id: m-1, bus: { tcp: { host: 127.0.0.1, port: ${mod} } }, channels: 8 }`,
        'zones:\n  - { id: z-1, module: m-1, channel: 0, type: h24 }',
        '',
      ].join('\n'),
    );
    const sim = spawnCli(['sim', '--config', file]);
    children.push(sim);
    let out = '';
    sim.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    sim.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      () => out.includes('Ctrl-C stops') || undefined,
      'the bench to start',
      15_000,
      () => out,
    );
    expect(out).toContain(`simulating cabinet cab-a (4 ports) on Modbus TCP 127.0.0.1:${cab}`);
    expect(out).toContain(`simulating input module m-1 (8 channels) on Modbus TCP 127.0.0.1:${mod}`);
    expect(await accepts(cab), 'the cabinet port').toBe(true);
    expect(await accepts(mod), 'the input module port').toBe(true);
    const exited = new Promise<number | null>((r) => sim.on('exit', r));
    sim.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 30_000);

  it('refuses a lock without its password secret (exit 2) before starting anything', async () => {
    const cab = await freePort();
    const file = compound(
      `locks:\n  - { id: flat-1 }\ncabinets:\n  - { id: cab-a, ports: 4, bus: { tcp: { host: 127.0.0.1, port: ${cab} } } }\n`,
    );
    const r = runCli(['sim', '--config', file]);
    expect(r.stderr).toContain('gatehouse sim: no password secret for flat-1; add them to the secrets file');
    expect(r.status).toBe(2);
  });
});
