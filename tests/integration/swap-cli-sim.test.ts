/**
 * `gatehouse sim --config FILE` simulates the file's battery-swap cabinets (issue 17) where
 * the gateway will look for them: read over Modbus TCP, the unit identifies as a register
 * map 1.1 swap cabinet with the slots the file gives it, stocked with packs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { decodeSwapIdentity, decodeSwapPoll, identityRead, kindRead, swapPollPlan } from '../../drivers/swap/registers.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { spawnCli } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
let bus: ModbusBus | undefined;
afterEach(async () => {
  await bus?.stop();
  bus = undefined;
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('gatehouse sim --config with swap cabinets', () => {
  it('serves each swap cabinet of the file on its Modbus TCP port, as register map 1.1 kind 2', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'gh-swap-sim-'));
    dirs.push(dir);
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      `compound: { id: c }\ngateway: { id: gw }\nuplink: { url: "mqtt://127.0.0.1:1" }\nswapCabinets:\n  - { id: swap-a, slots: 8, bus: { tcp: { host: 127.0.0.1, port: ${port} } } }\n`,
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
    expect(out).toContain(`simulating swap cabinet swap-a (8 slots) on Modbus TCP 127.0.0.1:${port}`);

    const b = (bus = new ModbusBus({
      transport: { kind: 'tcp', host: '127.0.0.1', port },
      name: 'swap-sim-check',
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log: silentLogger(),
    }));
    b.start();
    await waitFor(() => b.isUp(), 'the Modbus TCP connection to the simulator');
    const id = identityRead();
    const k = kindRead();
    const identity = decodeSwapIdentity(await b.read(1, id.fc, id.address, id.count), await b.read(1, k.fc, k.address, k.count));
    expect(identity).toMatchObject({ slotCount: 8, mapVersion: { major: 1, minor: 1 } });
    const answers: number[][] = [];
    for (const r of swapPollPlan(8)) answers.push(await b.read(1, r.fc, r.address, r.count));
    const { slots } = decodeSwapPoll(8, answers);
    expect(slots.filter((s) => s.present).length).toBe(6);
    const exited = new Promise<number | null>((r) => sim.on('exit', r));
    sim.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 30_000);
});
