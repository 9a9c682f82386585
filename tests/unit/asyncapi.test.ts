/**
 * docs/asyncapi.yaml: its structure (AsyncAPI 3, every reference resolves, operations and
 * channels agree), its own examples, what the real lock service and outbox produce, and
 * that broken messages are refused by tests/helpers/asyncapi.ts.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelFor, loadAsyncApi, resolvePointer, topicFor, validateMessage, type AsyncApi } from '../helpers/asyncapi.js';
import { ErrorCodes } from '../../gateway/core/errors.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { LockService } from '../../gateway/locks/lock-service.js';
import { LockConfig } from '../../config/schema.js';
import { MemoryTransport } from '../../drivers/smartlock/memory-transport.js';
import { lockTopics } from '../../drivers/smartlock/topics.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';
import { untyped } from '../helpers/untyped-event.js';

type Json = Record<string, unknown>;
const ROOT = 'gatehouse/v1/maple-court/gw-1';

/** Every `$ref` anywhere in the document, with where it was found. */
function refs(node: unknown, path = '#'): { ref: string; at: string }[] {
  if (node === null || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap((n, i) => refs(n, `${path}/${i}`));
  const out: { ref: string; at: string }[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out.push({ ref: v, at: path });
    else out.push(...refs(v, `${path}/${k}`));
  }
  return out;
}

describe('AsyncAPI document structure', () => {
  let api: AsyncApi;
  let doc: Json;
  beforeAll(() => {
    api = loadAsyncApi();
    doc = api.doc;
  });

  it('is AsyncAPI 3.0.0 with info, servers, channels, operations and components', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    const info = doc.info as Json;
    expect(typeof info.title).toBe('string');
    expect(typeof info.version).toBe('string');
    for (const k of ['servers', 'channels', 'operations', 'components']) expect(doc[k], k).toBeTypeOf('object');
  });

  it('resolves every $ref', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(50);
    for (const { ref, at } of all) expect(() => resolvePointer(doc, ref), `${ref} at ${at}`).not.toThrow();
  });

  it('declares exactly the parameters each channel address uses', () => {
    for (const [key, ch] of Object.entries(doc.channels as Record<string, Json>)) {
      const inAddress = [...String(ch.address).matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(Object.keys((ch.parameters ?? {}) as Json).sort(), key).toEqual(inAddress);
      expect(String(ch.address).startsWith('gatehouse/v1/{compound}/{gateway}/'), key).toBe(true);
    }
  });

  it('has operations whose channels, messages and replies agree (messages come from their own channel)', () => {
    const ops = Object.entries(doc.operations as Record<string, Json>);
    expect(ops.length).toBeGreaterThan(5);
    const referenced = new Set<string>();
    for (const [key, op] of ops) {
      expect(['send', 'receive'], key).toContain(op.action);
      const channelRef = (op.channel as Json).$ref as string;
      expect(channelRef, key).toMatch(/^#\/channels\/[^/]+$/);
      referenced.add(channelRef);
      for (const m of (op.messages ?? []) as Json[])
        expect(String(m.$ref).startsWith(`${channelRef}/messages/`), `${key}: ${String(m.$ref)}`).toBe(true);
      if (op.reply) {
        const reply = op.reply as Json;
        const replyRef = (reply.channel as Json).$ref as string;
        referenced.add(replyRef);
        for (const m of (reply.messages ?? []) as Json[])
          expect(String(m.$ref).startsWith(`${replyRef}/messages/`), `${key} reply`).toBe(true);
      }
    }
    // Every channel that carries messages is used by some operation.
    for (const [key, ch] of Object.entries(doc.channels as Record<string, Json>)) {
      if (Object.keys((ch.messages ?? {}) as Json).length) expect(referenced.has(`#/channels/${key}`), key).toBe(true);
    }
  });

  it('describes the platform (TLS) and embedded brokers with userPassword and X509 security', () => {
    const servers = doc.servers as Record<string, Json>;
    expect(servers.platform?.protocol).toBe('secure-mqtt');
    expect(servers.embedded?.protocol).toBe('mqtt');
    const schemes = (doc.components as Json).securitySchemes as Record<string, Json>;
    expect(
      Object.values(schemes)
        .map((s) => s.type)
        .sort(),
    ).toEqual(['X509', 'userPassword']);
    for (const s of Object.values(servers)) {
      expect(typeof s.host).toBe('string');
      for (const sec of (s.security ?? []) as Json[]) expect(String(sec.$ref)).toMatch(/^#\/components\/securitySchemes\//);
    }
  });

  it('lists exactly the error codes of gateway/errors.ts', () => {
    const schema = resolvePointer(doc, '#/components/schemas/ErrorCode') as Json;
    expect([...(schema.enum as string[])].sort()).toEqual(Object.keys(ErrorCodes).sort());
  });

  it('routes every channel address to that channel, and event types to exactly one class', () => {
    for (const c of api.channels) expect(channelFor(topicFor(c.key))?.key, c.key).toBe(c.key);
    const types = api.channels.filter((c) => c.isEvent).flatMap((c) => c.messages.map((m) => m.name));
    expect(types.every((t) => typeof t === 'string')).toBe(true);
    expect(new Set(types).size).toBe(types.length);
    expect(types).toEqual(
      expect.arrayContaining([
        'access.granted',
        'access.denied',
        'door.opened',
        'door.closed',
        'lock.tamper',
        'lock.battery_low',
        'device.online',
        'device.offline',
        'command.executed',
        'outbox.evicted',
        'gateway.started',
        'gateway.stopping',
        'door.exit_request',
        'door.mode',
        'door.forced',
        'door.held_open',
        'reader.tamper',
        'reader.offline',
        'access.fire_unlock',
        'reader.secure_failed',
        'reader.key_set',
        'access.credentials.synced',
        'alarm.raised',
        'alarm.retriggered',
        'alarm.acknowledged',
        'alarm.cleared',
        'alarm.closed',
        'alarm.media',
        'linkage.executed',
        'partition.armed',
        'partition.disarmed',
        'zone.bypassed',
        'zone.unbypassed',
        'panel.opened',
        'panel.closed',
        'panel.bypassed',
        'panel.unbypassed',
        'panel.test',
        'panel.event',
      ]),
    );
  });

  it('has valid examples for every message, and they validate', () => {
    for (const c of api.channels) {
      for (const m of c.messages) {
        const message = resolvePointer(api.doc, m.pointer) as Json;
        const examples = (message.examples ?? []) as Json[];
        expect(examples.length, `${c.key}/${m.key} has no example`).toBeGreaterThan(0);
        for (const ex of examples) {
          const r = validateMessage(topicFor(c.key), JSON.stringify(ex.payload));
          expect(r, `${c.key}/${m.key}/${String(ex.name)}`).toEqual({ ok: true, errors: [] });
        }
      }
    }
  });
});

describe('what the gateway really records validates', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lock events and retained state from the lock service, through a real outbox', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-asyncapi-'));
    const clock = new ManualClock();
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    const transport = new MemoryTransport();
    const locks = new LockService({
      locks: [LockConfig.parse({ id: 'flat-a', offlineAfterMs: 60_000 })],
      transport,
      outbox,
      sink: new FakeAlarmSink(),
      clock,
      timers: clock,
      log: silentLogger(),
    });
    locks.start();
    const A = lockTopics('flat-a');
    const say = (topic: string, body: unknown) => transport.publish(topic, JSON.stringify(body));
    say(A.status, { state: 'online' });
    say(A.state, { locked: true, door: 'closed', battery: 80, tamper: false });
    say(A.evt, { type: 'unlock', result: 'granted', method: 'card', credential: '04A1B2C35678' });
    say(A.evt, { type: 'unlock', result: 'denied', method: 'pin', credential: '123456', reason: 'wrong_pin' });
    say(A.evt, { type: 'unlock', result: 'granted', method: 'remote' });
    say(A.evt, { type: 'door', door: 'open' });
    say(A.evt, { type: 'door', door: 'closed' });
    say(A.evt, { type: 'tamper', active: true });
    say(A.evt, { type: 'battery_low', level: 9 });
    say(A.status, { state: 'offline', reason: 'connection_lost' });
    await new Promise((r) => setTimeout(r, 20));
    locks.stop();
    const rows = outbox.readEvents(0, 100);
    const types = rows.map((r) => (JSON.parse(r.body) as Json).type);
    expect(types).toEqual(
      expect.arrayContaining([
        'device.online',
        'access.granted',
        'access.denied',
        'door.opened',
        'door.closed',
        'lock.tamper',
        'lock.battery_low',
        'device.offline',
      ]),
    );
    for (const r of rows) expect(validateMessage(`${ROOT}/evt/${r.class}`, r.body), r.body).toEqual({ ok: true, errors: [] });
    const states = outbox.readStates();
    expect(states.length).toBe(1);
    for (const s of states) expect(validateMessage(`${ROOT}/state/${s.device}`, s.body), s.body).toEqual({ ok: true, errors: [] });
    outbox.close();
  });

  it('outbox.evicted reports from a real eviction, and the gateway lifecycle events', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-asyncapi-'));
    const clock = new ManualClock();
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0, maxBytes: 64 * 1024 } });
    const filler = 'x'.repeat(200);
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        outbox.record(
          untyped({
            class: 'device',
            type: 'lock.battery_low',
            source: { device: 'flat-a' },
            data: { lock: 'flat-a', level: i % 100, pad: filler },
          }),
        ),
      ),
    );
    // The shapes app.ts records (it cannot be imported here without the whole daemon).
    await outbox.record({
      class: 'system',
      type: 'gateway.started',
      source: { device: 'gateway' },
      data: { version: '0.1.0', failed: ['uplink'] },
    });
    await outbox.record({
      class: 'system',
      type: 'component.failed',
      source: { device: 'gateway', point: 'uplink' },
      data: { component: 'uplink', error: 'no uplink' },
    });
    await outbox.record({ class: 'system', type: 'gateway.stopping', source: { device: 'gateway' }, data: { version: '0.1.0' } });
    const system = outbox.readEvents(0, 10_000).filter((r) => r.class === 'system');
    expect(system.map((r) => (JSON.parse(r.body) as Json).type)).toContain('outbox.evicted');
    for (const r of system) expect(validateMessage(`${ROOT}/evt/system`, r.body), r.body).toEqual({ ok: true, errors: [] });
    // The padded filler itself is not a documented shape: proof the schemas are closed.
    const filled = outbox.readEvents(0, 10_000).find((r) => r.class === 'device');
    expect(validateMessage(`${ROOT}/evt/device`, filled!.body).ok).toBe(false);
    outbox.close();
  });
});

describe('broken messages are refused', () => {
  const good = {
    v: 1,
    id: '01JD3M6R9Q8Z4X7V2N5T0B1C3F',
    seq: 7,
    ts: '2026-11-21T21:03:12.000Z',
    clock: 'synced',
    type: 'access.granted',
    source: { device: 'flat-2-201' },
    data: { lock: 'flat-2-201', method: 'card', credential: '****5678', by: 'lock' },
  };
  const evt = (cls: string, body: unknown) => validateMessage(`${ROOT}/evt/${cls}`, JSON.stringify(body));
  const without = (k: string): Json => Object.fromEntries(Object.entries(good).filter(([key]) => key !== k));

  it('accepts the good one', () => expect(evt('access', good)).toEqual({ ok: true, errors: [] }));

  it.each([
    ['missing seq', without('seq'), /seq/],
    ['seq 0', { ...good, seq: 0 }, /seq/],
    ['seq as a string', { ...good, seq: '7' }, /seq/],
    ['wrong clock value', { ...good, clock: 'maybe' }, /clock/],
    ['ts not a date-time', { ...good, ts: 'yesterday' }, /ts/],
    ['id not a ULID', { ...good, id: 'abc' }, /id/],
    ['envelope version 2', { ...good, v: 2 }, /\/v/],
    ['extra garbage at the top', { ...good, garbage: true }, /garbage/],
    ['extra garbage in data', { ...good, data: { ...good.data, pin: '1234' } }, /pin/],
    ['an unmasked credential', { ...good, data: { ...good.data, credential: '04A1B2C35678' } }, /credential/],
    ['unknown method', { ...good, data: { ...good.data, method: 'telepathy' } }, /method/],
    ['no source', without('source'), /source/],
  ])('%s', (_, body, pattern) => {
    const r = evt('access', body);
    expect(r.ok).toBe(false);
    expect(r.errors.join('\n')).toMatch(pattern);
  });

  it('an unknown event type', () => {
    const r = evt('access', { ...good, type: 'lock.exploded' });
    expect(r).toEqual({ ok: false, errors: [expect.stringMatching(/unknown event type "lock.exploded"/)] });
  });

  it('an event on the wrong class topic, and any event on the still-empty charging class', () => {
    expect(evt('alarm', good).errors[0]).toMatch(/belongs on .*evt\/access/);
    expect(evt('charging', good).ok).toBe(false);
  });

  it('non-JSON, unknown topics and unknown classes', () => {
    expect(validateMessage(`${ROOT}/evt/access`, '{"v":1,').ok).toBe(false);
    expect(validateMessage(`${ROOT}/telemetry/x`, '{}').errors[0]).toMatch(/no channel/);
    expect(validateMessage(`${ROOT}/evt/weather`, JSON.stringify(good)).errors[0]).toMatch(/no channel/);
    expect(validateMessage(`gatehouse/v2/maple-court/gw-1/status`, '{"state":"online","ts":"2026-11-21T21:03:12.000Z"}').ok).toBe(false);
  });

  it('status, state and command answers with wrong values', () => {
    expect(validateMessage(`${ROOT}/status`, JSON.stringify({ state: 'maybe', ts: '2026-11-21T21:03:12.000Z' })).ok).toBe(false);
    expect(
      validateMessage(
        `${ROOT}/state/flat-a`,
        JSON.stringify({
          online: true,
          locked: 'yes',
          door: 'closed',
          battery: 80,
          tamper: false,
          lastSeen: null,
          ts: '2026-11-21T21:03:12.000Z',
        }),
      ).ok,
    ).toBe(false);
    const ts = '2026-11-21T21:03:12.000Z';
    expect(
      validateMessage(`${ROOT}/cmd/x.y/res`, JSON.stringify({ id: 'c', ok: false, ts, error: { code: 'OOPS', message: 'm' } })).ok,
    ).toBe(false);
    expect(validateMessage(`${ROOT}/cmd/x.y/res`, JSON.stringify({ id: null, ok: true, ts, result: {} })).ok).toBe(false);
    expect(validateMessage(`${ROOT}/cmd/x.y/res`, JSON.stringify({ id: 'c', ok: true, ts, result: {}, stack: 'Error: at x' })).ok).toBe(
      false,
    );
    // A credential answer must never echo the value.
    const echoed = { id: 'c', ok: true, ts, result: { lock: 'flat-a', credentialId: 't', kind: 'pin', credential: '****', value: '1234' } };
    expect(validateMessage(`${ROOT}/cmd/lock.credential.set/res`, JSON.stringify(echoed)).ok).toBe(false);
  });

  it('command requests: per-command argument schemas, and the generic form', () => {
    expect(validateMessage(`${ROOT}/cmd/lock.open`, JSON.stringify({ id: 'c', args: { lock: 'flat-a', seconds: 5 } })).ok).toBe(true);
    expect(validateMessage(`${ROOT}/cmd/lock.open`, JSON.stringify({ id: 'c', args: { lock: 'flat-a', seconds: 'five' } })).ok).toBe(false);
    expect(
      validateMessage(
        `${ROOT}/cmd/lock.credential.set`,
        JSON.stringify({ id: 'c', args: { lock: 'flat-a', credentialId: 't', kind: 'pin', value: 'abcd' } }),
      ).ok,
    ).toBe(false);
    expect(validateMessage(`${ROOT}/cmd/door.melt`, JSON.stringify({ id: 'c', args: {} })).ok).toBe(true);
    expect(validateMessage(`${ROOT}/cmd/door.melt`, JSON.stringify({ id: 'c', expire: '2026-11-21T21:03:12Z' })).ok).toBe(false);
  });

  it('command.executed must name its error code exactly when it failed', () => {
    const base = { ...good, type: 'command.executed', source: { device: 'gateway' } };
    const data = { command: 'lock.open', id: 'c', caller: { via: 'uplink', role: 'platform', principal: 'platform' }, durationMs: 3 };
    expect(evt('system', { ...base, data: { ...data, ok: true } }).ok).toBe(true);
    expect(evt('system', { ...base, data: { ...data, ok: false } }).ok).toBe(false);
    expect(evt('system', { ...base, data: { ...data, ok: true, error: 'CMD_FAILED' } }).ok).toBe(false);
    expect(evt('system', { ...base, data: { ...data, ok: false, error: 'CMD_FAILED' } }).ok).toBe(true);
  });
});
