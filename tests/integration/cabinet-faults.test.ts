/**
 * Cabinet faults end to end: the cabinet service against simulated cabinets over Modbus TCP
 * (ephemeral ports), with a real outbox on a temp SQLite file and no uplink. Each fault is
 * injected into the simulator and observed only through what the service records and does.
 * The sim's physics does not tick on its own (tickMs 0): tests step it.
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
import { cabinetProbes, testCabinetService } from '../helpers/cabinet-rig.js';

const POLL_MS = 200;

describe('CabinetService under cabinet faults', () => {
  let dir: string;
  let sims: SimulatedCabinets;
  let outbox: Outbox;
  let service: CabinetService;

  const { events, find, run, port } = cabinetProbes(
    () => outbox,
    () => service,
  );

  /** Plugs a bike in, starts a session by command and waits until the service reads it charging. */
  const startCharging = async (cab: string, n: number, soc = 0.3): Promise<number> => {
    sims.inject({ kind: 'plug', cabinet: cab, port: n, soc });
    await waitFor(() => port(cab, n)?.state === 'plugged', `${cab} port ${n} plugged`);
    const { sessionId } = (await run('charging.start', { cabinet: cab, port: n })) as { sessionId: number };
    await waitFor(() => find('charging.session_started', (e) => e.data.sessionId === sessionId), `${cab} port ${n} session_started`);
    sims.cabinet(cab).step(1000);
    await waitFor(() => port(cab, n)?.state === 'charging', `${cab} port ${n} charging as read`);
    return sessionId;
  };
  const stoppedEvent = (sessionId: number, what: string, detail?: () => unknown) =>
    waitFor(() => find('charging.session_stopped', (e) => e.data.sessionId === sessionId), what, 10_000, detail);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cabinet-faults-'));
    sims = await startSimulatedCabinets({
      tcp: [
        { id: 'cab-a', ports: 4, port: 0, host: '127.0.0.1' },
        { id: 'cab-r', ports: 2, port: 0, host: '127.0.0.1' },
      ],
      tickMs: 0,
    });
    const clock = systemClock({ forceState: 'synced' });
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    const cabinets = [
      CabinetConfig.parse({
        id: 'cab-a',
        bus: { tcp: { host: '127.0.0.1', port: sims.tcpPort('cab-a') } },
        unitId: 1,
        ports: 4,
        pollMs: POLL_MS,
      }),
      CabinetConfig.parse({
        id: 'cab-r',
        bus: { tcp: { host: '127.0.0.1', port: sims.tcpPort('cab-r') } },
        unitId: 1,
        ports: 2,
        pollMs: POLL_MS,
      }),
    ];
    service = testCabinetService({
      cabinets,
      outbox,
      clock,
      busOptions: { timeoutMs: 150, retries: 0, deadAfter: 2, backoff: { minMs: 200, maxMs: 1000 } },
    });
    service.start();
    await waitFor(
      () => find('device.online', (e) => e.source.device === 'cab-a') && find('device.online', (e) => e.source.device === 'cab-r'),
      'both cabinets online',
    );
  });

  afterAll(async () => {
    await service?.stop();
    await sims?.stop();
    outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops a shorted port as over_current and raises its alarm', async () => {
    const sessionId = await startCharging('cab-a', 1);
    const sim = sims.cabinet('cab-a');
    const seen = sim.accepted.length;
    sims.inject({ kind: 'short', cabinet: 'cab-a', port: 1 });
    sim.step(1000); // the short shows in the port's current on the next physics step
    const stopped = await stoppedEvent(sessionId, 'session stopped on over-current', () => sim.reading(1));
    expect(stopped.data).toMatchObject({ cabinet: 'cab-a', port: 1, reason: 'over_current' });
    const alarm = find('charging.port_over_current', (e) => e.data.port === 1 && e.data.active === true)!;
    expect(alarm).toBeDefined();
    expect(alarm.class).toBe('alarm');
    expect(alarm.data).toMatchObject({ cabinet: 'cab-a', port: 1, active: true, priority: 'high' });
    await waitFor(() => sim.accepted.slice(seen).some((c) => c.kind === 'stop' && c.port === 1), 'the cabinet accepted the stop');
    await waitFor(() => sim.port(1).state === 'plugged', 'port 1 output off');
    expect(service.sessions.get('cab-a', 1)).toBeUndefined();
    // Clear the fault and take the bike away so later tests start from a quiet cabinet.
    sims.inject({ kind: 'short', cabinet: 'cab-a', port: 1, active: false });
    sims.inject({ kind: 'unplug', cabinet: 'cab-a', port: 1 });
    await waitFor(() => port('cab-a', 1)?.state === 'available', 'port 1 available again');
  });

  it('ends the session as unplugged when the bike is pulled mid-session', async () => {
    const sessionId = await startCharging('cab-a', 2);
    sims.cabinet('cab-a').step(60_000);
    sims.inject({ kind: 'unplug', cabinet: 'cab-a', port: 2 });
    const stopped = await stoppedEvent(sessionId, 'session stopped on unplug', () => sims.cabinet('cab-a').reading(2));
    expect(stopped.data).toMatchObject({ cabinet: 'cab-a', port: 2, reason: 'unplugged' });
    expect(stopped.data.energyWh).toBeGreaterThanOrEqual(0);
    expect(service.sessions.get('cab-a', 2)).toBeUndefined();
    expect(port('cab-a', 2)?.state).toBe('available');
  });

  it('ends every session as mains_loss when the mains goes, and records its return', async () => {
    const ids = [await startCharging('cab-a', 3), await startCharging('cab-a', 4)];
    sims.inject({ kind: 'mains', cabinet: 'cab-a', present: false });
    const lost = await waitFor(() => find('charging.mains_lost', (e) => e.data.cabinet === 'cab-a'), 'mains_lost recorded');
    expect(lost.class).toBe('charging');
    for (const [i, sessionId] of ids.entries()) {
      const stopped = await stoppedEvent(sessionId, `session on port ${i + 3} stopped on mains loss`);
      expect(stopped.data).toMatchObject({ cabinet: 'cab-a', port: i + 3, reason: 'mains_loss' });
    }
    expect(find('charging.mains_restored', (e) => e.data.cabinet === 'cab-a')).toBeUndefined();
    sims.inject({ kind: 'mains', cabinet: 'cab-a', present: true });
    const restored = await waitFor(() => find('charging.mains_restored', (e) => e.data.cabinet === 'cab-a'), 'mains_restored recorded');
    expect(restored.class).toBe('charging');
    expect(restored.data.voltage).toBeGreaterThan(200);
    await waitFor(() => port('cab-a', 3)?.state === 'plugged' && port('cab-a', 4)?.state === 'plugged', 'ports 3 and 4 plugged again');
    expect(service.sessions.get('cab-a', 3)).toBeUndefined();
    expect(service.sessions.get('cab-a', 4)).toBeUndefined();
  });

  it('survives a cabinet reboot: offline, back online, polling and charging resume', async () => {
    const sessionId = await startCharging('cab-r', 1);
    const before = service.unit('cab-a')!.last!.at;
    sims.inject({ kind: 'reboot', cabinet: 'cab-r', downMs: 1500 });
    await waitFor(() => find('device.offline', (e) => e.source.device === 'cab-r'), 'cab-r offline during the reboot', 10_000);
    // The other cabinet is unaffected.
    await waitFor(() => service.unit('cab-a')!.last!.at > before + POLL_MS, 'cab-a still polled');
    expect(find('device.offline', (e) => e.source.device === 'cab-a')).toBeUndefined();
    await waitFor(
      () => events().filter((e) => e.type === 'device.online' && e.source.device === 'cab-r').length === 2,
      'cab-r back online',
      10_000,
    );
    const back = service.unit('cab-r')!.last!.at;
    await waitFor(() => service.unit('cab-r')!.last!.at > back + POLL_MS, 'cab-r polled again');
    // The rebooted controller forgot the session: the gateway does not keep it open forever.
    const ended = await stoppedEvent(sessionId, 'the interrupted session ended', () => sims.cabinet('cab-r').reading(1));
    // The uptime register went backwards: the gateway says why the session ended.
    expect(ended.data.reason).toBe('reboot');
    expect(service.sessions.get('cab-r', 1)).toBeUndefined();
    // And the cabinet can be used again.
    const { sessionId: again } = (await run('charging.start', { cabinet: 'cab-r', port: 1 })) as { sessionId: number };
    expect(again).not.toBe(sessionId);
    await waitFor(() => find('charging.session_started', (e) => e.data.sessionId === again), 'new session after the reboot');
  });

  it('recorded only events and states the AsyncAPI document describes', () => {
    const all = events();
    for (const e of all)
      expect(validateMessage(`gatehouse/v1/c/g/evt/${e.class}`, e.body), `${e.type}: ${e.body}`).toEqual({ ok: true, errors: [] });
    for (const s of outbox.readStates())
      expect(validateMessage(`gatehouse/v1/c/g/state/${s.device}`, s.body), s.body).toEqual({ ok: true, errors: [] });
    const types = new Set(all.map((e) => e.type));
    for (const t of [
      'device.online',
      'device.offline',
      'charging.session_started',
      'charging.session_stopped',
      'charging.port_over_current',
      'charging.mains_lost',
      'charging.mains_restored',
    ])
      expect(types).toContain(t);
  });
});
