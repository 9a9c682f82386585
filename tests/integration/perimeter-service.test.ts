/**
 * The perimeter end to end over Modbus TCP (loopback): two simulated input modules, the
 * perimeter service polling them every 50 ms with a 100 ms debounce, conditions on a fake
 * alarm sink, events and state in a real outbox. Waits are on conditions, each bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulatedInputModules, type SimulatedInputModules } from '../../sim/perimeter/index.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';
import { perimeterConfig, perimeterProbes, SIM_ZONES, startPerimeter, stopPerimeter, type PerimeterRig } from '../helpers/perimeter-rig.js';
import { waitFor } from '../helpers/wait.js';

describe('PerimeterService over Modbus TCP', () => {
  let dir: string;
  let sims: SimulatedInputModules;
  let rig: PerimeterRig;
  const sink = new FakeAlarmSink();
  const { events, run, runError, states } = perimeterProbes(() => rig);
  const config = () =>
    perimeterConfig({
      a: { tcp: { host: '127.0.0.1', port: sims.tcpPort('mod-a') } },
      b: { tcp: { host: '127.0.0.1', port: sims.tcpPort('mod-b') } },
    });
  /** Enough polls for a change to be seen and debounced. */
  const settled = async () => {
    const m = rig.perimeter.service.module('mod-a')!;
    const from = m.polls;
    await waitFor(() => m.polls >= from + 4, 'four more polls of mod-a');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-perimeter-'));
    sims = await startSimulatedInputModules({
      tcp: [
        { id: 'mod-a', channels: 16, port: 0, supervisionAddress: 100, coils: 4 },
        { id: 'mod-b', channels: 8, port: 0 },
      ],
      zones: SIM_ZONES,
    });
    rig = startPerimeter(dir, config(), sink);
    await waitFor(() => states().modules['mod-a']?.online && states().modules['mod-b']?.online, 'both modules online');
  });

  afterAll(async () => {
    await stopPerimeter(rig);
    await sims?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    sims.scenario.quiet();
    await settled();
    sink.reset();
  });

  it('starts with every zone normal, the wall disarmed, and retained state for zones, partition and modules', async () => {
    const s = states();
    expect(Object.values(s.zones).map((z) => z.state)).toEqual(['normal', 'normal', 'normal', 'normal', 'normal', 'normal']);
    expect(s.partitions.wall).toMatchObject({ armed: false, by: 'schedule' });
    await waitFor(
      () =>
        (
          rig.outbox
            .scope('outbox')
            .prepare("SELECT COUNT(*) AS n FROM states WHERE device IN ('beam-1', 'wall', 'mod-a', 'mod-b')")
            .get() as { n: number }
        ).n === 4,
      'states stored',
    );
    const rows = rig.outbox.scope('outbox').prepare('SELECT device, body FROM states').all() as { device: string; body: string }[];
    const body = (d: string) => JSON.parse(rows.find((r) => r.device === d)!.body);
    await waitFor(
      () =>
        (
          rig.outbox.scope('outbox').prepare("SELECT body FROM states WHERE device = 'mod-a'").get() as { body: string } | undefined
        )?.body.includes('"online":true'),
      'mod-a online state',
    );
    expect(body('beam-1')).toMatchObject({ zone: 'normal', type: 'perimeter', partition: 'wall', armed: false });
    expect(body('wall')).toMatchObject({ armed: false, by: 'schedule' });
  });

  it('an intruder crossing the beams while disarmed raises nothing', async () => {
    await sims.scenario.intruder(['beam-1', 'beam-2', 'beam-3'], { stepMs: 400, crossMs: 300 });
    await settled();
    expect(sink.raises()).toEqual([]);
  });

  it('armed: each beam the intruder crosses raises zone.alarm (high), cleared when the beam is whole again', async () => {
    const res = await run('partition.arm', { partition: 'wall' });
    expect(res).toMatchObject({ partition: 'wall', armed: true, by: 'guard-anna', changed: true, notReady: [] });
    await sims.scenario.intruder(['beam-1', 'beam-2', 'beam-3'], { stepMs: 400, crossMs: 300 });
    await waitFor(
      () => sink.raises('zone.alarm').length === 3,
      'three zone.alarm raises',
      5000,
      () => sink.log(),
    );
    expect(sink.raises('zone.alarm').map((c) => c.device)).toEqual(['beam-1', 'beam-2', 'beam-3']);
    expect(sink.raises('zone.alarm')[0]).toMatchObject({
      priority: 'high',
      data: { zone: 'beam-1', partition: 'wall', module: 'mod-a', channel: 0 },
    });
    await waitFor(() => !sink.isActive('zone.alarm', 'beam-3'), 'beam-3 cleared');
    expect(events().filter((e) => e.type === 'partition.armed')).toEqual([
      expect.objectContaining({ class: 'alarm', source: { device: 'wall' }, data: { partition: 'wall', by: 'guard-anna', notReady: [] } }),
    ]);
    const dis = await run('partition.disarm', { partition: 'wall' });
    expect(dis).toMatchObject({ armed: false, changed: true });
  });

  it('arming with a beam blocked reports it not ready, raises nothing for it until it has been whole again', async () => {
    sims.scenario.beam('beam-2').block();
    await settled();
    const res = await run('partition.arm', { partition: 'wall' });
    expect(res).toMatchObject({ armed: true, notReady: ['beam-2'] });
    await settled();
    expect(sink.raises()).toEqual([]);
    sims.scenario.beam('beam-2').restore();
    await settled();
    await sims.scenario.beam('beam-2').cross(300);
    await waitFor(() => sink.raises('zone.alarm', 'beam-2').length === 1, 'beam-2 raised after being ready');
    await run('partition.disarm', { partition: 'wall' });
    expect(sink.isActive('zone.alarm', 'beam-2')).toBe(false);
  });

  it('SOS raises zone.panic (critical) whatever the arming; the tamper switch zone.tamper; a fence cut zone.fault', async () => {
    expect(states().partitions.wall?.armed).toBe(false);
    await sims.scenario.sos('sos-gate').press(400);
    await waitFor(() => sink.raises('zone.panic', 'sos-gate').length === 1, 'zone.panic');
    expect(sink.raises('zone.panic')[0]!.priority).toBe('critical');
    sims.scenario.tamper('tamper-a').open();
    await waitFor(() => sink.isActive('zone.tamper', 'tamper-a'), 'zone.tamper');
    sims.scenario.tamper('tamper-a').close();
    sims.scenario.fence('fence-1').cut();
    await waitFor(() => sink.isActive('zone.fault', 'fence-1'), 'zone.fault');
    expect(states().zones['fence-1']?.state).toBe('fault');
    expect(sink.raises('zone.fault')[0]!.priority).toBe('medium');
    sims.scenario.fence('fence-1').repair();
    await waitFor(() => !sink.isActive('zone.fault', 'fence-1') && !sink.isActive('zone.tamper', 'tamper-a'), 'fault and tamper cleared');
  });

  it('a bypassed beam raises nothing; unbypass re-enables it', async () => {
    await run('partition.arm', { partition: 'wall' });
    const b = await run('zone.bypass', { zone: 'beam-1', minutes: 5 });
    expect(b).toMatchObject({ zone: 'beam-1', bypassed: true });
    expect(states().zones['beam-1']!.state).toBe('bypassed');
    sims.scenario.beam('beam-1').block();
    await settled();
    expect(sink.raises()).toEqual([]);
    // Unbypassed while still blocked: raised at once.
    expect(await run('zone.unbypass', { zone: 'beam-1' })).toMatchObject({ zone: 'beam-1', wasBypassed: true, bypassed: false });
    expect(sink.raises('zone.alarm', 'beam-1')).toHaveLength(1);
    await waitFor(() => events().some((e) => e.type === 'zone.unbypassed'), 'zone.unbypassed recorded');
    expect(
      events()
        .filter((e) => e.type.startsWith('zone.'))
        .map((e) => [e.type, e.data.by]),
    ).toEqual([
      ['zone.bypassed', 'guard-anna'],
      ['zone.unbypassed', 'guard-anna'],
    ]);
    await run('partition.disarm', { partition: 'wall' });
    expect((await runError('zone.bypass', { zone: 'nope', minutes: 5 })).code).toBe('DEVICE_UNKNOWN');
  });

  it('output.set turns the siren coil on at the module, and off again after `seconds`', async () => {
    const res = await run('output.set', { output: 'siren-1', on: true, seconds: 1 });
    expect(res).toMatchObject({ output: 'siren-1', on: true });
    expect(sims.coil('mod-a', 0)).toBe(true);
    expect(rig.perimeter.service.outputs.state('siren-1').on).toBe(true);
    await waitFor(() => !sims.coil('mod-a', 0), 'siren off after 1 s', 3000);
    const log = sims.module('mod-a').coilLog;
    expect(log.slice(-2).map((l) => l.on)).toEqual([true, false]);
    expect(log.at(-1)!.at - log.at(-2)!.at).toBeGreaterThanOrEqual(950);
    // The OutputDriver the alarm linkage uses.
    await rig.perimeter.outputs.setOutput('siren-1', true);
    expect(sims.coil('mod-a', 0)).toBe(true);
    await rig.perimeter.outputs.setOutput('siren-1', false);
    expect(sims.coil('mod-a', 0)).toBe(false);
    expect((await runError('output.set', { output: 'nope', on: true })).code).toBe('DEVICE_UNKNOWN');
  });

  it('a dead module raises module.offline (medium) and does not stall the other; answering again clears it', async () => {
    const a = rig.perimeter.service.module('mod-a')!;
    sims.module('mod-b').dead = true;
    await waitFor(() => sink.isActive('module.offline', 'mod-b'), 'module.offline raised for mod-b', 5000);
    expect(sink.raises('module.offline')[0]).toMatchObject({ priority: 'medium', data: { module: 'mod-b' } });
    expect(states().modules['mod-b']!.online).toBe(false);
    const from = a.polls;
    await waitFor(() => a.polls >= from + 10, 'mod-a keeps polling');
    sims.scenario.tamper('tamper-a').open();
    await waitFor(() => sink.isActive('zone.tamper', 'tamper-a'), 'mod-a still detects');
    sims.scenario.tamper('tamper-a').close();
    sims.module('mod-b').dead = false;
    await waitFor(() => !sink.isActive('module.offline', 'mod-b'), 'module.offline cleared', 5000);
    expect(states().modules['mod-b']!.online).toBe(true);
    // Like every other family, the module's presence changes are device events on the platform.
    rig.outbox.flush();
    const presence = events().filter((e) => (e.source as { device: string }).device === 'mod-b' && String(e.type).startsWith('device.'));
    expect(presence.map((e) => [e.class, e.type, e.data])).toEqual([
      ['device', 'device.online', { family: 'module' }],
      ['device', 'device.offline', { family: 'module', reason: expect.any(String) }],
      ['device', 'device.online', { family: 'module' }],
    ]);
  });

  it('the armed state survives a restart of the service on the same SQLite file', async () => {
    await run('partition.arm', { partition: 'wall' });
    await stopPerimeter(rig);
    const sink2 = new FakeAlarmSink();
    rig = startPerimeter(dir, config(), sink2);
    expect(states().partitions.wall).toMatchObject({ armed: true, by: 'guard-anna', override: true });
    expect(states().zones['beam-1']!.armed).toBe(true);
    await waitFor(() => states().modules['mod-a']?.online, 'mod-a online after restart');
    await sims.scenario.beam('beam-3').cross(300);
    await waitFor(() => sink2.raises('zone.alarm', 'beam-3').length === 1, 'armed after restart: beam-3 raises');
    // Only the one arming was recorded: the restart restored it quietly.
    expect(events().filter((e) => e.type === 'partition.armed' && e.data.by === 'guard-anna').length).toBeGreaterThanOrEqual(1);
    await run('partition.disarm', { partition: 'wall' });
  });
});
