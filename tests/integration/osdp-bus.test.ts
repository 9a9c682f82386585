/**
 * The OSDP control panel over a real serial line: a socat pty pair with simulated readers
 * sharing the far end, as readers share an RS-485 pair. Clear-text readers here; the
 * secure channel has its own file (osdp-secure.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cardHexFromRaw } from '../../drivers/osdp/card.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { startOsdpRig, type OsdpRig } from '../helpers/osdp-rig.js';
import { waitFor } from '../helpers/wait.js';

const ADDRESSES = [1, 2, 3, 4];
let rig: OsdpRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const fourReaders = (extra: Record<number, object> = {}) =>
  startOsdpRig({
    sim: ADDRESSES.map((address) => ({ address, ...extra[address] })),
    cp: ADDRESSES.map((address) => ({ address, secure: 'off' as const })),
  });

describe('OSDP control panel over a pty', () => {
  it('brings four readers online with their identity and reports cards, keys, outputs and inputs', async () => {
    rig = await fourReaders({ 3: { identity: { model: 7, serial: 4242 } } });
    const r = rig;
    await waitFor(
      () => ADDRESSES.every((a) => r.online(a)),
      'four readers online',
      5000,
      () => r.cp.stats(),
    );
    const online = r.of('online');
    expect(online.map((e) => e.address).sort()).toEqual(ADDRESSES);
    expect(online.find((e) => e.address === 3)).toMatchObject({
      secure: false,
      identity: { vendor: '0A1B2C', model: 7, serial: 4242, firmware: '1.0.0' },
    });
    // The first status queries report the initial state: door shut (contact active), outputs off.
    await waitFor(() => r.of('inputs', 2).length > 0 && r.of('local-status', 2).length > 0, 'initial status of reader 2');
    expect(r.of('inputs', 2)[0]!.inputs).toEqual([true, false]);
    expect(r.of('outputs', 2)[0]!.outputs).toEqual([false, false]);
    expect(r.of('local-status', 2)[0]).toMatchObject({ tamper: false, power: false });

    // A card on reader 3 arrives with the right number, on reader 3 only.
    r.sim.reader(3).swipe('1ABCDEF');
    const card = await waitFor(() => r.of('card')[0], 'card event');
    expect(card.address).toBe(3);
    expect(card.bits).toBe(26);
    expect(cardHexFromRaw(card.bits, card.data)).toBe('1ABCDEF');

    r.sim.reader(2).typePin('1234#');
    expect((await waitFor(() => r.of('keypad')[0], 'keypad event')).keys).toBe('1234#');
    expect(r.of('keypad')[0]!.address).toBe(2);

    // Tamper -> local status.
    r.sim.reader(4).tamper(true);
    await waitFor(() => r.of('local-status', 4).some((e) => e.tamper), 'tamper reported');
    r.sim.reader(4).tamper(false);
    await waitFor(() => r.of('local-status', 4).at(-1)?.tamper === false, 'tamper cleared');
    expect(r.cp.stats().droppedWrongAddress + r.cp.stats().droppedWrongSqn).toBe(0);
  });

  it('pulses the lock on a card read; the resident walks through and the contact comes back as inputs', async () => {
    rig = await fourReaders({ 1: { door: { walkThroughMs: 500 } } });
    const r = rig;
    await waitFor(() => r.online(1) && r.of('inputs', 1).length > 0, 'reader 1 online with its inputs');
    // The decision maker: unlock on the card.
    r.cp.on('event', (e) => {
      if (e.kind === 'card' && e.address === 1) void r.cp.output(1, [{ output: 0, action: 'pulse-on', ms: 1000 }]);
    });
    const walked = await r.sim.reader(1).swipeAndWalk('0000042');
    expect(walked).toBe(true);
    await waitFor(() => r.of('outputs', 1).some((e) => e.outputs[0] === true), 'lock output reported on');
    await waitFor(() => r.of('inputs', 1).some((e) => e.inputs[0] === false), 'door open (contact inactive)');
    await waitFor(() => r.of('inputs', 1).at(-1)?.inputs[0] === true, 'door shut again');
    await waitFor(() => r.of('outputs', 1).at(-1)?.outputs[0] === false, 'lock relocked after the pulse');
    expect(r.sim.door(1).history.map((h) => h.event)).toEqual(['released', 'opened', 'closed', 'locked']);

    // Without an unlock the resident stays outside, and a forced door shows as open with the lock engaged.
    r.cp.removeAllListeners('event');
    r.cp.on('event', (e) => r.events.push(e));
    expect(await r.sim.reader(2).swipeAndWalk('0000043')).toBe(false);
    r.sim.door(2).force();
    await waitFor(() => r.of('inputs', 2).some((e) => e.inputs[0] === false), 'forced door reported open');
    expect(r.sim.door(2).history.map((h) => h.event)).toEqual(['forced', 'opened']);
  });

  it('resolves output/led on ACK and rejects a command the reader refuses with DEVICE_REFUSED', async () => {
    rig = await fourReaders({ 2: { buzzer: false } });
    const r = rig;
    await waitFor(() => r.online(2), 'reader 2 online');
    await r.cp.output(2, [{ output: 1, action: 'on' }]);
    expect(r.sim.reader(2).outputs[1]).toBe(true);
    await r.cp.led(2, { led: 0, color: 'green', ms: 2000 });
    expect(r.sim.reader(2).leds[0]).toMatchObject({ color: 'green' });
    const err = await r.cp.buzzer(2, { onMs: 200, offMs: 200, count: 2 }).catch((e: unknown) => e);
    expect(isGatehouseError(err, 'DEVICE_REFUSED')).toBe(true);
    expect(r.of('nak', 2)).toEqual([{ kind: 'nak', address: 2, command: 0x6a, code: 0x03 }]);
    // Refusing one command does not take the reader off line.
    expect(r.online(2)).toBe(true);
    await r.cp.buzzer(3, { onMs: 200, offMs: 200, count: 2 });
    const offline = await r.cp.output(9, [{ output: 0, action: 'on' }]).catch((e: unknown) => e);
    expect(isGatehouseError(offline, 'DEVICE_UNKNOWN')).toBe(true);
  });
});

describe('OSDP door scenarios and slow readers over a pty', () => {
  it('reports a tailgater holding the door, the exit button and a power failure', async () => {
    rig = await fourReaders();
    const r = rig;
    await waitFor(
      () => r.online(1) && r.of('inputs', 1).length > 0 && r.of('local-status', 1).length > 0,
      'reader 1 online with its status',
    );
    const held = r.sim.reader(1).tailgate(0.4);
    await waitFor(() => r.of('inputs', 1).at(-1)?.inputs[0] === false, 'door held open');
    await held;
    await waitFor(() => r.of('inputs', 1).at(-1)?.inputs[0] === true, 'door shut after the tailgater');
    r.sim.reader(1).pressExit(150);
    await waitFor(() => r.of('inputs', 1).some((e) => e.inputs[1]), 'exit button pressed');
    await waitFor(() => r.of('inputs', 1).at(-1)?.inputs[1] === false, 'exit button released');
    r.sim.reader(1).setPowerFailure(true);
    await waitFor(() => r.of('local-status', 1).at(-1)?.power === true, 'power failure reported');
  });

  it('keeps a slow reader that answers inside the reply timeout; replies after it count as misses and never pass for another reader', async () => {
    rig = await fourReaders();
    const r = rig;
    await waitFor(() => ADDRESSES.every((a) => r.online(a)), 'four readers online', 5000);
    // Counted from here: a loaded machine can time out a poll while the line comes up, which
    // says nothing about answers that arrive inside the reply timeout.
    const timeoutsBefore = r.cp.status().find((s) => s.address === 1)!.timeouts;
    r.sim.reader(1).slowMs = 120;
    r.sim.reader(1).swipe('0000123');
    await waitFor(() => r.of('card', 1)[0], 'card from the slow reader');
    expect(r.online(1)).toBe(true);
    expect(r.cp.status().find((s) => s.address === 1)!.timeouts - timeoutsBefore).toBe(0);

    // 400 ms: every command to it times out. A late reply that lands while another reader
    // is asked is dropped and counted; one that lands while its own repeat (same SQN) is
    // out is a valid answer to it, which is what the byte-identical repeat is for.
    r.sim.reader(1).slowMs = 400;
    await waitFor(() => r.cp.status().find((s) => s.address === 1)!.timeouts >= 3, 'timeouts of the too slow reader', 5000);
    await waitFor(() => r.cp.stats().droppedWrongAddress + r.cp.stats().droppedUnexpected > 0, 'late replies dropped', 5000);
    r.sim.reader(2).swipe('0000456');
    await waitFor(() => r.of('card', 2)[0], 'card from reader 2 meanwhile');
    expect(r.of('card', 2)).toHaveLength(1);
    expect([2, 3, 4].every((a) => r.online(a))).toBe(true);
    r.sim.reader(1).slowMs = 0;
    await waitFor(() => r.online(1), 'reader 1 online once fast again', 5000);
    r.sim.reader(1).swipe('0000789');
    await waitFor(() => r.of('card', 1).length === 2, 'second card from reader 1');
  });
});

describe('OSDP line faults over a pty', () => {
  it('takes an unplugged reader offline within the miss limit while the others keep their poll rate, and back online when plugged', async () => {
    rig = await fourReaders();
    const r = rig;
    await waitFor(() => ADDRESSES.every((a) => r.online(a)), 'four readers online', 5000);
    const polls = () => Object.fromEntries(r.cp.stats().readers.map((s) => [s.address, s.replies]));
    const rate = async (ms: number) => {
      const a = polls();
      const t0 = performance.now();
      await new Promise((res) => setTimeout(res, ms));
      const b = polls();
      const dt = (performance.now() - t0) / 1000;
      return Object.fromEntries(ADDRESSES.map((x) => [x, (b[x]! - a[x]!) / dt]));
    };
    const before = await rate(1000);

    const timeoutsBefore = r.cp.status().find((s) => s.address === 4)!.timeouts;
    let timeoutsAtOffline = -1;
    r.cp.on('event', (e) => {
      if (e.kind === 'offline' && e.address === 4)
        timeoutsAtOffline = r.cp.status().find((s) => s.address === 4)!.timeouts - timeoutsBefore;
    });
    r.sim.reader(4).unplug();
    const t0 = performance.now();
    await waitFor(() => r.of('offline', 4)[0], 'reader 4 offline', 5000);
    // Exactly offlineAfterMisses (4) unanswered commands: 4 × 200 ms plus the other readers' polls in between.
    expect(timeoutsAtOffline).toBe(4);
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(r.of('offline', 4)[0]!.reason).toMatch(/no reply/);
    const during = await rate(2000);
    for (const a of [1, 2, 3]) {
      // Probes of the dead reader (one reply timeout each, backoff up to 1 s here) may cost
      // the others some polls, never most of them.
      expect(during[a]!, `poll rate of reader ${a}: before ${before[a]}, during ${during[a]}`).toBeGreaterThan(before[a]! * 0.5);
    }
    expect(r.online(1) && r.online(2) && r.online(3)).toBe(true);

    r.sim.reader(4).plug();
    await waitFor(() => r.online(4), 'reader 4 back online', 5000);
    expect(r.of('online', 4)).toHaveLength(2);
  });

  it('counts replies with a broken CRC and drops them, without crashing or losing the other readers', async () => {
    rig = await fourReaders();
    const r = rig;
    await waitFor(() => ADDRESSES.every((a) => r.online(a)), 'four readers online', 5000);
    r.sim.reader(2).corruptCrc = true;
    await waitFor(() => r.cp.stats().badFrames >= 3, 'bad frames counted', 5000);
    await waitFor(() => r.of('offline', 2).length > 0, 'reader 2 offline (nothing it says can be read)', 5000);
    r.sim.reader(1).swipe('0ABCDEF');
    await waitFor(() => r.of('card', 1)[0], 'card on reader 1 still arrives');
    r.sim.reader(2).corruptCrc = false;
    await waitFor(() => r.online(2), 'reader 2 back', 5000);
    expect(ADDRESSES.every((a) => r.online(a))).toBe(true);
  });

  it('reopens the line when the adapter disappears (socat killed) and brings the readers back', async () => {
    rig = await fourReaders();
    const r = rig;
    await waitFor(() => ADDRESSES.every((a) => r.online(a)), 'four readers online', 5000);
    const downs: string[] = [];
    r.cp.on('lineDown', (reason) => downs.push(reason));
    await r.unplugAdapter();
    await waitFor(
      () => r.of('offline').length === 4,
      'all readers offline with the line',
      5000,
      () => r.cp.stats(),
    );
    expect(downs.length).toBe(1);
    const err = await r.cp.output(1, [{ output: 0, action: 'on' }]).catch((e: unknown) => e);
    expect(isGatehouseError(err, 'DEVICE_OFFLINE')).toBe(true);
    await new Promise((res) => setTimeout(res, 300)); // a few refused reopens

    await r.plugAdapter();
    await waitFor(
      () => ADDRESSES.every((a) => r.online(a)),
      'four readers online again',
      10_000,
      () => r.cp.stats(),
    );
    r.sim.reader(3).swipe('0000001');
    await waitFor(() => r.of('card', 3)[0], 'card after the reconnect');
    expect(r.cp.stats().reopens).toBeGreaterThan(0);
  });
});
