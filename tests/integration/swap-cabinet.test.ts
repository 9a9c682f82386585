/**
 * Battery-swap cabinets end to end (issue 17): a Gateway with the swap family, a real
 * Mosquitto platform (tests/helpers/rig.ts) and the simulated swap cabinet on Modbus TCP,
 * and on Modbus RTU over a socat pty pair. The simulator does not isolate, cut or relock by
 * itself beyond the register map, so what the tests see act is the gateway.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { startSimulatedSwapCabinets, type SimulatedSwapCabinets } from '../../sim/swap/index.js';
import { randomBytes } from 'node:crypto';
import { startSimulatedReaders, type SimulatedReaders } from '../../sim/osdp/index.js';
import type { SimulatedCamera } from '../../sim/camera/index.js';
import { startSwapFireRig } from '../helpers/swap-fire-rig.js';

const POLL_MS = 100;
let sim: SimulatedSwapCabinets | undefined;
let rig: Rig | undefined;
let pty: PtyPair | undefined;
let readers: SimulatedReaders | undefined;
let camera: SimulatedCamera | undefined;

afterEach(async () => {
  await rig?.stop();
  await camera?.stop();
  camera = undefined;
  await sim?.stop();
  await readers?.close();
  await pty?.stop();
  rig = sim = pty = readers = undefined;
});

/** A 6-slot cabinet on TCP: packs GH-swap-1-1..4 (94 %, 93 %, ...), slots 5 and 6 empty; physics stepped by the test. */
async function tcpRig(name: string, swap: Record<string, unknown> = {}): Promise<{ rig: Rig; sim: SimulatedSwapCabinets }> {
  sim = await startSimulatedSwapCabinets({
    tcp: [{ id: 'swap-1', slots: 6, port: 0, host: '127.0.0.1', suppression: true }],
    tickMs: 0,
    stock: {},
  });
  const port = sim.tcpPort('swap-1');
  rig = await startRig({
    name,
    config: {
      swapCabinets: [{ id: 'swap-1', bus: { tcp: { host: '127.0.0.1', port } }, slots: 6, pollMs: POLL_MS, suppression: true }],
      swap: { packIdPrefixes: ['GH-'], ...swap },
    },
  });
  await rig.platform.waitState('swap-1', (s) => s.online === true && s.slots?.length === 6, 'swap-1 online and read');
  return { rig, sim };
}

const cab = () => sim!.cabinet('swap-1');

describe('battery-swap cabinet over Modbus TCP', () => {
  it('a platform-authorised swap: empty slot opens, flat pack returned, the fullest healthy pack issued, swap.completed', async () => {
    const { rig } = await tcpRig('swap-ok');
    const reply = await rig.platform.command('swap.authorize', { cabinet: 'swap-1', rider: 'rider-7' });
    expect(reply).toMatchObject({ ok: true, result: { cabinet: 'swap-1', slot: 5 } });
    await waitFor(() => !cab().slot(5).doorLocked, 'slot 5 unlocked');
    expect(cab().riderReturns(5, { id: 'GH-RIDER-0001', soc: 0.1 })).toBe(true);
    await waitFor(
      () => !cab().slot(1).doorLocked,
      'slot 1 (94 %, the fullest) unlocked',
      5000,
      () => cab().slots,
    );
    expect(
      cab()
        .slots.filter((s) => !s.doorLocked)
        .map((s) => s.slot),
    ).toEqual([1]);
    expect(cab().riderTakes(1)?.id).toBe('GH-swap-1-1');
    const done = await rig.platform.waitEvent({ type: 'swap.completed' }, 'swap.completed');
    expect(done.data).toMatchObject({
      cabinet: 'swap-1',
      swapId: reply.result.swapId,
      returned: { slot: 5, batteryId: 'GH-RIDER-0001', soc: 10, energyWh: 96 },
      issued: { slot: 1, batteryId: 'GH-swap-1-1', soc: 94, energyWh: 902 },
      energyWh: 806,
    });
    expect(rig.platform.events({ type: 'swap.started' })[0]!.data).toMatchObject({
      slot: 5,
      authorizedBy: 'platform',
      principal: 'rider-7',
    });
    expect(rig.platform.invalid({ nonEmpty: true })).toEqual([]);
  });

  it('a foreign pack is refused and kept locked in an isolated slot; no pack is issued', async () => {
    const { rig } = await tcpRig('swap-foreign');
    await rig.platform.command('swap.authorize', { cabinet: 'swap-1' });
    await waitFor(() => !cab().slot(5).doorLocked, 'slot 5 unlocked');
    cab().riderReturns(5, { id: 'XX-OTHER-77', soc: 0.2 });
    const aborted = await rig.platform.waitEvent({ type: 'swap.aborted' }, 'swap.aborted');
    expect(aborted.data).toMatchObject({ reason: 'rejected_pack', rejection: 'foreign', slot: 5, batteryId: 'XX-OTHER-77' });
    await waitFor(() => cab().slot(5).isolated, 'slot 5 isolated in the cabinet');
    expect(cab().slot(5).doorLocked).toBe(true);
    expect(cab().slot(5).pack?.id).toBe('XX-OTHER-77');
    // The rider cannot take it back, and nothing else was unlocked.
    expect(cab().riderTakes(5)).toBeUndefined();
    expect(
      cab()
        .accepted.filter((c) => c.kind === 'open')
        .map((c) => ('slot' in c ? c.slot : 0)),
    ).toEqual([5]);
    expect(rig.platform.events({ type: 'swap.completed' })).toEqual([]);
    expect(rig.platform.invalid({ nonEmpty: true })).toEqual([]);
  });

  it('thermal runaway: the slot is isolated with a critical swap.thermal and its pack is never issued', async () => {
    const { rig } = await tcpRig('swap-thermal', { safety: { packRiseWindowS: 1 } });
    // Slot 2 holds the fullest pack; the gateway has read it steady for over a second, then it starts running away.
    cab().slot(2).pack!.soc = 1;
    const polls = cab().requests;
    await waitFor(() => cab().requests > polls + 30, '15 polls of steady temperatures');
    sim!.inject({ kind: 'runaway', cabinet: 'swap-1', slot: 2, cPerS: 1 });
    sim!.step(2000);
    const alarm = await rig.platform.waitEvent({ type: 'swap.thermal' }, 'swap.thermal');
    expect(alarm.data).toMatchObject({
      cabinet: 'swap-1',
      slot: 2,
      batteryId: 'GH-swap-1-2',
      active: true,
      priority: 'critical',
      cause: 'rise',
    });
    await waitFor(() => cab().slot(2).isolated && !cab().slot(2).chargeEnabled, 'slot 2 isolated, charger off');
    await rig.platform.waitEvent({ type: 'alarm.raised', where: (e) => e.data?.kind === 'swap.thermal' }, 'alarm.raised swap.thermal');
    // A swap now issues slot 1 (94 %), never slot 2 (100 % but isolated).
    await rig.platform.command('swap.authorize', { cabinet: 'swap-1' });
    await waitFor(() => !cab().slot(5).doorLocked, 'slot 5 unlocked');
    cab().riderReturns(5, { id: 'GH-RIDER-0002', soc: 0.1 });
    await waitFor(() => !cab().slot(1).doorLocked, 'slot 1 unlocked');
    expect(cab().slot(2).doorLocked).toBe(true);
    cab().riderTakes(1);
    const done = await rig.platform.waitEvent({ type: 'swap.completed' }, 'swap.completed');
    expect(done.data.issued.slot).toBe(1);
    // Released only when cool; an installer's slot.open is refused while isolated.
    const open = await rig.platform.command('slot.open', { cabinet: 'swap-1', slot: 2, reason: 'inspect' });
    expect(open.ok).toBe(false);
    expect(rig.platform.invalid({ nonEmpty: true })).toEqual([]);
  });

  it('smoke cuts the cabinet, triggers fire suppression and raises a critical swap.fire; power stays off while smoke is read', async () => {
    const { rig } = await tcpRig('swap-fire');
    sim!.inject({ kind: 'smoke', cabinet: 'swap-1' });
    const fire = await rig.platform.waitEvent({ type: 'swap.fire' }, 'swap.fire');
    expect(fire.data).toMatchObject({ cabinet: 'swap-1', cause: 'smoke', priority: 'critical', suppression: true });
    await waitFor(() => !cab().powerOn && cab().suppression === 'discharged', 'power cut and suppression discharged');
    const on = await rig.platform.command('cabinet.power', { cabinet: 'swap-1', on: true, reason: 'test' });
    expect(on).toMatchObject({ ok: false, error: { code: 'DEVICE_REFUSED' } });
    expect(cab().powerOn).toBe(false);
    expect(rig.platform.invalid({ nonEmpty: true })).toEqual([]);
  });

  it('a gateway restart mid-swap resumes the transaction from the store and completes it', async () => {
    const { rig } = await tcpRig('swap-restart');
    const reply = await rig.platform.command('swap.authorize', { cabinet: 'swap-1' });
    await waitFor(() => !cab().slot(5).doorLocked, 'slot 5 unlocked');
    await rig.gateway.stop();
    // While the gateway is down the rider returns the flat pack.
    cab().riderReturns(5, { id: 'GH-RIDER-0003', soc: 0.15 });
    await rig.restartGateway();
    await waitFor(() => !cab().slot(1).doorLocked, 'slot 1 unlocked after the restart');
    cab().riderTakes(1);
    const done = await rig.platform.waitEvent({ type: 'swap.completed' }, 'swap.completed');
    expect(done.data).toMatchObject({ swapId: reply.result.swapId, returned: { batteryId: 'GH-RIDER-0003' }, issued: { slot: 1 } });
  });

  it('a restart after the door relocked unused aborts the transaction cleanly (reason restart)', async () => {
    const { rig } = await tcpRig('swap-restart-abort');
    await rig.platform.command('swap.authorize', { cabinet: 'swap-1' });
    await waitFor(() => !cab().slot(5).doorLocked, 'slot 5 unlocked');
    await rig.gateway.stop();
    cab().step(61_000); // the cabinet's open timeout passes: the door relocks
    expect(cab().slot(5).doorLocked).toBe(true);
    await rig.restartGateway();
    const aborted = await rig.platform.waitEvent({ type: 'swap.aborted' }, 'swap.aborted');
    expect(aborted.data).toMatchObject({ reason: 'restart', slot: 5 });
    // The cabinet is free for the next swap.
    expect(await rig.platform.command('swap.authorize', { cabinet: 'swap-1' })).toMatchObject({ ok: true });
  });
});

describe('battery-swap cabinet over Modbus RTU (socat pty pair)', () => {
  it('a platform-authorised swap completes over the serial line', async () => {
    pty = await createPtyPair();
    sim = await startSimulatedSwapCabinets({
      rtu: { path: pty.b, baudRate: 115_200, units: [{ id: 'swap-r', slots: 4, unitId: 3 }] },
      tickMs: 0,
      stock: {},
    });
    rig = await startRig({
      name: 'swap-rtu',
      config: {
        swapCabinets: [{ id: 'swap-r', bus: { rtu: { path: pty.a, baudRate: 115_200 } }, unitId: 3, slots: 4, pollMs: POLL_MS }],
        swap: { packIdPrefixes: ['GH-'] },
      },
    });
    await rig.platform.waitState('swap-r', (s) => s.online === true, 'swap-r online');
    const c = sim.cabinet('swap-r');
    await rig.platform.command('swap.authorize', { cabinet: 'swap-r' });
    await waitFor(() => !c.slot(3).doorLocked, 'slot 3 unlocked');
    c.riderReturns(3, { id: 'GH-RIDER-0009', soc: 0.05 });
    await waitFor(() => !c.slot(1).doorLocked, 'slot 1 unlocked');
    c.riderTakes(1);
    const done = await rig.platform.waitEvent({ type: 'swap.completed' }, 'swap.completed');
    expect(done.data).toMatchObject({ cabinet: 'swap-r', returned: { slot: 3 }, issued: { slot: 1, batteryId: 'GH-swap-r-1' } });
    expect(rig.platform.invalid({ nonEmpty: true })).toEqual([]);
  });
});

describe("battery-swap cabinet authorised at the cabinet's own OSDP reader", () => {
  it('works with the uplink down (door group "battery-swap"), and every swap event is delivered when it returns', async () => {
    const key = randomBytes(16);
    pty = await createPtyPair();
    readers = await startSimulatedReaders({ path: pty.b, baudRate: 115_200, readers: [{ address: 1, key }] });
    sim = await startSimulatedSwapCabinets({ tcp: [{ id: 'swap-1', slots: 6, port: 0, host: '127.0.0.1' }], tickMs: 0, stock: {} });
    rig = await startRig({
      name: 'swap-reader',
      mosquitto: { persistence: true },
      platform: { clean: false },
      secrets: { 'osdp.swap-1-reader': key.toString('hex') },
      config: {
        uplink: { keepaliveSeconds: 5, ackTimeoutMs: 2000, connectTimeoutMs: 2000, backoff: { minMs: 50, maxMs: 300 } },
        osdpBuses: [{ id: 'rs485-1', path: pty.a }],
        readers: [{ id: 'swap-1-reader', bus: 'rs485-1', address: 1 }],
        doors: [{ id: 'swap-1-door', entryReader: 'swap-1-reader', lock: { reader: 'swap-1-reader', index: 0 } }],
        access: { doorGroups: { 'battery-swap': ['swap-1-door'] } },
        swapCabinets: [
          {
            id: 'swap-1',
            bus: { tcp: { host: '127.0.0.1', port: sim.tcpPort('swap-1') } },
            slots: 6,
            pollMs: POLL_MS,
            door: 'swap-1-door',
          },
        ],
        swap: { packIdPrefixes: ['GH-'] },
      },
    });
    await rig.platform.waitState('swap-1-reader', (s) => s.online === true && s.secure === true, 'reader online, secure', 20_000);
    await rig.platform.waitState('swap-1', (s) => s.online === true, 'swap-1 online');
    const snap = await rig.platform.command('access.credentials.snapshot', {
      version: 1,
      chunk: 0,
      chunks: 1,
      credentials: [
        { id: 'rider-ann', card: '1A2B3C4', mode: 'card', groups: ['battery-swap'] },
        { id: 'visitor-bo', card: '0BADF00', mode: 'card', groups: [] },
      ],
    });
    expect(snap).toMatchObject({ ok: true, result: { applied: true } });

    await rig.broker.stop();
    await waitFor(() => rig!.gateway.uplink?.status().connected === false, 'the gateway to notice the uplink is down');
    const seen = rig.platform.events().length;
    // A card without the group opens nothing; the rider's card starts the swap.
    readers.reader(1).swipe('0BADF00');
    readers.reader(1).swipe('1A2B3C4');
    await waitFor(() => !cab().slot(5).doorLocked, 'slot 5 unlocked by the reader grant', 10_000);
    expect(
      cab()
        .slots.filter((s) => !s.doorLocked)
        .map((s) => s.slot),
    ).toEqual([5]);
    cab().riderReturns(5, { id: 'GH-RIDER-0100', soc: 0.2 });
    await waitFor(() => !cab().slot(1).doorLocked, 'slot 1 unlocked');
    cab().riderTakes(1);
    await waitFor(() => cab().slot(1).doorLocked && !cab().slot(1).pack, 'slot 1 relocked, empty');
    expect(rig.platform.events().length).toBe(seen); // nothing reached the platform meanwhile

    await rig.broker.start();
    const done = await rig.platform.waitEvent({ type: 'swap.completed' }, 'swap.completed after the uplink returned', 30_000);
    expect(done.data).toMatchObject({ returned: { batteryId: 'GH-RIDER-0100', slot: 5 }, issued: { batteryId: 'GH-swap-1-1', slot: 1 } });
    expect(rig.platform.events({ type: 'swap.started' })[0]!.data).toMatchObject({ authorizedBy: 'reader', principal: 'rider-ann' });
    expect(rig.platform.invalid({ nonEmpty: true, only: (m) => m.sub.startsWith('evt/') })).toEqual([]);
  }, 60_000);
});

describe('battery-swap cabinet fire and the camera linkage rules', () => {
  it('swap.fire drives the linked camera to its preset and attaches a snapshot to the alarm', async () => {
    ({ camera, sim, rig } = await startSwapFireRig('swap-fire-camera', POLL_MS));
    await rig.platform.waitState('swap-1', (s) => s.online === true, 'swap-1 online');
    await waitFor(
      () => rig!.platform.events({ type: 'device.online' }).some((e) => e.source.device === 'cam-s'),
      'the camera online',
      20_000,
    );
    sim.inject({ kind: 'smoke', cabinet: 'swap-1' });
    const raised = await rig.platform.waitEvent(
      { type: 'alarm.raised', where: (e) => e.data?.kind === 'swap.fire' },
      'alarm.raised swap.fire',
    );
    expect(raised.data.priority).toBe('critical');
    const attached = await rig.platform.waitEvent(
      { type: 'alarm.media', where: (e) => e.data?.alarmId === raised.data.alarmId },
      'the snapshot attached to the fire alarm',
      15_000,
    );
    expect(rig.platform.events({ type: 'media.snapshot' }).find((e) => e.data.mediaId === attached.data.mediaId)?.data).toMatchObject({
      camera: 'cam-s',
    });
    expect(camera.currentPreset).toBe('swap');
    expect(cab().powerOn).toBe(false);
    expect(rig.platform.invalid({ nonEmpty: true, only: (m) => m.sub.startsWith('evt/') })).toEqual([]);
  }, 60_000);
});
