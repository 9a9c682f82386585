/**
 * An installer's bench set-up, through the CLI only: `gatehouse sim --config` plays the
 * compound's OSDP readers on one end of a socat pty pair, `gatehouse run` is the daemon on
 * the other end, and `gatehouse check --devices` reports the readers as the daemon sees
 * them — online, over the secure channel with the keys from the secrets file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const children: ChildProcess[] = [];
let pty: PtyPair | undefined;
let dir: string | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
  await pty?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function compound(path: string): string {
  return [
    'compound: { id: bench-court }',
    'gateway: { id: gw-1 }',
    'secretsFile: secrets.yaml',
    'broker: { port: 0 }',
    'console: { enabled: false }',
    'log: { level: warn }',
    `osdpBuses: [{ id: rs485-1, path: "${path}" }]`,
    'readers:',
    '  - { id: gate-in, bus: rs485-1, address: 1 }',
    '  - { id: gate-out, bus: rs485-1, address: 2 }',
    'doors:',
    '  - { id: gate, entryReader: gate-in, exitReader: gate-out, lock: { reader: gate-in, index: 0 }, contact: { reader: gate-in, index: 0 } }',
    '',
  ].join('\n');
}

describe('gatehouse sim --config with OSDP readers', () => {
  it('the daemon finds the simulated readers online over the secure channel', async () => {
    pty = await createPtyPair();
    dir = mkdtempSync(join(tmpdir(), 'gh-cli-sim-'));
    writeFileSync(
      join(dir, 'secrets.yaml'),
      `osdp:\n  gate-in: "${randomBytes(16).toString('hex')}"\n  gate-out: "${randomBytes(16).toString('hex')}"\n`,
      { mode: 0o600 },
    );
    writeFileSync(join(dir, 'gateway.yaml'), compound(pty.a));
    writeFileSync(join(dir, 'sim.yaml'), compound(pty.b));
    const sim = spawnCli(['sim', '--config', join(dir, 'sim.yaml')]);
    children.push(sim);
    let simOut = '';
    sim.stdout!.on('data', (d: Buffer) => (simOut += d.toString()));
    sim.stderr!.on('data', (d: Buffer) => (simOut += d.toString()));
    await waitFor(
      () => simOut.includes('simulating 2 OSDP reader(s)') || undefined,
      'the simulator to start',
      15_000,
      () => simOut,
    );
    const daemon = spawnCli(['run', '--config', join(dir, 'gateway.yaml'), '--data', join(dir, 'data')]);
    children.push(daemon);
    let daemonErr = '';
    daemon.stderr!.on('data', (d: Buffer) => (daemonErr += d.toString()));
    const check = () => runCli(['check', '--config', join(dir!, 'gateway.yaml'), '--data', join(dir!, 'data'), '--devices']);
    const ok = await waitFor(
      () => {
        const r = check();
        return r.status === 0 ? r : undefined;
      },
      'check --devices to report both readers online',
      30_000,
      () => ({ check: check(), daemonErr, simOut }),
    );
    expect(ok.stdout).toMatch(/reader gate-in\s+online .*secure true/);
    expect(ok.stdout).toMatch(/reader gate-out\s+online .*secure true/);
  }, 60_000);
});

describe('gatehouse discover --osdp', () => {
  it('lists the readers on a line with their identity, and exits 1 on a line with none', async () => {
    pty = await createPtyPair();
    dir = mkdtempSync(join(tmpdir(), 'gh-cli-disc-'));
    writeFileSync(
      join(dir, 'secrets.yaml'),
      `osdp:\n  gate-in: "${randomBytes(16).toString('hex')}"\n  gate-out: "${randomBytes(16).toString('hex')}"\n`,
      { mode: 0o600 },
    );
    writeFileSync(join(dir, 'sim.yaml'), compound(pty.b));
    const sim = spawnCli(['sim', '--config', join(dir, 'sim.yaml')]);
    children.push(sim);
    let simOut = '';
    sim.stdout!.on('data', (d: Buffer) => (simOut += d.toString()));
    await waitFor(
      () => simOut.includes('simulating 2 OSDP reader(s)') || undefined,
      'the simulator to start',
      15_000,
      () => simOut,
    );
    const scan = async (range: string) => {
      const child = spawnCli(['discover', '--osdp', pty!.a, '--addresses', range]);
      children.push(child);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      return { code, out, err };
    };
    const found = await scan('0-4');
    expect(found.out).toMatch(/address +1 +vendor 0A1B2C model 1 version 1 serial 100001 firmware 1\.0\.0/);
    expect(found.out).toMatch(/address +2 +vendor 0A1B2C .* serial 100002/);
    expect(found.out).toMatch(/2 reader\(s\) found/);
    expect(found.code).toBe(0);
    // Progress on stderr, plain lines when not a terminal (the shared scan display).
    expect(found.err).toMatch(/^found: address 1: vendor 0A1B2C/m);
    expect(found.err).toMatch(/^scanned 5\/5 addresses \(100%\), 2 found$/m);
    expect(found.err).not.toContain('\r');
    const none = await scan('10-12');
    expect(none.out).toMatch(/0 reader\(s\) found/);
    expect(none.code).toBe(1);
    expect(runCli(['discover']).status).toBe(2);

    // Ctrl-C stops the scan after the address being asked, with the readers found so far.
    const long = spawnCli(['discover', '--osdp', pty.a]);
    children.push(long);
    let out = '';
    let err = '';
    long.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    long.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => long.on('exit', r));
    await waitFor(
      () => /^found: address 2: /m.test(err),
      'the scan to find address 2',
      20_000,
      () => err,
    );
    long.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(err).toMatch(/stopping after the address being asked/);
    expect(err).not.toMatch(/\n\s+at /);
    expect(out).toMatch(/address +1 +vendor 0A1B2C/);
    expect(out).toMatch(/address +2 +vendor 0A1B2C/);
    expect(out).toMatch(/^2 reader\(s\) found \(scan interrupted\)$/m);
  }, 60_000);
});
