/**
 * Fail-safe cabinet supervision (issue 11 item 3) end to end: the cabinet service against
 * simulated cabinets over Modbus TCP (ephemeral ports on 127.0.0.1) with a real outbox on a
 * temp SQLite file. The simulator sends what other makers' firmware sent (a port state code
 * outside the map, a smoke register holding 2, a cabinet block it refuses to give), and the
 * test observes only what reaches the cabinet (its accepted commands) and what the service
 * records. The sim's physics does not tick on its own (tickMs 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CabinetConfig, CommandsConfig } from '../../config/schema.js';
import { CABINET, portBlockAddress } from '../../drivers/cabinet/register-map.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { CommandRouter } from '../../gateway/commands/router.js';
import type { Caller, CommandReply } from '../../gateway/commands/types.js';
import { silentLogger } from '../../gateway/core/log.js';
import type { CabinetService } from '../../gateway/charging/cabinet-service.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { waitFor } from '../helpers/wait.js';
import { cabinetProbes, testCabinetService, type Json } from '../helpers/cabinet-rig.js';

const POLL_MS = 150;
const IDS = ['bad-port', 'bad-smoke', 'blind', 'latch', 'swap'] as const;
/** Configured as a cabinet but its signature register says otherwise (a wrong unit id): never identified. */
const STRANGER = 'stranger';

describe('cabinet supervision: bad fields, unreadable safety registers, persisted latch, charging.reset', () => {
  let dir: string;
  let sims: SimulatedCabinets;
  let outbox: Outbox;
  let service: CabinetService;
  const clock = systemClock({ forceState: 'synced' });

  const { events, find, run, runError, port } = cabinetProbes(
    () => outbox,
    () => service,
  );
  const ofCab = (cab: string) => (e: Json) => e.source.device === cab;
  const cut = (cab: string, since: number) =>
    sims
      .cabinet(cab)
      .accepted.slice(since)
      .some((c) => c.kind === 'cabinetPower' && !c.on);
  const state = (cab: string): Json | undefined => {
    const s = outbox.readStates().find((x) => x.device === cab);
    return s ? (JSON.parse(s.body) as Json) : undefined;
  };

  const makeService = () => {
    const cabinets = [...IDS, STRANGER].map((id) =>
      CabinetConfig.parse({ id, bus: { tcp: { host: '127.0.0.1', port: sims.tcpPort(id) } }, unitId: 1, ports: 4, pollMs: POLL_MS }),
    );
    return testCabinetService({
      cabinets,
      outbox,
      clock,
      safety: { reassertAfterMs: 500 },
      busOptions: { timeoutMs: 150, retries: 0, deadAfter: 2, backoff: { minMs: 200, maxMs: 1000 } },
    });
  };

  const startCharging = async (cab: string, n: number): Promise<number> => {
    sims.inject({ kind: 'plug', cabinet: cab, port: n, soc: 0.3 });
    await waitFor(() => port(cab, n)?.state === 'plugged', `${cab} port ${n} plugged`);
    const { sessionId } = (await run('charging.start', { cabinet: cab, port: n })) as { sessionId: number };
    sims.cabinet(cab).step(1000);
    await waitFor(() => port(cab, n)?.state === 'charging', `${cab} port ${n} charging as read`);
    return sessionId;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cabinet-supervision-'));
    sims = await startSimulatedCabinets({ tcp: [...IDS, STRANGER].map((id) => ({ id, ports: 4, port: 0, host: '127.0.0.1' })), tickMs: 0 });
    sims.inject({ kind: 'register', cabinet: STRANGER, address: 0x0000, raw: 0x1234 });
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    service = makeService();
    service.start();
    await waitFor(() => IDS.every((id) => find('device.online', ofCab(id))), 'every cabinet online');
  });

  afterAll(async () => {
    await service?.stop();
    await sims?.stop();
    outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps supervising a cabinet with one bad port state: the bad field is a rate-limited protocol fault, smoke still cuts', async () => {
    const sessionId = await startCharging('bad-port', 1);
    const sim = sims.cabinet('bad-port');
    sims.inject({ kind: 'register', cabinet: 'bad-port', address: portBlockAddress(2), raw: 9 });
    const fault = await waitFor(() => find('device.protocol_fault', ofCab('bad-port')), 'protocol fault recorded');
    expect(fault.data).toMatchObject({
      family: 'cabinet',
      code: 'DEVICE_PROTOCOL',
      field: 'port2.state',
      register: '0x0110',
      raw: 9,
      port: 2,
      safety: false,
    });
    // The rest of the reading stands: port 1 is still read and metered, port 2 is unknown.
    const at = service.unit('bad-port')!.last!.at;
    await waitFor(() => service.unit('bad-port')!.last!.at > at + 3 * POLL_MS, 'several more readings');
    expect(port('bad-port', 2)?.state).toBe('unknown');
    expect(port('bad-port', 1)?.state).toBe('charging');
    expect(service.sessions.get('bad-port', 1)?.sessionId).toBe(sessionId);
    expect(events().filter((e) => e.type === 'device.protocol_fault' && e.source.device === 'bad-port')).toHaveLength(1);
    expect(find('cabinet.unsupervised', ofCab('bad-port'))).toBeUndefined();

    const seen = sim.accepted.length;
    sims.inject({ kind: 'smoke', cabinet: 'bad-port' });
    await waitFor(
      () => cut('bad-port', seen),
      'the power cut reached the cabinet',
      5000,
      () => sim.accepted.slice(seen),
    );
    await waitFor(() => find('charging.fire', (e) => e.data.cabinet === 'bad-port' && e.data.active === true), 'fire alarm');
    await waitFor(
      () => find('charging.session_stopped', (e) => e.data.sessionId === sessionId && e.data.reason === 'smoke'),
      'session stopped for smoke',
    );
    expect(sim.powerOn).toBe(false);
  });

  it('refuses charging.reset while the smoke is still read, then releases the cabinet and switches it on', async () => {
    const sim = sims.cabinet('bad-port');
    const refused = await runError('charging.reset', { cabinet: 'bad-port', reason: 'checked by the guard' });
    expect(refused.code).toBe('DEVICE_REFUSED');
    expect(refused.details).toMatchObject({ reason: 'cause_present', cause: 'smoke' });
    expect(sim.powerOn).toBe(false);
    const noReason = await runError('charging.reset', { cabinet: 'bad-port', reason: '  ' }).catch((e: unknown) => e as Error);
    expect(noReason.name).toBe('ZodError');

    sims.inject({ kind: 'smoke', cabinet: 'bad-port', active: false });
    const at = service.unit('bad-port')!.last!.at;
    await waitFor(
      () => service.unit('bad-port')!.last!.at > at && service.unit('bad-port')!.last!.status.smoke === false,
      'smoke read clear',
    );
    // Still latched: a cleared detector does not switch power back on by itself.
    expect(state('bad-port')?.latched).toBe('smoke');
    expect((await runError('charging.start', { cabinet: 'bad-port', port: 1 })).details).toMatchObject({ reason: 'cabinet_cut' });

    const res = await run('charging.reset', { cabinet: 'bad-port', reason: 'fire brigade checked the cabinet' });
    expect(res).toMatchObject({ cabinet: 'bad-port', released: 'smoke', powerOn: true });
    expect(sim.powerOn).toBe(true);
    expect(sim.accepted.at(-1)).toEqual({ kind: 'cabinetPower', on: true });
    const reset = find('charging.reset', ofCab('bad-port'))!;
    expect(reset.data).toMatchObject({
      cabinet: 'bad-port',
      cause: 'smoke',
      reason: 'fire brigade checked the cabinet',
      principal: 'tester',
      via: 'cli',
    });
    await waitFor(() => find('charging.fire', (e) => e.data.cabinet === 'bad-port' && e.data.active === false), 'fire condition cleared');
    await waitFor(
      () => state('bad-port')?.latched === null && state('bad-port')?.status.powerOn === true,
      'retained state unlatched and powered',
    );
    sims.inject({ kind: 'register', cabinet: 'bad-port', address: portBlockAddress(2) });
  });

  it('a smoke register holding 2 makes the cabinet unsupervised after the configured polls, and cuts it', async () => {
    const sim = sims.cabinet('bad-smoke');
    const sessionId = await startCharging('bad-smoke', 3);
    const seen = sim.accepted.length;
    sims.inject({ kind: 'register', cabinet: 'bad-smoke', address: CABINET.address + CABINET.smoke, raw: 2 });
    const alarm = await waitFor(
      () => find('cabinet.unsupervised', (e) => e.source.device === 'bad-smoke' && e.data.active === true),
      'cabinet.unsupervised raised',
    );
    expect(alarm.class).toBe('alarm');
    expect(alarm.data).toMatchObject({ cabinet: 'bad-smoke', active: true, priority: 'high' });
    expect(alarm.data.value).toBe(3); // unsupervisedAfterPolls, default
    await waitFor(
      () => cut('bad-smoke', seen),
      'the unsupervised cabinet cut',
      5000,
      () => sim.accepted.slice(seen),
    );
    await waitFor(
      () => find('charging.session_stopped', (e) => e.data.sessionId === sessionId && e.data.reason === 'unsupervised'),
      'session stopped as unsupervised',
    );
    const fault = find('device.protocol_fault', ofCab('bad-smoke'))!;
    expect(fault.data).toMatchObject({ field: 'smoke', register: '0x00F3', raw: 2, safety: true });
    await waitFor(
      () => state('bad-smoke')?.unsupervised === true && state('bad-smoke')?.status.smoke === null,
      'retained state says smoke unknown',
    );
    expect(state('bad-smoke')?.latched).toBe('unsupervised');
    expect(find('device.offline', ofCab('bad-smoke'))).toBeUndefined();
    expect((await runError('charging.reset', { cabinet: 'bad-smoke', reason: 'x' })).details).toMatchObject({ cause: 'unsupervised' });

    // The register reads right again: the alarm clears, the cut stays latched until a reset.
    sims.inject({ kind: 'register', cabinet: 'bad-smoke', address: CABINET.address + CABINET.smoke });
    await waitFor(
      () => find('cabinet.unsupervised', (e) => e.source.device === 'bad-smoke' && e.data.active === false),
      'unsupervised cleared',
    );
    expect(sim.powerOn).toBe(false);

    // Through the real command router: a guard may not reset, the platform may; both audited.
    const router = new CommandRouter({ config: CommandsConfig.parse({}), outbox, clock, log: silentLogger(), timers: realTimers });
    for (const def of service.commands()) router.register(def);
    const send = async (id: string, caller: Caller): Promise<CommandReply> => {
      const body = JSON.stringify({ id, args: { cabinet: 'bad-smoke', reason: 'register fixed by the vendor' } });
      expect(validateMessage('gatehouse/v1/c/g/cmd/charging.reset', body)).toEqual({ ok: true, errors: [] });
      await router.handleMessage('charging.reset', Buffer.from(body), caller);
      const row = outbox.readReplies(0, 1000).at(-1)!;
      expect(validateMessage(`gatehouse/v1/c/g/${row.topic}`, row.body), row.body).toEqual({ ok: true, errors: [] });
      return JSON.parse(row.body) as CommandReply;
    };
    const guard = await send('r-guard', { via: 'console', role: 'guard', principal: 'night-guard' });
    expect(guard).toMatchObject({ ok: false, error: { code: 'CMD_FORBIDDEN' } });
    expect(sim.powerOn).toBe(false);
    // The first validation compiles the schemas and holds the event loop: let a fresh reading in.
    const at = service.unit('bad-smoke')!.last!.at;
    await waitFor(() => service.unit('bad-smoke')!.last!.at > at, 'a fresh reading');
    const platform = await send('r-platform', { via: 'uplink', role: 'platform', principal: 'platform' });
    expect(platform, JSON.stringify(platform)).toMatchObject({
      ok: true,
      result: { cabinet: 'bad-smoke', released: 'unsupervised', powerOn: true },
    });
    expect(sim.powerOn).toBe(true);
    const audits = events().filter((e) => e.type === 'command.executed' && e.data.command === 'charging.reset');
    expect(audits.map((e) => [e.data.id, e.data.ok, e.data.caller.principal])).toEqual([
      ['r-guard', false, 'night-guard'],
      ['r-platform', true, 'platform'],
    ]);
    expect(find('charging.reset', ofCab('bad-smoke'))!.data).toMatchObject({
      cause: 'unsupervised',
      reason: 'register fixed by the vendor',
      principal: 'platform',
      via: 'uplink',
    });
  });

  it('a cabinet that answers but refuses its safety registers is reported with the register and cut', async () => {
    const sim = sims.cabinet('blind');
    const seen = sim.accepted.length;
    sims.inject({ kind: 'safetyUnreadable', cabinet: 'blind', exception: 4 });
    await waitFor(
      () => find('cabinet.unsupervised', (e) => e.source.device === 'blind' && e.data.active === true),
      'cabinet.unsupervised raised',
    );
    await waitFor(
      () => cut('blind', seen),
      'the blind cabinet cut',
      5000,
      () => sim.accepted.slice(seen),
    );
    const faults = events().filter((e) => e.type === 'device.protocol_fault' && e.source.device === 'blind');
    expect(faults).toHaveLength(1);
    expect(faults[0]!.data).toMatchObject({ family: 'cabinet', field: 'poll', register: '0x00F0', modbusCode: 4, safety: true });
    expect(find('device.offline', ofCab('blind'))).toBeUndefined();
    // The latch is re-asserted while the contactor cannot be seen: the cabinet gets the cut again.
    const cuts = () => sim.accepted.slice(seen).filter((c) => c.kind === 'cabinetPower' && !c.on).length;
    await waitFor(() => cuts() >= 2, 'cut re-asserted while blind', 5000);
    sims.inject({ kind: 'safetyUnreadable', cabinet: 'blind', active: false });
    await waitFor(
      () => find('cabinet.unsupervised', (e) => e.source.device === 'blind' && e.data.active === false),
      'unsupervised cleared',
    );
  });

  it('never cuts blind a unit that was never identified as a cabinet (it may be another device): fault only', async () => {
    const fault = await waitFor(() => find('device.protocol_fault', ofCab(STRANGER)), 'protocol fault for the stranger');
    expect(fault.data).toMatchObject({ field: 'poll', register: '0x0000', safety: true });
    expect(fault.data.message).toMatch(/not a Gatehouse cabinet/);
    const sim = sims.cabinet(STRANGER);
    const before = sim.requests;
    await waitFor(() => sim.requests >= before + 6, 'six more polls of the stranger');
    expect(sims.cabinet(STRANGER).accepted).toEqual([]);
    expect(find('cabinet.unsupervised', ofCab(STRANGER))).toBeUndefined();
  });

  it('keeps a smoke latch across a gateway restart and re-asserts it on the rebooted cabinet', async () => {
    const sim = sims.cabinet('latch');
    const seen = sim.accepted.length;
    sims.inject({ kind: 'smoke', cabinet: 'latch' });
    await waitFor(() => cut('latch', seen), 'latch cabinet cut');
    await service.stop();
    // A real restart: the database file is closed and opened again.
    outbox.close();
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    // While the gateway is down: the detector clears and the controller reboots (contactor closed).
    sims.inject({ kind: 'smoke', cabinet: 'latch', active: false });
    sims.inject({ kind: 'reboot', cabinet: 'latch', downMs: 50 });
    await waitFor(() => !sim.dead && sim.powerOn, 'the cabinet rebooted with its power on');
    const again = sim.accepted.length;
    service = makeService();
    service.start();
    await waitFor(
      () => cut('latch', again),
      'the persisted latch re-asserted on the rebooted cabinet',
      5000,
      () => sim.accepted.slice(again),
    );
    expect(sim.powerOn).toBe(false);
    await waitFor(() => state('latch')?.latched === 'smoke', 'retained state latched after the restart');
    const res = await run('charging.reset', { cabinet: 'latch', reason: 'inspected after the restart' });
    expect(res).toMatchObject({ released: 'smoke' });
    expect(sim.powerOn).toBe(true);
    const at = service.unit('latch')!.last!.at;
    await waitFor(() => service.unit('latch')!.last!.at > at + 3 * POLL_MS, 'polled after the reset');
    expect(sim.powerOn).toBe(true);
  });

  it('records a replaced cabinet (another serial on the same unit id) as device.replaced', async () => {
    const oldSerial = sims.cabinet('swap').identity.serial;
    sims.inject({ kind: 'reboot', cabinet: 'swap', downMs: 600, newSerial: 'NEW-0042' });
    const e = await waitFor(() => find('device.replaced', ofCab('swap')), 'device.replaced recorded');
    expect(e.class).toBe('device');
    expect(e.data).toMatchObject({ family: 'cabinet', oldSerial, newSerial: 'NEW-0042' });
  });

  it('shows live port power in the retained state, as the meter events do', async () => {
    await startCharging('swap', 2);
    sims.cabinet('swap').step(60_000);
    const first = await waitFor(
      () => find('charging.meter', (e) => e.data.cabinet === 'swap' && e.data.port === 2 && e.data.powerW > 0),
      'a meter value with power',
    );
    // The power changes while the port's state does not (a lower limit): only a live refresh shows it.
    await run('charging.set_limit', { cabinet: 'swap', port: 2, powerLimitW: Math.floor(first.data.powerW / 2) });
    sims.cabinet('swap').step(1000);
    const meter = await waitFor(
      () =>
        find(
          'charging.meter',
          (e) => e.data.cabinet === 'swap' && e.data.port === 2 && e.data.powerW > 0 && e.data.powerW < first.data.powerW,
        ),
      'a meter value with the limited power',
    );
    const live = await waitFor(
      () => {
        const p = (state('swap')?.ports as Json[] | undefined)?.find((x) => x.port === 2);
        return p && p.powerW === meter.data.powerW ? p : undefined;
      },
      'retained state with the metered power',
      5000,
      () => state('swap'),
    );
    expect(live.powerW).toBeGreaterThan(0);
    expect(live.currentA).toBe(meter.data.currentA);
  });

  it('notices a cabinet swapped while the gateway was stopped (the serial is kept in outbox.db)', async () => {
    await service.stop();
    sims.inject({ kind: 'reboot', cabinet: 'swap', downMs: 50, newSerial: 'NEW-0043' });
    await waitFor(() => !sims.cabinet('swap').dead, 'the swapped cabinet answers');
    service = makeService();
    service.start();
    const e = await waitFor(
      () => find('device.replaced', (x) => x.source.device === 'swap' && x.data.newSerial === 'NEW-0043'),
      'device.replaced after the restart',
    );
    expect(e.data).toMatchObject({ family: 'cabinet', oldSerial: 'NEW-0042', newSerial: 'NEW-0043' });
    // The others were not replaced: no event for them after the restart.
    expect(
      events()
        .filter((x) => x.type === 'device.replaced')
        .map((x) => x.source.device),
    ).toEqual(['swap', 'swap']);
  });

  it('recorded only events and states the AsyncAPI document describes', () => {
    for (const e of events())
      expect(validateMessage(`gatehouse/v1/c/g/evt/${e.class}`, e.body), `${e.type}: ${e.body}`).toEqual({ ok: true, errors: [] });
    for (const s of outbox.readStates())
      expect(validateMessage(`gatehouse/v1/c/g/state/${s.device}`, s.body), s.body).toEqual({ ok: true, errors: [] });
  });
});
