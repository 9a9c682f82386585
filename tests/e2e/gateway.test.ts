/**
 * The whole spine end to end: a Gateway with its embedded broker and simulated locks,
 * forwarding to a real Mosquitto as the district platform. Every message the gateway
 * publishes is validated against docs/asyncapi.yaml, and bad commands from the platform
 * and a lock impersonating another lock are answered or refused while the daemon keeps running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import { startSimulatedLocks, type SimulatedLocks } from '../../sim/smartlock/index.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { waitFor } from '../helpers/wait.js';

const LOCKS = ['flat-1-101', 'flat-1-102', 'flat-2-201'];
const PASSWORDS = Object.fromEntries(LOCKS.map((id, i) => [`devices.${id}`, `pw-${id}-${i}-x9`]));

describe('gateway end to end against Mosquitto', () => {
  let broker: Mosquitto;
  let gateway: Gateway;
  let sim: SimulatedLocks;
  let platform: MqttClient;
  let dir: string;
  const published: { topic: string; payload: Buffer }[] = [];
  const answers = new Map<string, Record<string, unknown>>();
  const allAnswers: Record<string, unknown>[] = [];

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: false });
    dir = mkdtempSync(join(tmpdir(), 'gh-e2e-'));
    const config = CompoundConfig.parse({
      compound: { id: 'e2e-court' },
      gateway: { id: 'gw-1' },
      broker: { port: 0 },
      console: { enabled: false },
      uplink: { url: broker.url, keepaliveSeconds: 10 },
      commands: { maxPayloadBytes: 4096 },
      log: { level: 'silent' },
      locks: LOCKS.map((id) => ({ id })),
    });
    gateway = new Gateway({ config, secrets: secretsFrom(PASSWORDS), dataDir: dir, logs: createLoggerFactory({ level: 'silent' }, { destination: process.stderr }) });
    platform = await mqtt.connectAsync(broker.url, { clientId: 'platform-e2e', reconnectPeriod: 0 });
    platform.on('message', (topic, payload) => {
      published.push({ topic, payload });
      const m = /\/cmd\/([^/]+)\/res$/.exec(topic);
      if (m) {
        const body = JSON.parse(payload.toString()) as Record<string, unknown>;
        allAnswers.push(body);
        if (body.id !== null) answers.set(String(body.id), body);
      }
    });
    await platform.subscribeAsync(`${gateway.root}/#`, { qos: 1 });
    await gateway.start();
    sim = await startSimulatedLocks({ url: `mqtt://127.0.0.1:${gateway.brokerPort}`, locks: LOCKS.map((id) => ({ id, password: PASSWORDS[`devices.${id}`]! })), scenario: false, seed: 7 });
    await waitFor(() => LOCKS.every((id) => published.some((m) => m.topic.endsWith(`/state/${id}`) && JSON.parse(m.payload.toString()).online === true)), 'every lock online at the platform', 15_000);
  });

  afterAll(async () => {
    await sim?.stop();
    await gateway?.stop();
    await platform?.endAsync();
    await broker?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const command = (name: string, body: string | Buffer) => platform.publishAsync(`${gateway.root}/cmd/${name}`, body, { qos: 1 });
  const answer = (id: string) => waitFor(() => answers.get(id), `answer to command ${id}`, 10_000);

  it('forwards lock events with masked credentials and retained state', async () => {
    await sim.inject({ kind: 'present', lock: 'flat-1-101', method: 'card', value: '04A1B2C3D4' });
    const evt = await waitFor(() => published.find((m) => m.topic.endsWith('/evt/access')), 'an access event', 10_000);
    const env = JSON.parse(evt.payload.toString());
    expect(env.source.device).toBe('flat-1-101');
    expect(env.data.credential).toMatch(/^\*+[0-9A-F]{0,4}$/);
    expect(evt.payload.toString()).not.toContain('04A1B2C3D4');
    await sim.inject({ kind: 'tamper', lock: 'flat-1-102', active: true });
    await waitFor(() => published.find((m) => m.topic.endsWith('/evt/alarm')), 'a tamper alarm', 10_000);
  });

  it('runs a remote open through the router and the lock', async () => {
    await command('lock.open', JSON.stringify({ id: 'open-1', args: { lock: 'flat-2-201' } }));
    const res = await answer('open-1');
    expect(res).toMatchObject({ id: 'open-1', ok: true });
  });

  it('answers bad commands with coded errors and keeps running', async () => {
    await command('lock.open', '{not json');
    await command('lock.open', JSON.stringify({ id: 'types-1', args: { lock: 42 } }));
    await command('no.such.command', JSON.stringify({ id: 'unknown-1' }));
    await command('lock.open', JSON.stringify({ id: 'expired-1', expires: '2020-01-01T00:00:00Z', args: { lock: 'flat-2-201' } }));
    await command('lock.open', JSON.stringify({ id: 'nolock-1', args: { lock: 'flat-9-999' } }));
    await command('system.ping', JSON.stringify({ id: 'big-1', pad: 'x'.repeat(10_000) }));
    expect((await answer('types-1')).error).toMatchObject({ code: 'CMD_INVALID' });
    expect((await answer('unknown-1')).error).toMatchObject({ code: 'CMD_UNKNOWN' });
    expect((await answer('expired-1')).error).toMatchObject({ code: 'CMD_EXPIRED' });
    expect((await answer('nolock-1')).error).toMatchObject({ code: 'DEVICE_UNKNOWN' });
    await waitFor(() => allAnswers.filter((a) => a.id === null).length >= 2, 'answers with a null id for malformed and oversized commands', 10_000);
    const nullIdCodes = allAnswers.filter((a) => a.id === null).map((a) => (a.error as { code: string }).code);
    expect(nullIdCodes).toEqual(expect.arrayContaining(['CMD_MALFORMED', 'CMD_TOO_LARGE']));
    // Replay: the same id again is refused even though the first one ran.
    await command('system.ping', JSON.stringify({ id: 'replay-1' }));
    await waitFor(() => answers.get('replay-1')?.ok === true, 'first ping answered', 10_000);
    answers.delete('replay-1');
    await command('system.ping', JSON.stringify({ id: 'replay-1' }));
    expect((await answer('replay-1')).error).toMatchObject({ code: 'CMD_REPLAYED' });
    // Still alive and answering.
    await command('system.ping', JSON.stringify({ id: 'alive-1' }));
    expect(await answer('alive-1')).toMatchObject({ ok: true });
  });

  it('refuses a lock publishing as another lock, and nothing reaches the platform', async () => {
    const before = published.filter((m) => m.topic.endsWith('/evt/access')).length;
    await sim.inject({ kind: 'raw', lock: 'flat-1-101', topic: 'lan/v1/lock/flat-1-102/evt', payload: JSON.stringify({ type: 'unlock', result: 'granted', method: 'card', credential: '****1111' }) });
    // A genuine event afterwards proves the pipeline is flowing, so the forged one had its chance.
    await sim.inject({ kind: 'present', lock: 'flat-1-102', method: 'pin', value: '000000' });
    await waitFor(() => published.filter((m) => m.topic.endsWith('/evt/access')).length > before, 'the genuine event', 10_000);
    const forged = published.filter((m) => m.topic.endsWith('/evt/access') && m.payload.toString().includes('****1111'));
    expect(forged).toEqual([]);
  });

  it('publishes only messages the AsyncAPI document describes', async () => {
    await waitFor(() => published.length > 10, 'some traffic', 5000);
    // What the platform sent (cmd/{name}, some deliberately broken) is not the gateway's to answer for.
    const fromGateway = published.filter((m) => !/\/cmd\/[^/]+$/.test(m.topic));
    const invalid = fromGateway.map((m) => ({ topic: m.topic, r: validateMessage(m.topic, m.payload) })).filter((x) => !x.r.ok);
    expect(invalid.map((x) => `${x.topic}: ${x.r.errors.join('; ')}`)).toEqual([]);
    const topics = new Set(fromGateway.map((m) => m.topic.slice(gateway.root.length + 1).replace(/\/[^/]+$/, '/*')));
    expect([...topics]).toEqual(expect.arrayContaining(['status', 'evt/*', 'state/*', 'cmd/lock.open/*']));
  });
});
