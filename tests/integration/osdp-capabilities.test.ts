/**
 * What an OSDP reader says it can do (osdp_PDCAP) end to end: a Gateway with two simulated
 * readers on a real socat pty line and a real Mosquitto as the platform. Reader 1 answers
 * CAP with the capability bytes captured from a real Brivo keypad (OSDP.Net's test data, not
 * our encoder); reader 2 has a bi-colour LED and no buzzer. The retained reader state carries
 * the report; a refused card makes reader 1 beep, and reader 2 receives no osdp_BUZ at all
 * (read off the line with the deframer); a power failure the reader reports (LSTATR) is the
 * `reader.power_failure` alarm while it lasts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OsdpDeframer } from '../../drivers/osdp/deframer.js';
import { Cmd } from '../../drivers/osdp/types.js';
import { startSimulatedReaders, type SimulatedReaders } from '../../sim/osdp/index.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { startRig, type Rig, type RigCompound } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';

/** osdp_PDCAP data of a Brivo keypad, as captured in OSDP.Net's DeviceCapabilitiesTest. */
const BRIVO_PDCAP = Uint8Array.of(3, 1, 1, 4, 4, 1, 5, 2, 1, 6, 0, 0, 7, 0, 0, 8, 1, 0, 9, 1, 1, 10, 194, 1, 14, 0, 0, 15, 0, 0, 16, 1, 0);

describe('OSDP reader capabilities and power failure', () => {
  let rig: Rig;
  let pty: PtyPair;
  let sim: SimulatedReaders;
  /** What reached the platform with a body (a cleared retained state has none). */
  const messages = () => rig.platform.json();
  /** Commands the readers received over the pty, in order: [address, command code]. */
  const onWire: [number, number][] = [];
  const sent = (address: number, code: number) => onWire.filter(([a, c]) => a === address && c === code).length;
  const state = (reader: string) =>
    messages()
      .filter((m) => m.topic.endsWith(`/state/${reader}`))
      .at(-1)?.body;
  const evts = (type: string) => messages().filter((m) => m.topic.includes('/evt/') && m.body.type === type);

  beforeAll(async () => {
    pty = await createPtyPair();
    sim = await startSimulatedReaders({
      path: pty.b,
      baudRate: 115_200,
      readers: [
        { address: 1, pdcap: BRIVO_PDCAP },
        { address: 2, buzzer: false, led: 3 },
      ],
    });
    const deframer = new OsdpDeframer();
    sim.tap((direction, bytes) => {
      if (direction !== 'rx') return;
      for (const out of deframer.push(bytes))
        if (out.kind === 'frame' && !out.frame.reply) onWire.push([out.frame.address, out.frame.code]);
    });
    const config: RigCompound = {
      compound: { id: 'caps-court' },
      uplink: { keepaliveSeconds: 5 },
      osdpBuses: [{ id: 'rs485-1', path: pty.a }],
      readers: [
        { id: 'gate-in', bus: 'rs485-1', address: 1, secure: 'off' },
        { id: 'gate-out', bus: 'rs485-1', address: 2, secure: 'off' },
      ],
      doors: [{ id: 'main-gate', entryReader: 'gate-in', exitReader: 'gate-out', lock: { reader: 'gate-in', index: 0 } }],
      access: { doorGroups: { residents: ['main-gate'] } },
    };
    rig = await startRig({ name: 'osdp-caps', config, platform: { clientId: 'platform-caps' } });
    await waitFor(() => state('gate-in')?.online === true && state('gate-out')?.online === true, 'both readers online', 20_000);
  }, 60_000);

  afterAll(async () => {
    await rig?.gateway.stop();
    await sim?.close();
    await pty?.stop();
    await rig?.stop();
  });

  it("publishes each reader's capability report in its retained state", () => {
    expect(state('gate-in')!.capabilities).toEqual({
      inputs: 0,
      outputs: 0,
      ledColors: ['off', 'red', 'green', 'amber'],
      leds: 1,
      buzzer: true,
      text: null,
      crc: true,
      secureChannel: true,
      defaultKey: true,
      receiveBufferBytes: 450,
      largestMessageBytes: 0,
      osdpVersion: 1,
      raw: [
        [3, 1, 1],
        [4, 4, 1],
        [5, 2, 1],
        [6, 0, 0],
        [7, 0, 0],
        [8, 1, 0],
        [9, 1, 1],
        [10, 194, 1],
        [14, 0, 0],
        [15, 0, 0],
        [16, 1, 0],
      ],
    });
    expect(state('gate-out')).toMatchObject({
      powerFailure: false,
      capabilities: { inputs: 2, outputs: 2, ledColors: ['off', 'red', 'green'], buzzer: false, text: null },
    });
  });

  it('a refused card beeps on the reader with a buzzer; the one without gets its LED but no osdp_BUZ on the wire', async () => {
    sim.reader(1).swipe('3FFFFFF');
    await waitFor(() => sent(1, Cmd.BUZ) > 0 || undefined, 'osdp_BUZ to reader 1');
    expect(sim.reader(1).buzzer).toBeDefined();
    sim.reader(2).swipe('3FFFFFF');
    await waitFor(
      () => evts('access.denied').some((m) => (m.body.data as { reader: string }).reader === 'gate-out') || undefined,
      'the refusal at the exit reader',
    );
    await waitFor(() => sent(2, Cmd.LED) > 0 || undefined, 'osdp_LED to reader 2');
    expect(sim.reader(2).leds[0]).toMatchObject({ color: 'red' });
    // The buzzer command would follow the LED at once; let reader 2 be polled a few more times.
    const polls = sent(2, Cmd.POLL);
    await waitFor(() => sent(2, Cmd.POLL) >= polls + 5 || undefined, 'more polls of reader 2');
    expect(sent(2, Cmd.BUZ)).toBe(0);
  });

  it('a power failure the reader reports is the reader.power_failure alarm while it lasts, and shows in its state', async () => {
    sim.reader(1).setPowerFailure(true);
    await waitFor(() => evts('reader.power_failure').length === 1 || undefined, 'reader.power_failure raised');
    expect(evts('reader.power_failure')[0]!.body).toMatchObject({
      source: { device: 'gate-in' },
      data: { reader: 'gate-in', door: 'main-gate', active: true, priority: 'medium' },
    });
    await waitFor(() => state('gate-in')?.powerFailure === true || undefined, 'powerFailure in the state');
    await waitFor(
      () => evts('alarm.raised').some((m) => (m.body.data as { kind: string }).kind === 'reader.power_failure') || undefined,
      'an alarm raised for it',
    );
    sim.reader(1).setPowerFailure(false);
    await waitFor(() => evts('reader.power_failure').length === 2 || undefined, 'reader.power_failure cleared');
    expect(evts('reader.power_failure')[1]!.body).toMatchObject({ data: { active: false } });
    await waitFor(() => state('gate-in')?.powerFailure === false || undefined, 'powerFailure cleared in the state');
  });

  it('publishes only messages the AsyncAPI document describes', () => {
    const json = messages().filter((m) => !m.topic.includes('/media/'));
    expect(json.length).toBeGreaterThan(0);
    for (const m of json) expect(validateMessage(m.topic, m.raw), m.topic).toEqual({ ok: true, errors: [] });
  });
});
