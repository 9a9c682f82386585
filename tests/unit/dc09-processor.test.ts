/**
 * Dc09Processor + PanelService without sockets: every NAK/DUH rule, ACK after the sink,
 * duplicates, the condition and event shapes, and supervision on a ManualClock.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { Dc09PanelConfig, PerimeterConfig } from '../../config/perimeter-schema.js';
import { parseKeyHex } from '../../drivers/dc09/cipher.js';
import { parseFrame } from '../../drivers/dc09/frame.js';
import { encodeMessage, openContent } from '../../drivers/dc09/message.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Dc09Processor } from '../../gateway/perimeter/dc09-processor.js';
import { PanelService } from '../../gateway/perimeter/panel-service.js';
import { createDc09 } from '../../gateway/perimeter/create-dc09.js';
import { PresenceConfig } from '../../config/presence-schema.js';
import { PresencePolicy } from '../../gateway/presence/presence-policy.js';
import { FakeOutbox, FakeSink, KEY128, KEY256, SECRETS, panels } from './dc09-fixtures.js';

const FROM = { transport: 'tcp' as const, address: '10.0.0.9' };

function setup(over: { panels?: Dc09PanelConfig[]; secrets?: Record<string, string> } = {}) {
  const clock = new ManualClock();
  const sink = new FakeSink();
  const outbox = new FakeOutbox();
  const warnings: unknown[] = [];
  const log = silentLogger();
  log.warn = ((obj: unknown) => void warnings.push(obj)) as typeof log.warn;
  const ps = over.panels ?? panels();
  const service = new PanelService({ panels: ps, sink, outbox, clock, timers: clock, log });
  const processor = new Dc09Processor({
    panels: ps,
    secrets: secretsFrom(over.secrets ?? SECRETS),
    timestampWindow: { pastS: 20, futureS: 40 },
    service,
    clock,
    log,
  });
  service.start();
  return { clock, sink, outbox, service, processor, warnings };
}

let seq = 0;
function msg(account: string, token: string, data: string, o: { key?: string; ts?: number; seq?: string } = {}): string {
  const key = o.key ? parseKeyHex(o.key) : undefined;
  return encodeMessage(
    { token, encrypted: !!key, seq: o.seq ?? String(++seq % 10000).padStart(4, '0'), line: '0', account },
    { data, extended: [], ...(o.ts !== undefined ? { timestamp: o.ts } : {}) },
    key,
  );
}

describe('Dc09Processor answers', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it('ACKs a plain SIA-DCS alarm after raising the condition on the sink', async () => {
    const a = await t.processor.handle(msg('1234', 'SIA-DCS', '#1234|Nri1/BA015'), FROM);
    expect(a.outcome).toBe('ack');
    const ack = parseFrame(a.reply);
    expect(ack.ok && ack.value).toMatchObject({ token: 'ACK', encrypted: false, account: '1234' });
    expect(t.sink.raised()).toEqual([
      {
        kind: 'panel.burglary',
        source: { device: 'panel-plain', point: 'zone-15' },
        priority: 'high',
        data: expect.objectContaining({ code: 'BA', area: 1, zone: 15, protocol: 'SIA-DCS', account: '1234' }),
      },
    ]);
  });

  it('ACKs an encrypted message with an encrypted ACK and maps Contact ID', async () => {
    const a = await t.processor.handle(msg('5678', 'ADM-CID', '#5678|1110 02 007', { key: KEY128, ts: t.clock.now() - 5000 }), FROM);
    expect(a.outcome).toBe('ack');
    const ack = parseFrame(a.reply);
    expect(ack.ok && ack.value.encrypted).toBe(true);
    expect(ack.ok && openContent(ack.value, parseKeyHex(KEY128))).toMatchObject({ ok: true, value: { timestamp: t.clock.now() } });
    expect(t.sink.raised('panel.fire')).toEqual([
      {
        kind: 'panel.fire',
        source: { device: 'panel-cid', point: 'zone-7' },
        priority: 'critical',
        data: expect.objectContaining({ code: 'E110', area: 2 }),
      },
    ]);
  });

  it.each([
    ['bad CRC', (m: string) => m.replace(/^\n..../, '\n0000')],
    ['bad length', (m: string) => m.slice(0, 5) + '0FFF' + m.slice(9)],
    ['garbage', () => 'hello'],
  ])('NAKs %s with the receiver time', async (_what, mangle) => {
    const a = await t.processor.handle(mangle(msg('1234', 'SIA-DCS', '#1234|Nri1/BA001')), FROM);
    expect(a.outcome).toBe('nak');
    expect(a.reply).toMatch(/^\n[0-9A-F]{4}0025"NAK"0000R0L0A0\[\]_12:00:00,11-21-2026\r$/);
    expect(t.sink.calls).toEqual([]);
  });

  it('NAKs a stale and a future timestamp on an encrypted message, accepts the window edges', async () => {
    const now = t.clock.now();
    expect((await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA001', { key: KEY256, ts: now - 21_000 }), FROM)).outcome).toBe(
      'nak',
    );
    expect((await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA001', { key: KEY256, ts: now + 41_000 }), FROM)).outcome).toBe(
      'nak',
    );
    expect((await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA001', { key: KEY256, ts: now - 20_000 }), FROM)).outcome).toBe(
      'ack',
    );
    expect((await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA002', { key: KEY256, ts: now + 40_000 }), FROM)).outcome).toBe(
      'ack',
    );
  });

  it('does not judge panel timestamps while the gateway clock is unsynced', async () => {
    t.clock.setState('unsynced');
    expect(
      (await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA001', { key: KEY256, ts: t.clock.now() - 3_600_000 }), FROM)).outcome,
    ).toBe('ack');
    t.clock.setState('synced');
    expect(
      (await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA002', { key: KEY256, ts: t.clock.now() - 3_600_000 }), FROM)).outcome,
    ).toBe('nak');
  });

  it('NAKs an unknown account and warns once per source address per minute', async () => {
    for (let i = 0; i < 5; i++) expect((await t.processor.handle(msg('9999', 'SIA-DCS', '#9999|Nri1/BA001'), FROM)).outcome).toBe('nak');
    await t.processor.handle(msg('9999', 'SIA-DCS', '#9999|Nri1/BA001'), { ...FROM, address: '10.0.0.10' });
    expect(t.warnings).toHaveLength(2);
    t.clock.advance(61_000);
    await t.processor.handle(msg('9999', 'SIA-DCS', '#9999|Nri1/BA001'), FROM);
    expect(t.warnings).toHaveLength(3);
  });

  it('NAKs a plain message from a panel with a key (requireEncryption default) and one with the wrong key', async () => {
    expect(await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA001'), FROM)).toMatchObject({
      outcome: 'nak',
      reason: 'plain message from an encrypted-only panel',
    });
    expect((await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA001', { key: KEY128, ts: t.clock.now() }), FROM)).outcome).toBe(
      'nak',
    );
    expect(await t.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA001', { key: KEY256 }), FROM)).toMatchObject({
      outcome: 'nak',
      reason: expect.stringContaining('timestamp'),
    });
    expect(t.sink.calls).toEqual([]);
  });

  it('accepts plain messages from a keyed panel with requireEncryption: false', async () => {
    const ps = [Dc09PanelConfig.parse({ id: 'p', account: 'AB12', keySecret: 'dc09.aes', requireEncryption: false })];
    const u = setup({ panels: ps });
    expect((await u.processor.handle(msg('AB12', 'SIA-DCS', '#AB12|Nri1/BA001'), FROM)).outcome).toBe('ack');
  });

  it('DUHs an unsupported id token and undecodable data, but the panel counts as heard', async () => {
    expect((await t.processor.handle(msg('1234', 'XYZ-ABC', '#1234|foo'), FROM)).outcome).toBe('duh');
    expect((await t.processor.handle(msg('1234', 'ADM-CID', '#1234|garbage'), FROM)).outcome).toBe('duh');
    expect((await t.processor.handle(msg('1234', 'NULL', ''), FROM)).outcome).toBe('ack');
  });

  it('a retransmission (same seq and content) is ACKed again but processed once', async () => {
    const m1 = msg('1234', 'SIA-DCS', '#1234|Nri1/OP003', { seq: '0777', ts: t.clock.now() });
    t.clock.advance(3000);
    const m2 = msg('1234', 'SIA-DCS', '#1234|Nri1/OP003', { seq: '0777', ts: t.clock.now() });
    expect((await t.processor.handle(m1, FROM)).outcome).toBe('ack');
    expect((await t.processor.handle(m2, FROM)).outcome).toBe('duplicate');
    expect(parseFrame((await t.processor.handle(m2, FROM)).reply)).toMatchObject({ ok: true, value: { token: 'ACK', seq: '0777' } });
    expect(t.outbox.events).toHaveLength(1);
    // Same seq with other content (a panel that restarted its counter) is a new event.
    expect((await t.processor.handle(msg('1234', 'SIA-DCS', '#1234|Nri1/CL003', { seq: '0777' }), FROM)).outcome).toBe('ack');
    // After the window the same message is new again.
    t.clock.advance(5 * 60_000 + 1);
    expect((await t.processor.handle(m1, FROM)).outcome).toBe('ack');
  });

  it('checks the configured receiver and line numbers', async () => {
    const ps = [Dc09PanelConfig.parse({ id: 'p', account: '1234', receiver: '12', line: '3' })];
    const u = setup({ panels: ps });
    const good = encodeMessage(
      { token: 'SIA-DCS', encrypted: false, seq: '0001', receiver: '12', line: '3', account: '1234' },
      { data: '#1234|Nri1/BA001', extended: [] },
    );
    const bad = encodeMessage(
      { token: 'SIA-DCS', encrypted: false, seq: '0002', receiver: '12', line: '4', account: '1234' },
      { data: '#1234|Nri1/BA001', extended: [] },
    );
    expect((await u.processor.handle(good, FROM)).outcome).toBe('ack');
    expect((await u.processor.handle(bad, FROM)).outcome).toBe('nak');
  });
});

describe('a real panel message end to end', () => {
  it('ACKs the published Ajax periodic test (pysiaalarm, key 3BD7E66AA9E2F190) with an encrypted ACK and records it', async () => {
    const clock = new ManualClock(Date.UTC(2020, 7, 11, 16, 57, 25));
    const sink = new FakeSink();
    const outbox = new FakeOutbox();
    const ps = [Dc09PanelConfig.parse({ id: 'ajax', account: 'EA1984', keySecret: 'ajax' })];
    const keyHex = Buffer.from('3BD7E66AA9E2F190', 'latin1').toString('hex');
    const service = new PanelService({ panels: ps, sink, outbox, clock, timers: clock, log: silentLogger() });
    const p = new Dc09Processor({
      panels: ps,
      secrets: secretsFrom({ ajax: keyHex }),
      timestampWindow: { pastS: 20, futureS: 40 },
      service,
      clock,
      log: silentLogger(),
    });
    const a = await p.handle(
      '\n85DF0078"*SIA-DCS"4480L0#EA1984[83F153789366885D5F83DD5A8D19F691DE6602D5D71342E244C040C5D10D89040444068312750F38DF7E63AD3DE8AD5A\r',
      FROM,
    );
    expect(a.outcome).toBe('ack');
    const ack = parseFrame(a.reply);
    expect(ack.ok && ack.value).toMatchObject({ token: 'ACK', encrypted: true, seq: '4480', line: '0', account: 'EA1984' });
    expect(outbox.events).toEqual([
      {
        class: 'device',
        type: 'panel.test',
        source: { device: 'ajax' },
        data: expect.objectContaining({ code: 'RP', account: 'EA1984', panelTime: '2020-08-11T16:57:20.000Z' }),
      },
    ]);
    // The same bytes 25 s later are stale (window -20 s): NAK.
    clock.advance(20_000);
    expect(
      (
        await p.handle(
          '\n85DF0078"*SIA-DCS"4480L0#EA1984[83F153789366885D5F83DD5A8D19F691DE6602D5D71342E244C040C5D10D89040444068312750F38DF7E63AD3DE8AD5A\r',
          FROM,
        )
      ).outcome,
    ).toBe('nak');
  });
});

describe('key configuration', () => {
  it.each([
    [{}, /secret "dc09.aes".*not in the secrets/],
    [{ 'dc09.aes': 'abcd', 'dc09.cid': KEY128 }, /32, 48 or 64 hex digits.*got 4/],
    [{ 'dc09.aes': 'zz'.repeat(16), 'dc09.cid': KEY128 }, /32, 48 or 64 hex digits/],
  ])('refuses %j at start with a clear message', (secrets, message) => {
    try {
      setup({ secrets: secrets as Record<string, string> });
      expect.unreachable();
    } catch (err) {
      expect(isGatehouseError(err, 'CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain('panel-aes');
    }
  });
});

describe('PanelService mapping', () => {
  it('raises troubles and alarms, clears on restore, records open/close/bypass/test as events', async () => {
    const t = setup();
    const send = async (data: string) =>
      expect((await t.processor.handle(msg('1234', 'SIA-DCS', `#1234|${data}`), FROM)).outcome).toBe('ack');
    await send('Nri1/TA000');
    await send('Nri0/AT000');
    await send('NYT');
    await send('Nri1/PA002');
    expect(t.sink.raised().map((c) => [c.kind, c.source.point, c.priority])).toEqual([
      ['panel.tamper', 'area-1', 'high'],
      ['panel.ac_loss', 'area-0', 'low'],
      ['panel.low_battery', undefined, 'low'],
      ['panel.panic', 'zone-2', 'critical'],
    ]);
    await send('Nri0/AR000');
    await send('Nri1/TR000');
    expect(t.sink.isActive('panel.ac_loss', 'panel-plain', 'area-0')).toBe(false);
    expect(t.sink.isActive('panel.tamper', 'panel-plain', 'area-1')).toBe(false);
    expect(t.sink.isActive('panel.panic', 'panel-plain', 'zone-2')).toBe(true);
    await send('Nri1/OP004');
    await send('Nri1/CL004');
    await send('Nri1/BB009');
    await send('Nri0/RP000');
    expect(t.outbox.events.map((e) => [e.class, e.type, e.source.point, e.data.user ?? e.data.zone])).toEqual([
      ['access', 'panel.opened', 'area-1', 4],
      ['access', 'panel.closed', 'area-1', 4],
      ['device', 'panel.bypassed', 'zone-9', 9],
      ['device', 'panel.test', undefined, 0],
    ]);
    expect(t.sink.raised()).toHaveLength(4);
  });
});

describe('supervision (ManualClock)', () => {
  it('raises panel.offline after supervisionS × 1.5 + 30 s of silence and clears it when heard', async () => {
    const t = setup();
    // panel-plain: 60 s → 120 s; panel-cid: 120 s → 210 s; panel-aes: not supervised.
    t.clock.advance(119_000);
    expect(t.sink.raised('panel.offline')).toEqual([]);
    await t.processor.handle(msg('1234', 'NULL', ''), FROM); // heard at 119 s: deadline moves to 239 s
    t.clock.advance(91_000); // 210 s
    expect(t.sink.raised('panel.offline')).toEqual([
      {
        kind: 'panel.offline',
        source: { device: 'panel-cid' },
        priority: 'medium',
        data: { account: '5678', supervisionS: 120, silentS: null },
      },
    ]);
    t.clock.advance(28_000); // 238 s
    expect(t.service.isOffline('panel-plain')).toBe(false);
    t.clock.advance(2_000);
    expect(t.service.isOffline('panel-plain')).toBe(true);
    expect(t.sink.raised('panel.offline').map((c) => c.source.device)).toEqual(['panel-cid', 'panel-plain']);
    // Offline stays raised once (no re-raise every interval) until the panel speaks.
    t.clock.advance(3_600_000);
    expect(t.sink.raised('panel.offline')).toHaveLength(2);
    expect((await t.processor.handle(msg('1234', 'SIA-DCS', '#1234|Nri0/RP000'), FROM)).outcome).toBe('ack');
    expect(t.sink.isActive('panel.offline', 'panel-plain')).toBe(false);
    expect(t.sink.isActive('panel.offline', 'panel-cid')).toBe(true);
    expect(t.service.isOffline('panel-plain')).toBe(false);
    // A NAKed message (unauthenticated) does not count as heard.
    await t.processor.handle(msg('5678', 'SIA-DCS', '#5678|Nri0/RP000'), FROM);
    expect(t.service.isOffline('panel-cid')).toBe(true);
    // Every change is a device event too: first heard, silent, heard again.
    expect(t.outbox.presence.filter((e) => e.source.device === 'panel-plain').map((e) => [e.type, e.data])).toEqual([
      ['device.online', { family: 'panel' }],
      ['device.offline', { family: 'panel', reason: 'silent' }],
      ['device.online', { family: 'panel' }],
    ]);
    t.service.stop();
  });

  it('a panel whose link keeps dropping is held offline by the presence policy: one device.flapping, bounded events', async () => {
    const clock = new ManualClock();
    const sink = new FakeSink();
    const outbox = new FakeOutbox();
    const ps = [Dc09PanelConfig.parse({ id: 'panel-plain', account: '1234', supervisionS: 60 })];
    const presence = new PresencePolicy({ config: PresenceConfig.parse({}), clock, timers: clock, sink, log: silentLogger() });
    const service = new PanelService({ panels: ps, sink, outbox, clock, timers: clock, log: silentLogger(), presence });
    const processor = new Dc09Processor({
      panels: ps,
      secrets: secretsFrom(SECRETS),
      timestampWindow: { pastS: 20, futureS: 40 },
      service,
      clock,
      log: silentLogger(),
    });
    service.start();
    // Heard, silent past its deadline (120 s), heard again: over and over for two hours.
    for (let i = 0; i < 50; i++) {
      expect((await processor.handle(msg('1234', 'NULL', ''), FROM)).outcome).toBe('ack');
      clock.advance(121_000);
    }
    expect(outbox.presence.length).toBeLessThanOrEqual(4);
    expect(sink.raised('device.flapping').map((c) => c.source.device)).toEqual(['panel-plain']);
    expect(sink.raised('panel.offline').length).toBeLessThanOrEqual(2);
    service.stop();
    presence.stop();
  });
});

describe('createDc09 (composition root helper)', () => {
  const logs = { root: silentLogger(), child: () => silentLogger() };
  const base = {
    secrets: secretsFrom(SECRETS),
    outbox: new FakeOutbox(),
    sink: new FakeSink(),
    clock: new ManualClock(),
    timers: new ManualClock(),
    logs,
  };

  it('builds nothing without perimeter.dc09, and a receiver that binds both ports with it', async () => {
    expect(createDc09({ ...base, config: { alarmPanels: panels(), perimeter: PerimeterConfig.parse({}) } })).toBeUndefined();
    const c = createDc09({
      ...base,
      config: { alarmPanels: panels(), perimeter: PerimeterConfig.parse({ dc09: { host: '127.0.0.1' } }) },
    })!;
    const ports = await c.start();
    expect(ports.tcpPort).toBeGreaterThan(0);
    expect(ports.udpPort).toBeGreaterThan(0);
    await c.stop();
  });

  it('a malformed key stops the build with the panel named', async () => {
    expect(() =>
      createDc09({
        ...base,
        secrets: secretsFrom({ 'dc09.aes': 'ab', 'dc09.cid': KEY128 }),
        config: { alarmPanels: panels(), perimeter: PerimeterConfig.parse({ dc09: {} }) },
      }),
    ).toThrow(/panel-aes.*32, 48 or 64 hex/);
  });
});
