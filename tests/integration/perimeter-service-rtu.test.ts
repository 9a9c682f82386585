/**
 * The perimeter over a real serial line: a socat pty pair stands in for the RS-485 bus, two
 * simulated input modules (unit ids 1 and 2) share one end, the gateway's ModbusBus opens
 * the other. One line, one request at a time: a dead module must cost the other only its
 * probes, never its detection. Waits are on conditions, each bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedInputModules, type SimulatedInputModules } from '../../sim/perimeter/index.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';
import { perimeterConfig, perimeterProbes, SIM_ZONES, startPerimeter, stopPerimeter, type PerimeterRig } from '../helpers/perimeter-rig.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const BAUD = 115_200;

describe('PerimeterService over Modbus RTU (socat pty, two modules on one line)', () => {
  let dir: string;
  let pty: PtyPair;
  let sims: SimulatedInputModules;
  let rig: PerimeterRig;
  const sink = new FakeAlarmSink();
  const { run, states } = perimeterProbes(() => rig);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-perimeter-rtu-'));
    pty = await createPtyPair();
    sims = await startSimulatedInputModules({
      rtu: {
        path: pty.b,
        baudRate: BAUD,
        units: [
          { id: 'mod-a', unitId: 1, channels: 16, supervisionAddress: 100, coils: 4 },
          { id: 'mod-b', unitId: 2, channels: 8 },
        ],
      },
      zones: SIM_ZONES,
    });
    const line = { rtu: { path: pty.a, baudRate: BAUD } };
    rig = startPerimeter(dir, perimeterConfig({ a: line, b: line, unitA: 1, unitB: 2 }), sink);
    await waitFor(() => states().modules['mod-a']?.online && states().modules['mod-b']?.online, 'both modules online', 10_000);
  });

  afterAll(async () => {
    await stopPerimeter(rig);
    await sims?.stop();
    await pty?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('armed: an intruder crossing beams raises zone.alarm per beam; disarmed: nothing', async () => {
    await sims.scenario.intruder(['beam-1', 'beam-2'], { stepMs: 400, crossMs: 300 });
    const a = rig.perimeter.service.module('mod-a')!;
    const from = a.polls;
    await waitFor(() => a.polls >= from + 4, 'polls after the crossing');
    expect(sink.raises()).toEqual([]);
    await run('partition.arm', { partition: 'wall' });
    await sims.scenario.intruder(['beam-1', 'beam-2', 'beam-3'], { stepMs: 400, crossMs: 300 });
    await waitFor(
      () => sink.raises('zone.alarm').length === 3,
      'three zone.alarm raises',
      5000,
      () => sink.log(),
    );
    await run('partition.disarm', { partition: 'wall' });
  });

  it('SOS on the second unit raises zone.panic; the siren coil on the first goes on and off', async () => {
    await sims.scenario.sos('sos-gate').press(300);
    await waitFor(() => sink.raises('zone.panic', 'sos-gate').length === 1, 'zone.panic');
    await run('output.set', { output: 'siren-1', on: true, seconds: 1 });
    expect(sims.coil('mod-a', 0)).toBe(true);
    await waitFor(() => !sims.coil('mod-a', 0), 'siren off after 1 s', 3000);
  });

  it('a dead module is reported offline and does not stall the other on the same line', async () => {
    sims.module('mod-b').dead = true;
    await waitFor(() => sink.isActive('module.offline', 'mod-b'), 'module.offline for mod-b', 5000);
    const a = rig.perimeter.service.module('mod-a')!;
    const from = a.polls;
    const t0 = Date.now();
    await waitFor(() => a.polls >= from + 10, 'mod-a keeps polling', 5000);
    // 10 polls at 50 ms plus a dead-unit probe of 100 ms now and then: well under 2 s.
    expect(Date.now() - t0).toBeLessThan(2000);
    sims.scenario.fence('fence-1').cut();
    await waitFor(() => sink.isActive('zone.fault', 'fence-1'), 'mod-a still detects a fence cut');
    sims.scenario.fence('fence-1').repair();
    sims.module('mod-b').dead = false;
    await waitFor(() => !sink.isActive('module.offline', 'mod-b'), 'module.offline cleared', 5000);
    expect(states().modules['mod-b']?.online).toBe(true);
    await waitFor(() => !sink.isActive('zone.fault', 'fence-1'), 'fault cleared');
  });
});
