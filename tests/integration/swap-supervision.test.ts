/**
 * Swap cabinets that answer with something outside the register map, or another controller
 * on the same unit id (issue 17 items 4 and 5, as issues 11 and 13 did for charging cabinets):
 * a Gateway on the rig (real Mosquitto platform), the swap cabinet simulator on real Modbus
 * TCP with register faults injected.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CABINET } from '../../drivers/cabinet/register-map.js';
import { SLOT, slotBlockAddress } from '../../drivers/swap/register-map.js';
import { startSimulatedSwapCabinets, type SimulatedSwapCabinets } from '../../sim/swap/index.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';

const POLL_MS = 100;
let sim: SimulatedSwapCabinets | undefined;
let rig: Rig | undefined;

afterEach(async () => {
  await rig?.stop();
  await sim?.stop();
  rig = sim = undefined;
});

async function start(name: string): Promise<{ rig: Rig; sim: SimulatedSwapCabinets }> {
  sim = await startSimulatedSwapCabinets({
    tcp: [{ id: 'swap-1', slots: 6, port: 0, host: '127.0.0.1', suppression: true }],
    tickMs: 0,
    stock: {},
  });
  rig = await startRig({
    name,
    config: {
      swapCabinets: [
        { id: 'swap-1', bus: { tcp: { host: '127.0.0.1', port: sim.tcpPort('swap-1') } }, slots: 6, pollMs: POLL_MS, suppression: true },
      ],
      swap: { packIdPrefixes: ['GH-'] },
    },
  });
  await rig.platform.waitState('swap-1', (s) => s.online === true && s.slots?.length === 6, 'swap-1 online and read');
  return { rig, sim };
}

const hex = (a: number) => `0x${a.toString(16).toUpperCase().padStart(4, '0')}`;

describe('swap cabinet per-field faults', () => {
  it('an out-of-range slot charger state invalidates that field only: smoke rising meanwhile still cuts the cabinet', async () => {
    const { rig, sim } = await start('swap-field-fault');
    const cab = sim.cabinet('swap-1');
    const address = slotBlockAddress(3) + SLOT.charger;
    sim.inject({ kind: 'register', cabinet: 'swap-1', address, raw: 9 });
    const fault = await rig.platform.waitEvent(
      { type: 'device.protocol_fault', where: (e) => e.data.field === 'slot3.charger' },
      'device.protocol_fault for slot 3',
    );
    expect(fault.data).toMatchObject({ family: 'cabinet', code: 'DEVICE_PROTOCOL', register: hex(address), raw: 9, safety: false });
    expect(fault.source).toEqual({ device: 'swap-1' });
    // The rest of the reading stands: the other slots, and slot 3's own SoC, are still shown.
    await rig.platform.waitState(
      'swap-1',
      (s) => s.online === true && s.slots?.[2]?.charger === 'unknown' && s.slots?.[0]?.soc === 94 && s.slots?.[2]?.soc === 92,
      'slot 3 charger unknown, the rest read',
    );

    sim.inject({ kind: 'smoke', cabinet: 'swap-1' });
    const fire = await rig.platform.waitEvent({ type: 'swap.fire' }, 'swap.fire with a slot register still outside the map');
    expect(fire.data).toMatchObject({ cabinet: 'swap-1', cause: 'smoke', suppression: true });
    await waitFor(() => !cab.powerOn && cab.suppression === 'discharged', 'power cut and suppression triggered');
    // A non-safety field is no reason to call the cabinet unsupervised.
    expect(rig.platform.events({ type: 'cabinet.unsupervised' })).toEqual([]);
    // Reported once, not once per poll.
    expect(rig.platform.events({ type: 'device.protocol_fault' }).filter((e) => e.data.field === 'slot3.charger')).toHaveLength(1);
    expect(rig.platform.invalid({ nonEmpty: true, only: (m) => m.sub.startsWith('evt/') })).toEqual([]);
  });

  it('a safety register outside the map (smoke holding 2) for 3 polls: cabinet.unsupervised and the power cut until it reads again and cabinet.power on', async () => {
    const { rig, sim } = await start('swap-unsupervised');
    const cab = sim.cabinet('swap-1');
    sim.inject({ kind: 'register', cabinet: 'swap-1', address: CABINET.address + CABINET.smoke, raw: 2 });
    const raised = await rig.platform.waitEvent({ type: 'cabinet.unsupervised' }, 'cabinet.unsupervised');
    expect(raised.data).toMatchObject({ cabinet: 'swap-1', active: true, priority: 'high', value: 3 });
    await waitFor(() => !cab.powerOn, 'the cabinet power cut');
    const fault = rig.platform.events({ type: 'device.protocol_fault' }).find((e) => e.data.field === 'smoke');
    expect(fault?.data).toMatchObject({ register: hex(CABINET.address + CABINET.smoke), raw: 2, safety: true });
    await rig.platform.waitEvent(
      { type: 'alarm.raised', where: (e) => e.data?.kind === 'cabinet.unsupervised' },
      'alarm.raised cabinet.unsupervised',
    );
    const refused = await rig.platform.command('cabinet.power', { cabinet: 'swap-1', on: true, reason: 'test' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'DEVICE_REFUSED' } });
    // Someone turns it back on at the cabinet: the gateway cuts it again while blind.
    cab.powerOn = true;
    await waitFor(() => !cab.powerOn, 'the cut re-asserted');

    sim.inject({ kind: 'register', cabinet: 'swap-1', address: CABINET.address + CABINET.smoke });
    const cleared = await rig.platform.waitEvent(
      { type: 'cabinet.unsupervised', where: (e) => e.data.active === false },
      'cabinet.unsupervised cleared',
    );
    expect(cleared.data.cabinet).toBe('swap-1');
    expect(cab.powerOn).toBe(false); // the cut holds until an operator restores it
    expect(await rig.platform.command('cabinet.power', { cabinet: 'swap-1', on: true, reason: 'test' })).toMatchObject({ ok: true });
    expect(cab.powerOn).toBe(true);
    expect(rig.platform.invalid({ nonEmpty: true, only: (m) => m.sub.startsWith('evt/') })).toEqual([]);
  });

  it('a cabinet block the controller refuses (exception 04) for 3 polls: unsupervised and cut, the refused read reported', async () => {
    const { rig, sim } = await start('swap-unreadable');
    sim.inject({ kind: 'safetyUnreadable', cabinet: 'swap-1', exception: 4 });
    const raised = await rig.platform.waitEvent({ type: 'cabinet.unsupervised' }, 'cabinet.unsupervised');
    expect(raised.data).toMatchObject({ active: true, value: 3 });
    await waitFor(() => !sim.cabinet('swap-1').powerOn, 'the cabinet power cut');
    const fault = rig.platform.events({ type: 'device.protocol_fault' }).find((e) => e.data.field === 'poll');
    expect(fault?.data).toMatchObject({ register: hex(CABINET.address), safety: true });
    expect(rig.platform.invalid({ nonEmpty: true, only: (m) => m.sub.startsWith('evt/') })).toEqual([]);
  });
});

describe('swap cabinet replaced', () => {
  it('another serial on the unit id is device.replaced, live and across a gateway restart', async () => {
    const { rig, sim } = await start('swap-replaced');
    const cab = sim.cabinet('swap-1');
    const first = cab.serial;
    sim.inject({ kind: 'reboot', cabinet: 'swap-1', downMs: 1500, newSerial: 'SWP-NEW-0001' });
    const e = await rig.platform.waitEvent({ type: 'device.replaced' }, 'device.replaced', 20_000);
    expect(e.source).toEqual({ device: 'swap-1' });
    expect(e.data).toMatchObject({ family: 'cabinet', oldSerial: first, newSerial: 'SWP-NEW-0001', vendor: 'Gatehouse Sim' });

    await rig.gateway.stop();
    cab.serial = 'SWP-NEW-0002';
    await rig.restartGateway();
    await rig.platform.waitEvent(
      { type: 'device.replaced', where: (x) => x.data.newSerial === 'SWP-NEW-0002' },
      'device.replaced after the restart',
      20_000,
    );
    const replaced = rig.platform.events({ type: 'device.replaced' });
    expect(replaced.map((x) => [x.data.oldSerial, x.data.newSerial])).toEqual([
      [first, 'SWP-NEW-0001'],
      ['SWP-NEW-0001', 'SWP-NEW-0002'],
    ]);
    expect(rig.platform.invalid({ nonEmpty: true, only: (m) => m.sub.startsWith('evt/') })).toEqual([]);
  }, 60_000);
});
