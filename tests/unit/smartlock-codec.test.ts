import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  encodeCommand,
  encodeCommandResult,
  encodeEvent,
  encodeState,
  encodeStatus,
  LOCK_MAX_PAYLOAD_BYTES,
  parseLockCommand,
  parseLockMessage,
} from '../../drivers/smartlock/codec.js';
import { maskCredential } from '../../drivers/smartlock/mask.js';
import { lockTopic, parseLockTopic } from '../../drivers/smartlock/topics.js';
import { authorizePublish, authorizeSubscribe, deviceSubtree } from '../../gateway/broker/acl.js';

const T = (kind: Parameters<typeof lockTopic>[1]) => lockTopic('flat-1-101', kind);
const parse = (topic: string, payload: unknown, device = 'flat-1-101') =>
  parseLockMessage(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { device });

describe('smart-lock topics', () => {
  it('splits topics of the scheme and nothing else', () => {
    expect(parseLockTopic('lan/v1/lock/flat-1-101/cmd/res')).toEqual({ device: 'flat-1-101', kind: 'cmd/res' });
    expect(parseLockTopic('lan/v1/lock/flat-1-101/evt')).toEqual({ device: 'flat-1-101', kind: 'evt' });
    expect(parseLockTopic('lan/v1/lock/flat-1-101/evt/x')).toBeUndefined();
    expect(parseLockTopic('lan/v1/lock//evt')).toBeUndefined();
    expect(parseLockTopic('lan/v1/meter/m1/evt')).toBeUndefined();
  });

  it('agrees with the broker ACL: a lock may publish exactly its up topics and subscribe its cmd', () => {
    const account = { username: 'flat-1-101', role: 'device' as const, family: 'lock' };
    const limits = { maxPayloadBytes: 65536, maxTopicDepth: 8 };
    expect(deviceSubtree('lock', 'flat-1-101')).toBe('lan/v1/lock/flat-1-101');
    for (const kind of ['status', 'state', 'evt', 'cmd/res'] as const) {
      expect(authorizePublish(account, { topic: T(kind), payloadBytes: 10, retain: false }, 'root', limits).ok).toBe(true);
    }
    expect(authorizePublish(account, { topic: T('cmd'), payloadBytes: 10, retain: false }, 'root', limits).ok).toBe(false);
    expect(authorizeSubscribe(account, T('cmd'), 'root', limits).ok).toBe(true);
    expect(authorizeSubscribe(account, 'lan/v1/lock/+/cmd', 'root', limits).ok).toBe(false);
  });
});

describe('smart-lock codec: lock → gateway', () => {
  it('parses every valid message kind', () => {
    expect(parse(T('status'), { state: 'online', fw: '2.4.1' })).toEqual({
      ok: true,
      value: { kind: 'status', device: 'flat-1-101', state: 'online', fw: '2.4.1' },
    });
    expect(parse(T('state'), { locked: true, door: 'closed', battery: 87, tamper: false })).toEqual({
      ok: true,
      value: { kind: 'state', device: 'flat-1-101', locked: true, door: 'closed', battery: 87, tamper: false },
    });
    // Door sensor and tamper switch are optional hardware: defaults fill them in.
    expect(parse(T('state'), { locked: false, battery: 50 })).toMatchObject({ ok: true, value: { door: 'unknown', tamper: false } });
    const unlock = {
      type: 'unlock',
      eid: 'e-1',
      ts: '2026-11-21T21:03:11.123Z',
      result: 'denied',
      method: 'card',
      credential: '04A1B2C3D4',
      reason: 'revoked',
    };
    expect(parse(T('evt'), unlock)).toEqual({ ok: true, value: { kind: 'evt', device: 'flat-1-101', event: unlock } });
    expect(parse(T('evt'), { type: 'door', door: 'open' })).toMatchObject({ ok: true, value: { event: { type: 'door', door: 'open' } } });
    expect(parse(T('evt'), { type: 'tamper', active: true })).toMatchObject({ ok: true });
    expect(parse(T('evt'), { type: 'battery_low', level: 12 })).toMatchObject({ ok: true });
    expect(parse(T('cmd/res'), { cid: 'c1', ok: true })).toEqual({
      ok: true,
      value: { kind: 'cmd/res', device: 'flat-1-101', cid: 'c1', ok: true, result: undefined },
    });
    expect(parse(T('cmd/res'), { cid: 'c1', ok: false, code: 'unknown_credential' })).toMatchObject({
      ok: true,
      value: { ok: false, code: 'unknown_credential' },
    });
    expect(parse(T('cmd/res'), { cid: 'c1', ok: false })).toMatchObject({ ok: true, value: { ok: false, code: 'unspecified' } });
  });

  it('tolerates extra fields from newer firmware', () => {
    expect(parse(T('evt'), { type: 'door', door: 'closed', angle: 3 })).toMatchObject({ ok: true });
  });

  it('refuses malformed JSON, non-objects, wrong types, unknown types and oversized payloads with codes', () => {
    expect(parse(T('evt'), '{"type":"door",')).toEqual({
      ok: false,
      error: { code: 'MALFORMED_JSON', message: 'payload is not valid JSON' },
    });
    expect(parse(T('evt'), '[1,2]')).toMatchObject({ ok: false, error: { code: 'NOT_AN_OBJECT' } });
    expect(parse(T('evt'), 'null')).toMatchObject({ ok: false, error: { code: 'NOT_AN_OBJECT' } });
    expect(parse(T('evt'), { type: 'explode' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_TYPE' } });
    expect(parse(T('evt'), { door: 'open' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_TYPE' } });
    expect(parse(T('evt'), { type: '__proto__' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_TYPE' } });
    const wrong = parse(T('evt'), { type: 'tamper', active: 'yes' });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'INVALID' } });
    expect(!wrong.ok && wrong.error.message).toMatch(/^active: /);
    expect(parse(T('state'), { locked: true, battery: 140 })).toMatchObject({ ok: false, error: { code: 'INVALID' } });
    expect(parse(T('evt'), { type: 'unlock', result: 'granted', method: 'telepathy' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID' },
    });
    const big = JSON.stringify({ type: 'door', door: 'open', pad: 'x'.repeat(LOCK_MAX_PAYLOAD_BYTES) });
    expect(parse(T('evt'), big)).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
  });

  it('never quotes a credential from a refused message', () => {
    const r = parse(T('evt'), { type: 'unlock', result: 'maybe', method: 'pin', credential: '918273' });
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain('918273');
  });

  it('refuses a topic of another device, an unknown topic and the wrong direction', () => {
    expect(parse('lan/v1/lock/flat-9-999/evt', { type: 'door', door: 'open' })).toMatchObject({
      ok: false,
      error: { code: 'WRONG_DEVICE' },
    });
    expect(parse('lan/v1/lock/flat-1-101/diag', {})).toMatchObject({ ok: false, error: { code: 'TOPIC_UNKNOWN' } });
    expect(parse(T('cmd'), { cid: 'x', op: 'open' })).toMatchObject({ ok: false, error: { code: 'WRONG_DIRECTION' } });
  });

  it('never throws, whatever the bytes', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pieces = ['{', '}', '"type"', ':', '"unlock"', ',', '"result"', '"granted"', '1', 'null', '[', ']', '"', '\\', '\u0000', 'true'];
    for (let i = 0; i < 1500; i++) {
      const n = Math.floor(rnd() * 12);
      let s = '';
      for (let j = 0; j < n; j++) s += pieces[Math.floor(rnd() * pieces.length)];
      const bytes = i % 3 === 0 ? Buffer.from(Array.from({ length: n * 3 }, () => Math.floor(rnd() * 256))) : Buffer.from(s);
      for (const kind of ['evt', 'state', 'status', 'cmd/res', 'cmd'] as const) {
        expect(() => parseLockMessage(T(kind), bytes, { device: 'flat-1-101' })).not.toThrow();
        expect(() => parseLockCommand(T(kind), bytes, { device: 'flat-1-101' })).not.toThrow();
      }
    }
  });
});

describe('smart-lock codec: gateway → lock', () => {
  it('round-trips every command', () => {
    const cmds = [
      { cid: 'a1', op: 'open' as const, seconds: 5, expires: '2026-11-21T21:03:21.000Z' },
      {
        cid: 'a2',
        op: 'credential.set' as const,
        credentialId: 'tenant-201-card',
        kind: 'card' as const,
        value: '04A1B2C3D4',
        validFrom: '2026-11-01T00:00:00Z',
        validTo: '2027-10-31T23:59:59Z',
      },
      { cid: 'a3', op: 'credential.set' as const, credentialId: 'tenant-201-pin', kind: 'pin' as const, value: '482915' },
      { cid: 'a4', op: 'credential.revoke' as const, credentialId: 'tenant-201-card' },
    ];
    for (const c of cmds) {
      const { topic, payload } = encodeCommand('flat-1-101', c);
      expect(topic).toBe('lan/v1/lock/flat-1-101/cmd');
      expect(parseLockCommand(topic, payload, { device: 'flat-1-101' })).toEqual({ ok: true, value: c });
    }
  });

  it('refuses bad commands but keeps their cid so the lock can answer', () => {
    const p = (body: unknown) => parseLockCommand(T('cmd'), JSON.stringify(body), { device: 'flat-1-101' });
    expect(p({ cid: 'b1', op: 'self_destruct' })).toMatchObject({ ok: false, cid: 'b1', error: { code: 'UNKNOWN_TYPE' } });
    expect(p({ cid: 'b2', op: 'credential.set', credentialId: 'x', kind: 'pin', value: '12' })).toMatchObject({
      ok: false,
      cid: 'b2',
      error: { code: 'INVALID' },
    });
    expect(
      p({
        cid: 'b3',
        op: 'credential.set',
        credentialId: 'x',
        kind: 'card',
        value: 'ABCD1234',
        validFrom: '2027-01-01T00:00:00Z',
        validTo: '2026-01-01T00:00:00Z',
      }),
    ).toMatchObject({ ok: false, error: { code: 'INVALID' } });
    expect(p({ cid: 'b4', op: 'open', seconds: 3600 })).toMatchObject({ ok: false, error: { code: 'INVALID' } });
    expect(parseLockCommand(T('evt'), '{}', { device: 'flat-1-101' })).toMatchObject({ ok: false, error: { code: 'WRONG_DIRECTION' } });
  });

  it('lock-side encoders produce what the gateway parses', () => {
    const dev = 'flat-1-101';
    for (const e of [
      encodeStatus(dev, { state: 'offline', reason: 'connection_lost' }),
      encodeState(dev, { locked: true, door: 'closed', battery: 80, tamper: false }),
      encodeEvent(dev, { type: 'tamper', active: false }),
      encodeCommandResult(dev, { cid: 'z', ok: false, code: 'busy' }),
    ]) {
      expect(parseLockMessage(e.topic, e.payload, { device: dev }).ok).toBe(true);
    }
  });
});

describe('credential masking', () => {
  it('shows only what is safe to show', () => {
    expect(maskCredential('card', '04A1B2C35678')).toBe('****5678');
    expect(maskCredential('card', '12345678')).toBe('****5678');
    expect(maskCredential('card', '123456')).toBe('****');
    expect(maskCredential('card', '****5678')).toBe('****5678');
    expect(maskCredential('card', undefined)).toBe('****');
    expect(maskCredential('pin', '482915')).toBe('****');
    expect(maskCredential('pin', '****')).toBe('****');
    expect(maskCredential('fingerprint', 'template-77')).toBe('****');
    expect(maskCredential('remote', undefined)).toBe('none');
    expect(maskCredential('key', undefined)).toBe('none');
  });
});

describe('drivers/smartlock/README.md', () => {
  it('every example message in the vendor documentation parses', () => {
    const readme = readFileSync(new URL('../../drivers/smartlock/README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```text\n(PUBLISH|COMMAND) (\S+)(?: [^\n]*)?\n([\s\S]*?)```/g)];
    expect(blocks.length).toBeGreaterThanOrEqual(12);
    for (const [, dir, topic, body] of blocks) {
      const r = dir === 'COMMAND' ? parseLockCommand(topic!, body!.trim()) : parseLockMessage(topic!, body!.trim());
      expect(r, `${topic} ${body}`).toMatchObject({ ok: true });
    }
  });
});
