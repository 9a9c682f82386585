/**
 * Operators on the embedded broker, through a real Gateway (embedded broker on an ephemeral
 * loopback port, real outbox) with a simulated lock and real MQTT.js operator clients:
 * each operator is audited under its own name, reads only its own answers, cannot read
 * anyone's commands, and cannot plant a command as its last will.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import type { Envelope } from '../../gateway/core/events.js';
import { startSimulatedLocks, type SimulatedLocks } from '../../sim/smartlock/index.js';
import { waitFor } from '../helpers/wait.js';
import { validateMessage } from '../helpers/asyncapi.js';

const SECRETS = { 'devices.flat-1': 'lock-pass-flat-1', 'ops.bms-a': 'bms-a-password', 'ops.bms-b': 'bms-b-password' };

describe('operators on the embedded broker', () => {
  let gateway: Gateway;
  let sim: SimulatedLocks;
  let url: string;
  let root: string;
  const logLines: string[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const config = CompoundConfig.parse({
      compound: { id: 'op-court' },
      gateway: { id: 'gw-op' },
      console: { enabled: false },
      clock: { force: 'synced' },
      broker: {
        port: 0,
        operators: [
          { username: 'bms-a', passwordSecret: 'ops.bms-a' },
          { username: 'bms-b', passwordSecret: 'ops.bms-b' },
        ],
      },
      locks: [{ id: 'flat-1' }],
      log: { level: 'info' },
    });
    const destination = new Writable({
      write(c, _e, cb) {
        logLines.push(String(c));
        cb();
      },
    });
    gateway = new Gateway({
      config,
      secrets: secretsFrom(SECRETS),
      dataDir: mkdtempSync(join(tmpdir(), 'gh-ops-')),
      logs: createLoggerFactory(config.log, { destination }),
    });
    await gateway.start();
    root = gateway.root;
    url = `mqtt://127.0.0.1:${gateway.brokerPort}`;
    sim = await startSimulatedLocks({ url, locks: [{ id: 'flat-1', password: SECRETS['devices.flat-1'] }], scenario: false, seed: 7 });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await sim?.stop();
    await gateway?.stop();
  });

  const operator = async (username: 'bms-a' | 'bms-b', extra: mqtt.IClientOptions = {}): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(url, {
      clientId: `${username}-${clients.length}`,
      username,
      password: SECRETS[`ops.${username}`],
      reconnectPeriod: 0,
      protocolVersion: 4,
      ...extra,
    });
    clients.push(c);
    return c;
  };
  const audits = (): { command: string; id: string; caller: { via: string; principal: string }; ok: boolean }[] =>
    gateway.outbox
      .readEvents(0, 100_000)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.type === 'command.executed')
      .map((e) => e.data as never);

  it("an operator cannot read another operator's lock.credential.set, nor its answer; each gets its own", async () => {
    const a = await operator('bms-a');
    const b = await operator('bms-b');
    const watcherA = await operator('bms-a'); // a second session of the same account, e.g. mosquitto_sub
    const seenByWatcherA: string[] = [];
    watcherA.on('message', (t) => seenByWatcherA.push(t));
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    a.on('message', (t, p) => seenByA.push(`${t} ${p.toString()}`));
    b.on('message', (t, p) => seenByB.push(`${t} ${p.toString()}`));
    // Wide filters are allowed (events, state), but never carry the command tree.
    expect((await b.subscribeAsync(`${root}/#`, { qos: 1 }))[0]?.qos).toBe(1);
    expect((await b.subscribeAsync(`${root}/+/+`, { qos: 1 }))[0]?.qos).toBe(1);
    for (const f of [`${root}/cmd/#`, `${root}/cmd/+`, `${root}/cmd/+/res`, `${root}/cmd/lock.credential.set`]) {
      await expect(b.subscribeAsync(f, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    }
    const pushed = new Promise<void>((r) => sim.lock('flat-1').on('command', (c) => c.op === 'credential.set' && r()));
    const args = { lock: 'flat-1', credentialId: 'res-77', kind: 'pin', value: '864209' };
    await a.publishAsync(`${root}/cmd/lock.credential.set`, JSON.stringify({ id: 'op-a-1', args }), { qos: 1 });
    await b.publishAsync(`${root}/cmd/system.ping`, JSON.stringify({ id: 'op-b-1' }), { qos: 1 });
    const answerA = await waitFor(
      () => seenByA.find((m) => m.startsWith(`${root}/cmd/lock.credential.set/res `)),
      "bms-a's answer",
      10_000,
      () => seenByA,
    );
    expect(JSON.parse(answerA.slice(answerA.indexOf(' ') + 1))).toMatchObject({
      id: 'op-a-1',
      ok: true,
      result: { lock: 'flat-1', credentialId: 'res-77' },
    });
    await waitFor(
      () => seenByB.find((m) => m.startsWith(`${root}/cmd/system.ping/res `)),
      "bms-b's answer",
      10_000,
      () => seenByB,
    );
    await pushed;
    await waitFor(() => seenByWatcherA.includes(`${root}/cmd/lock.credential.set/res`), "bms-a's answer at its other session");
    // bms-b saw its own answer and events, never bms-a's command or answer (nor the PIN).
    expect(seenByB.filter((m) => m.includes('/cmd/'))).toEqual([expect.stringContaining(`${root}/cmd/system.ping/res {"id":"op-b-1"`)]);
    expect(seenByB.join('\n')).not.toContain('864209');
    // (The audit trail on evt/system names both commands, without arguments: that is public.)
    expect(seenByA.filter((m) => m.includes('/cmd/')).join('\n')).not.toContain('op-b-1');

    const mine = await waitFor(() => {
      const all = audits();
      return all.some((x) => x.id === 'op-a-1') && all.some((x) => x.id === 'op-b-1') ? all : undefined;
    }, 'both audit events');
    expect(mine.find((x) => x.id === 'op-a-1')).toMatchObject({
      command: 'lock.credential.set',
      ok: true,
      caller: { via: 'embedded-broker', principal: 'bms-a' },
    });
    expect(mine.find((x) => x.id === 'op-b-1')).toMatchObject({ command: 'system.ping', caller: { principal: 'bms-b' } });
    expect(mine.some((x) => x.caller.principal === 'embedded-broker')).toBe(false);
    // What operators receive follows the published contract: answers and the audit events.
    for (const m of [...seenByA, ...seenByB].filter((x) => x.includes('/cmd/') || x.includes('/evt/system '))) {
      const at = m.indexOf(' ');
      expect(validateMessage(m.slice(0, at), m.slice(at + 1)), m).toMatchObject({ ok: true });
    }
  });

  it('refuses a last will on a command topic', async () => {
    const will = {
      topic: `${root}/cmd/lock.open`,
      payload: Buffer.from('{"id":"planted","args":{"lock":"flat-1"}}'),
      qos: 1 as const,
      retain: false,
    };
    await expect(operator('bms-a', { will })).rejects.toThrow(/Not authorized/i);
    expect(logLines.some((l) => l.includes('last will refused: a last will may not be a command'))).toBe(true);
    expect(audits().some((x) => x.id === 'planted')).toBe(false);
  });
});
