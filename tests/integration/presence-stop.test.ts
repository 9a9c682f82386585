/**
 * A planned stop is not a fault, end to end: a Gateway with two OSDP readers (secure
 * channel, socat pty line), an input module (Modbus TCP) and two smart locks (MQTT on the
 * embedded broker), forwarding to a real Mosquitto as the platform. Stopping it (what
 * SIGTERM does in `gatehouse run`) must put no alarm and no device.offline on the platform,
 * and leave every device's retained state saying `online: null, reason: gateway_stopped`.
 * Started again on the same data directory, it re-learns every device without an alarm.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedReaders, type SimulatedReaders } from '../../sim/osdp/index.js';
import { startSimulatedInputModules, type SimulatedInputModules } from '../../sim/perimeter/index.js';
import { startSimulatedLocks, type SimulatedLocks } from '../../sim/smartlock/index.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { startRig, type Rig, type RigCompound } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';

const READERS = ['gate-in', 'gate-out'];
const LOCKS = ['flat-1-101', 'flat-1-102'];
const MODULE = 'wall-north';
const DEVICES = [...READERS, ...LOCKS, MODULE];

describe('planned stop and restart', () => {
  let rig: Rig;
  let pty: PtyPair;
  let readers: SimulatedReaders;
  let modules: SimulatedInputModules;
  let locks: SimulatedLocks | undefined;
  let running = false;
  const keys = READERS.map(() => randomBytes(16));
  const passwords = Object.fromEntries(LOCKS.map((id) => [`devices.${id}`, randomBytes(12).toString('base64url')]));
  const secrets = { ...passwords, ...Object.fromEntries(READERS.map((r, i) => [`osdp.${r}`, keys[i]!.toString('hex')])) };
  /** What reached the platform with a body, in order (a mark is an index into it). */
  const messages = () => rig.platform.json();

  /** The locks connect to the embedded broker of the gateway now running. */
  const startLocks = async (): Promise<void> => {
    running = true;
    locks = await startSimulatedLocks({
      url: `mqtt://127.0.0.1:${rig.gateway.brokerPort}`,
      locks: LOCKS.map((id) => ({ id, password: passwords[`devices.${id}`]! })),
      scenario: false,
      seed: 3,
    });
  };
  const evts = (from: number) =>
    messages()
      .slice(from)
      .filter((m) => m.topic.includes('/evt/'));
  const announcedOnline = (from: number, device: string) =>
    evts(from).some((m) => m.body.type === 'device.online' && (m.body.source as { device: string }).device === device);

  beforeAll(async () => {
    pty = await createPtyPair();
    readers = await startSimulatedReaders({ path: pty.b, baudRate: 115_200, readers: keys.map((key, i) => ({ address: i + 1, key })) });
    modules = await startSimulatedInputModules({
      tcp: [{ id: MODULE, channels: 8, port: 0, host: '127.0.0.1' }],
      zones: [{ id: 'north-beam', module: MODULE, channel: 0, contact: 'NC' }],
    });
    const config: RigCompound = {
      compound: { id: 'stop-court' },
      uplink: { keepaliveSeconds: 5 },
      osdpBuses: [{ id: 'rs485-1', path: pty.a }],
      readers: READERS.map((id, i) => ({ id, bus: 'rs485-1', address: i + 1 })),
      doors: [{ id: 'main-gate', entryReader: 'gate-in', exitReader: 'gate-out', lock: { reader: 'gate-in', index: 0 } }],
      locks: LOCKS.map((id) => ({ id })),
      inputModules: [{ id: MODULE, bus: { tcp: { host: '127.0.0.1', port: modules.tcpPort(MODULE) } }, channels: 8, pollMs: 100 }],
      zones: [{ id: 'north-beam', module: MODULE, channel: 0, type: 'h24', contact: 'NC', debounceMs: 0 }],
    };
    rig = await startRig({ name: 'presence-stop', config, secrets, platform: { clientId: 'platform-stop' } });
    expect(rig.platform.root).toBe('gatehouse/v1/stop-court/gw-1');
    await startLocks();
    await waitFor(
      () => DEVICES.every((d) => announcedOnline(0, d)) || undefined,
      'every reader, lock and the module announced online',
      20_000,
    );
  }, 60_000);

  afterAll(async () => {
    await locks?.stop();
    if (running) await rig?.gateway.stop();
    await readers?.close();
    await pty?.stop();
    await modules?.stop();
    await rig?.stop();
  });

  it('stopping raises no alarm and reports no device offline; each retained state says gateway_stopped', async () => {
    const mark = messages().length;
    await rig.gateway.stop();
    running = false;
    // The devices are still there: they go away only now, as in a real compound the gateway just stops.
    await locks!.stop();
    locks = undefined;
    await waitFor(
      () =>
        messages()
          .slice(mark)
          .some((m) => m.topic.endsWith('/status') && m.body.state === 'offline') || undefined,
      'the gateway offline status',
    );
    const after = evts(mark);
    expect(after.filter((m) => m.body.type === 'alarm.raised')).toEqual([]);
    expect(after.filter((m) => m.body.type === 'device.offline' || (m.body.data as { active?: boolean }).active === true)).toEqual([]);
    expect(after.map((m) => m.body.type)).toContain('gateway.stopping');
    // What a platform (or a console) reading the retained topics now sees.
    const reader = await mqtt.connectAsync(rig.broker.url, { clientId: 'platform-retained', reconnectPeriod: 0 });
    const retained = new Map<string, Record<string, unknown>>();
    reader.on(
      'message',
      (topic, payload) =>
        payload.length && retained.set(topic.split('/').pop()!, JSON.parse(payload.toString()) as Record<string, unknown>),
    );
    await reader.subscribeAsync('gatehouse/v1/stop-court/gw-1/state/+', { qos: 1 });
    await waitFor(() => DEVICES.every((d) => retained.has(d)) || undefined, 'retained state of every device');
    await reader.endAsync();
    for (const d of DEVICES) expect(retained.get(d), d).toMatchObject({ online: null, reason: 'gateway_stopped' });
    // The rest of the state is kept: a lock still says whether it was locked, a module its channels.
    expect(retained.get(MODULE)).toMatchObject({ channels: 8 });
    expect(retained.get('gate-in')).toHaveProperty('tamper', false);
    for (const m of messages().slice(mark)) expect(validateMessage(m.topic, JSON.stringify(m.body)).errors, m.topic).toEqual([]);
  });

  it('started again, it re-learns every device with device.online and no alarm', async () => {
    const mark = messages().length;
    await rig.restartGateway();
    await startLocks();
    await waitFor(() => DEVICES.every((d) => announcedOnline(mark, d)) || undefined, 'every device announced online again', 20_000);
    const after = evts(mark);
    expect(after.filter((m) => m.body.type === 'alarm.raised')).toEqual([]);
    expect(after.filter((m) => m.body.type === 'device.offline')).toEqual([]);
    await waitFor(
      () =>
        DEVICES.every((d) =>
          messages()
            .slice(mark)
            .some((m) => m.topic.endsWith(`/state/${d}`) && m.body.online === true),
        ) || undefined,
      'retained states online again',
    );
    for (const m of messages().slice(mark)) expect(validateMessage(m.topic, JSON.stringify(m.body)).errors, m.topic).toEqual([]);
  }, 30_000);
});
