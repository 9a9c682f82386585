/**
 * The whole spine end to end: a Gateway with its embedded broker and simulated locks,
 * forwarding to a real Mosquitto as the district platform. Every message the gateway
 * publishes is validated against docs/asyncapi.yaml, and bad commands from the platform
 * and a lock impersonating another lock are answered or refused while the daemon keeps running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedLocks, type SimulatedLocks } from '../../sim/smartlock/index.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';

const LOCKS = ['flat-1-101', 'flat-1-102', 'flat-2-201'];
const PASSWORDS = Object.fromEntries(LOCKS.map((id, i) => [`devices.${id}`, `pw-${id}-${i}-x9`]));

describe('gateway end to end against Mosquitto', () => {
  let rig: Rig;
  let sim: SimulatedLocks;

  beforeAll(async () => {
    rig = await startRig({
      name: 'e2e',
      config: {
        compound: { id: 'e2e-court' },
        uplink: { keepaliveSeconds: 10 },
        commands: { maxPayloadBytes: 4096 },
        locks: LOCKS.map((id) => ({ id })),
      },
      secrets: PASSWORDS,
      platform: { reconnectPeriod: 0 },
    });
    sim = await startSimulatedLocks({
      url: `mqtt://127.0.0.1:${rig.gateway.brokerPort}`,
      locks: LOCKS.map((id) => ({ id, password: PASSWORDS[`devices.${id}`]! })),
      scenario: false,
      seed: 7,
    });
    await waitFor(
      () => LOCKS.every((id) => rig.platform.everState(id, (s) => s.online === true)),
      'every lock online at the platform',
      15_000,
    );
  });

  afterAll(async () => {
    await sim?.stop();
    await rig?.stop();
  });

  const published = () => rig.platform.messages;
  const command = (name: string, body: string | Buffer) => rig.platform.send(name, body);
  const allAnswers = () => rig.platform.replies();

  it('forwards lock events with masked credentials and retained state', async () => {
    await sim.inject({ kind: 'present', lock: 'flat-1-101', method: 'card', value: '04A1B2C3D4' });
    const evt = await waitFor(() => published().find((m) => m.topic.endsWith('/evt/access')), 'an access event', 10_000);
    const env = JSON.parse(evt.payload.toString());
    expect(env.source.device).toBe('flat-1-101');
    expect(env.data.credential).toMatch(/^\*+[0-9A-F]{0,4}$/);
    expect(evt.payload.toString()).not.toContain('04A1B2C3D4');
    await sim.inject({ kind: 'tamper', lock: 'flat-1-102', active: true });
    await waitFor(() => published().find((m) => m.topic.endsWith('/evt/alarm')), 'a tamper alarm', 10_000);
  });

  it('runs a remote open through the router and the lock', async () => {
    await command('lock.open', JSON.stringify({ id: 'open-1', args: { lock: 'flat-2-201' } }));
    const res = await rig.platform.answer('open-1');
    expect(res).toMatchObject({ id: 'open-1', ok: true });
  });

  it('answers bad commands with coded errors and keeps running', async () => {
    await command('lock.open', '{not json');
    await command('lock.open', JSON.stringify({ id: 'types-1', args: { lock: 42 } }));
    await command('no.such.command', JSON.stringify({ id: 'unknown-1' }));
    await command('lock.open', JSON.stringify({ id: 'expired-1', expires: '2020-01-01T00:00:00Z', args: { lock: 'flat-2-201' } }));
    await command('lock.open', JSON.stringify({ id: 'nolock-1', args: { lock: 'flat-9-999' } }));
    await command('system.ping', JSON.stringify({ id: 'big-1', pad: 'x'.repeat(10_000) }));
    expect((await rig.platform.answer('types-1')).error).toMatchObject({ code: 'CMD_INVALID' });
    expect((await rig.platform.answer('unknown-1')).error).toMatchObject({ code: 'CMD_UNKNOWN' });
    expect((await rig.platform.answer('expired-1')).error).toMatchObject({ code: 'CMD_EXPIRED' });
    expect((await rig.platform.answer('nolock-1')).error).toMatchObject({ code: 'DEVICE_UNKNOWN' });
    await waitFor(
      () => allAnswers().filter((a) => a.id === null).length >= 2,
      'answers with a null id for malformed and oversized commands',
      10_000,
    );
    const nullIdCodes = allAnswers()
      .filter((a) => a.id === null)
      .map((a) => (a.error as { code: string }).code);
    expect(nullIdCodes).toEqual(expect.arrayContaining(['CMD_MALFORMED', 'CMD_TOO_LARGE']));
    // Replay: the same id again is refused even though the first one ran.
    await command('system.ping', JSON.stringify({ id: 'replay-1' }));
    await waitFor(() => rig.platform.replies().find((a) => a.id === 'replay-1')?.ok === true, 'first ping answered', 10_000);
    const since = rig.platform.messages.length;
    await command('system.ping', JSON.stringify({ id: 'replay-1' }));
    expect((await rig.platform.answer('replay-1', 10_000, since)).error).toMatchObject({ code: 'CMD_REPLAYED' });
    // Still alive and answering.
    await command('system.ping', JSON.stringify({ id: 'alive-1' }));
    expect(await rig.platform.answer('alive-1')).toMatchObject({ ok: true });
  });

  it('refuses a lock publishing as another lock, and nothing reaches the platform', async () => {
    const before = published().filter((m) => m.topic.endsWith('/evt/access')).length;
    await sim.inject({
      kind: 'raw',
      lock: 'flat-1-101',
      topic: 'lan/v1/lock/flat-1-102/evt',
      payload: JSON.stringify({ type: 'unlock', result: 'granted', method: 'card', credential: '****1111' }),
    });
    // A genuine event afterwards proves the pipeline is flowing, so the forged one had its chance.
    await sim.inject({ kind: 'present', lock: 'flat-1-102', method: 'pin', value: '000000' });
    await waitFor(() => published().filter((m) => m.topic.endsWith('/evt/access')).length > before, 'the genuine event', 10_000);
    const forged = published().filter((m) => m.topic.endsWith('/evt/access') && m.payload.toString().includes('****1111'));
    expect(forged).toEqual([]);
  });

  it('publishes only messages the AsyncAPI document describes', async () => {
    await waitFor(() => published().length > 10, 'some traffic', 5000);
    // What the platform sent (cmd/{name}, some deliberately broken) is not the gateway's to answer for.
    expect(rig.platform.invalid()).toEqual([]);
    const fromGateway = published().filter((m) => !/\/cmd\/[^/]+$/.test(m.topic));
    const topics = new Set(fromGateway.map((m) => m.topic.slice(rig.gateway.root.length + 1).replace(/\/[^/]+$/, '/*')));
    expect([...topics]).toEqual(expect.arrayContaining(['status', 'evt/*', 'state/*', 'cmd/lock.open/*']));
  });
});
