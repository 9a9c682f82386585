/**
 * The cabinet service against simulated cabinets over Modbus TCP (ephemeral ports), with a
 * real outbox on a temp SQLite file and no uplink at all: every safety action here happens
 * with nothing to deliver to, which is the point. The sim's physics does not tick on its
 * own (tickMs 0): tests step it, so an hours-long charge takes a few calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CabinetConfig } from '../../config/schema.js';
import { systemClock } from '../../gateway/core/clock.js';
import type { CabinetService } from '../../gateway/charging/cabinet-service.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { waitFor } from '../helpers/wait.js';
import { cabinetProbes, testCabinetService, type Json } from '../helpers/cabinet-rig.js';

const POLL_MS = 200;

describe('CabinetService over Modbus TCP', () => {
  let dir: string;
  let sims: SimulatedCabinets;
  let outbox: Outbox;
  let service: CabinetService;
  let makeService: () => CabinetService;

  const { events, find, run, runError, port } = cabinetProbes(
    () => outbox,
    () => service,
  );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cabinet-svc-'));
    sims = await startSimulatedCabinets({
      tcp: [
        { id: 'cab-a', ports: 4, port: 0, host: '127.0.0.1' },
        { id: 'cab-b', ports: 2, port: 0, host: '127.0.0.1' },
      ],
      tickMs: 0,
    });
    const clock = systemClock({ forceState: 'synced' });
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    const cabinets = ['cab-a', 'cab-b'].map((id) =>
      CabinetConfig.parse({
        id,
        bus: { tcp: { host: '127.0.0.1', port: sims.tcpPort(id) } },
        unitId: 1,
        ports: id === 'cab-a' ? 4 : 2,
        pollMs: POLL_MS,
      }),
    );
    makeService = () =>
      testCabinetService({
        cabinets,
        outbox,
        clock,
        // Full after 300 ms under 10 W, so the taper test does not wait ten real minutes.
        safety: { fullForMin: 0.005 },
        busOptions: { timeoutMs: 150, retries: 0, deadAfter: 2, backoff: { minMs: 200, maxMs: 1000 } },
      });
    service = makeService();
    service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await sims?.stop();
    outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports both cabinets online with retained state', async () => {
    await waitFor(
      () => find('device.online', (e) => e.source.device === 'cab-a') && find('device.online', (e) => e.source.device === 'cab-b'),
      'both cabinets online',
    );
    const states = await waitFor(() => (outbox.readStates().length >= 2 ? outbox.readStates() : undefined), 'retained states');
    const a = JSON.parse(states.find((s) => s.device === 'cab-a')!.body) as Json;
    expect(a.online).toBe(true);
    expect(a.ports).toHaveLength(4);
  });

  it('runs a session started by command, with meter values, stopped as full when the battery tapers', async () => {
    sims.inject({ kind: 'plug', cabinet: 'cab-a', port: 1, soc: 0.8 });
    await waitFor(() => port('cab-a', 1)?.state === 'plugged', 'port 1 plugged');
    const res = await run('charging.start', { cabinet: 'cab-a', port: 1, sessionId: 4242, powerLimitW: 300 });
    expect(res).toMatchObject({ cabinet: 'cab-a', port: 1, sessionId: 4242, powerLimitW: 300 });
    expect(sims.cabinet('cab-a').port(1).state).toBe('charging');
    await waitFor(() => find('charging.session_started', (e) => e.data.sessionId === 4242), 'session_started');

    // Charge a little at a time until a meter value shows energy delivered.
    const meter = await waitFor(() => {
      sims.cabinet('cab-a').step(60_000);
      return find('charging.meter', (e) => e.data.sessionId === 4242 && e.data.energyWh > 0);
    }, 'a meter value with energy');
    expect(meter.data).toMatchObject({ cabinet: 'cab-a', port: 1 });

    // Constant voltage: the current tapers; the gateway stops the port once power stays low.
    const stopped = await waitFor(
      () => {
        // Well under the 10 W threshold: the register holds whole watts, so 9.8 W reads as 10.
        if (sims.cabinet('cab-a').port(1).power >= 5) sims.cabinet('cab-a').step(300_000);
        return find('charging.session_stopped', (e) => e.data.sessionId === 4242);
      },
      'session stopped as full',
      20_000,
      () => sims.cabinet('cab-a').reading(1),
    );
    expect(stopped.data.reason).toBe('full');
    expect(stopped.data.energyWh).toBeGreaterThan(0);
    expect(stopped.data.durationS).toBeGreaterThanOrEqual(0);
    // The stop was written before the event was recorded, but its answer may land after the commit.
    await waitFor(() => sims.cabinet('cab-a').accepted.some((c) => c.kind === 'stop' && c.port === 1), 'the cabinet accepted the stop');
    expect(service.sessions.get('cab-a', 1)).toBeUndefined();
  });

  it('stops an over-temperature port and raises its alarm', async () => {
    sims.inject({ kind: 'plug', cabinet: 'cab-a', port: 4, soc: 0.3 });
    await waitFor(() => port('cab-a', 4)?.state === 'plugged', 'port 4 plugged');
    const { sessionId } = await run('charging.start', { cabinet: 'cab-a', port: 4 });
    sims.inject({ kind: 'overheat', cabinet: 'cab-a', port: 4, extraC: 70 });
    sims.cabinet('cab-a').step(600_000);
    const stopped = await waitFor(
      () => find('charging.session_stopped', (e) => e.data.sessionId === sessionId),
      'session stopped on over-temperature',
    );
    expect(stopped.data.reason).toBe('over_temperature');
    const alarm = find('charging.port_over_temperature', (e) => e.data.port === 4)!;
    expect(alarm.class).toBe('alarm');
    expect(alarm.data).toMatchObject({ cabinet: 'cab-a', port: 4, active: true, priority: 'high' });
    await waitFor(() => sims.cabinet('cab-a').port(4).state === 'plugged', 'the cabinet switched port 4 off');
  });

  it('refuses commands with coded errors', async () => {
    const unplugged = await runError('charging.start', { cabinet: 'cab-a', port: 2 });
    expect(unplugged.code).toBe('DEVICE_REFUSED');
    expect(unplugged.details).toMatchObject({ cabinet: 'cab-a', port: 2, reason: 'not_plugged', state: 'available' });
    expect((await runError('charging.stop', { cabinet: 'cab-a', port: 2 })).details).toMatchObject({ reason: 'not_charging' });
    expect((await runError('charging.start', { cabinet: 'cab-z', port: 1 })).code).toBe('DEVICE_UNKNOWN');
    expect((await runError('charging.start', { cabinet: 'cab-a', port: 9 })).code).toBe('DEVICE_UNKNOWN');

    // A disabled port refuses a start, and comes back when enabled.
    sims.inject({ kind: 'plug', cabinet: 'cab-b', port: 2 });
    await waitFor(() => port('cab-b', 2)?.state === 'plugged', 'cab-b port 2 plugged');
    await run('charging.port_enable', { cabinet: 'cab-b', port: 2, enabled: false });
    await waitFor(() => port('cab-b', 2)?.state === 'disabled', 'port disabled');
    expect((await runError('charging.start', { cabinet: 'cab-b', port: 2 })).details).toMatchObject({ reason: 'port_disabled' });
    await run('charging.port_enable', { cabinet: 'cab-b', port: 2, enabled: true });
    await waitFor(() => port('cab-b', 2)?.state === 'plugged', 'port enabled again');
    expect(await run('charging.set_limit', { cabinet: 'cab-b', port: 2, powerLimitW: 150 })).toEqual({
      cabinet: 'cab-b',
      port: 2,
      powerLimitW: 150,
    });
  });

  it('cuts every port and records the fire alarm within one poll period + 100 ms of smoke, with no uplink', async () => {
    for (const p of [2, 3]) sims.inject({ kind: 'plug', cabinet: 'cab-a', port: p, soc: 0.4 });
    await waitFor(() => port('cab-a', 2)?.state === 'plugged' && port('cab-a', 3)?.state === 'plugged', 'ports 2 and 3 plugged');
    for (const p of [2, 3]) await run('charging.start', { cabinet: 'cab-a', port: p });
    await waitFor(() => port('cab-a', 2)?.state === 'charging' && port('cab-a', 3)?.state === 'charging', 'ports 2 and 3 charging as read');
    const sim = sims.cabinet('cab-a');
    const seen = sim.accepted.length;
    const t0 = performance.now();
    sims.inject({ kind: 'smoke', cabinet: 'cab-a' });
    await waitFor(
      () => {
        const after = sim.accepted.slice(seen);
        return (
          after.some((c) => c.kind === 'cabinetPower' && !c.on) && [2, 3].every((p) => after.some((c) => c.kind === 'stop' && c.port === p))
        );
      },
      'power cut and every port stopped',
      5000,
    );
    const offAt = performance.now() - t0;
    await waitFor(() => find('charging.fire'), 'fire alarm recorded', 5000);
    const alarmAt = performance.now() - t0;
    if (process.env.GATEHOUSE_REPORT_TIMINGS)
      console.info(`smoke -> all ports off ${offAt.toFixed(1)} ms, fire alarm recorded ${alarmAt.toFixed(1)} ms (poll ${POLL_MS} ms)`);
    expect(offAt, 'smoke -> every port off, ms').toBeLessThanOrEqual(POLL_MS + 100);
    expect(alarmAt, 'smoke -> fire alarm on disk, ms').toBeLessThanOrEqual(POLL_MS + 100);
    expect(sim.ports.every((p) => p.state !== 'charging' && p.state !== 'finishing')).toBe(true);
    expect(find('charging.fire')!.data).toMatchObject({ cabinet: 'cab-a', priority: 'critical', cause: 'smoke', active: true });
    await waitFor(
      () => [2, 3].every((p) => find('charging.session_stopped', (e) => e.data.port === p && e.data.reason === 'smoke')),
      'sessions stopped for smoke',
    );
    // Latched: no start until an operator resets the cabinet, even after the smoke clears.
    sims.inject({ kind: 'smoke', cabinet: 'cab-a', active: false });
    expect((await runError('charging.start', { cabinet: 'cab-a', port: 2 })).details).toMatchObject({ reason: 'cabinet_cut' });
  });

  it('reports a dead cabinet offline while the other keeps polling', async () => {
    sims.inject({ kind: 'dead', cabinet: 'cab-b' });
    await waitFor(() => find('device.offline', (e) => e.source.device === 'cab-b'), 'cab-b offline', 10_000);
    expect(find('device.offline', (e) => e.source.device === 'cab-a')).toBeUndefined();
    const before = service.unit('cab-a')!.last!.at;
    await waitFor(() => service.unit('cab-a')!.last!.at > before + POLL_MS, 'cab-a still polled');
    expect((await runError('charging.stop', { cabinet: 'cab-b', port: 2 })).code).toBe('DEVICE_OFFLINE');
    sims.inject({ kind: 'dead', cabinet: 'cab-b', active: false });
    await waitFor(
      () => events().filter((e) => e.type === 'device.online' && e.source.device === 'cab-b').length === 2,
      'cab-b back online',
      10_000,
    );
  });

  it('carries a session on across a gateway restart mid-charge', async () => {
    sims.inject({ kind: 'plug', cabinet: 'cab-b', port: 1, soc: 0.3 });
    await waitFor(() => port('cab-b', 1)?.state === 'plugged', 'cab-b port 1 plugged');
    const { sessionId } = await run('charging.start', { cabinet: 'cab-b', port: 1 });
    await waitFor(() => port('cab-b', 1)?.state === 'charging', 'charging as read');
    await service.stop();
    sims.cabinet('cab-b').step(600_000); // charges while the gateway is down
    service = makeService();
    expect(service.sessions.get('cab-b', 1)?.sessionId).toBe(sessionId);
    service.start();
    await waitFor(
      () => find('charging.meter', (e) => e.data.sessionId === sessionId && e.data.energyWh > 0),
      'meter values after the restart',
    );
    const res = await run('charging.stop', { cabinet: 'cab-b', port: 1 });
    expect(res).toMatchObject({ stopped: true, sessionId });
    const stopped = await waitFor(
      () => find('charging.session_stopped', (e) => e.data.sessionId === sessionId),
      'session_stopped recorded',
    );
    expect(stopped.data.reason).toBe('remote');
    expect(stopped.data.energyWh).toBeGreaterThan(0);
    expect(events().filter((e) => e.type === 'charging.session_started' && e.data.sessionId === sessionId)).toHaveLength(1);
    expect(
      events().filter((e) => e.type === 'charging.session_started' && e.data.cabinet === 'cab-b' && e.data.startedBy === 'local'),
    ).toHaveLength(0);
  });

  it('recorded only events and states the AsyncAPI document describes', () => {
    const all = events();
    expect(all.length).toBeGreaterThan(10);
    for (const e of all)
      expect(validateMessage(`gatehouse/v1/c/g/evt/${e.class}`, e.body), `${e.type}: ${e.body}`).toEqual({ ok: true, errors: [] });
    for (const s of outbox.readStates())
      expect(validateMessage(`gatehouse/v1/c/g/state/${s.device}`, s.body), s.body).toEqual({ ok: true, errors: [] });
    const types = new Set(all.map((e) => e.type));
    for (const t of [
      'device.online',
      'device.offline',
      'charging.session_started',
      'charging.meter',
      'charging.session_stopped',
      'charging.fire',
      'charging.port_over_temperature',
    ])
      expect(types).toContain(t);
  });
});
