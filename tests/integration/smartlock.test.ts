/**
 * Smart locks end to end inside the box: simulated locks as real MQTT.js clients of a real
 * EmbeddedBroker on an ephemeral loopback port, the LockService recording into a real
 * Outbox (SQLite in a temp dir), and the lock commands driven as the router would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { secretsFrom } from '../../config/load.js';
import { LockConfig } from '../../config/schema.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { EmbeddedBroker } from '../../gateway/broker/embedded-broker.js';
import { LockService } from '../../gateway/locks/lock-service.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import type { CommandContext, CommandDefinition } from '../../gateway/commands/types.js';
import type { Envelope } from '../../gateway/core/events.js';
import { Scenario, seededRandom, startSimulatedLocks, type SimulatedLocks } from '../../sim/smartlock/index.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';

const ROOT = 'gatehouse/v1/test-court/gw-1';
const LOCKS = ['flat-1-101', 'flat-1-102', 'flat-2-201'];
const PASSWORDS = Object.fromEntries(LOCKS.map((id, i) => [id, `pw-${i}-${id}-s3cret`]));

async function waitFor<T>(probe: () => T | undefined | false, what: string, timeoutMs = 8000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('smart locks: simulator → embedded broker → LockService → outbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-locks-'));
  const clock = systemClock({ forceState: 'synced' });
  const logLines: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(c, _e, cb) {
        logLines.push(String(c));
        cb();
      },
    }),
  );
  let broker: EmbeddedBroker;
  let outbox: Outbox;
  let service: LockService;
  let sim: SimulatedLocks;
  let url: string;
  let commands: Map<string, CommandDefinition>;

  const events = (): Envelope[] => outbox.readEvents(0, 10_000).map((r) => JSON.parse(r.body) as Envelope);
  const classOf = (seq: number) => outbox.readEvents(seq - 1, 1)[0]?.class;
  const find = (pred: (e: Envelope) => boolean, afterSeq = 0) => events().find((e) => e.seq > afterSeq && pred(e));
  const lastSeq = () => events().at(-1)?.seq ?? 0;
  const ctx = (ms = 5000): CommandContext => ({
    id: `cmd-${Math.random()}`,
    caller: { via: 'console', role: 'admin', principal: 'test' },
    deadline: clock.monotonic() + ms,
  });
  const run = async (name: string, args: unknown) => {
    const def = commands.get(name)!;
    return def.handler(def.args.parse(args), ctx());
  };

  beforeAll(async () => {
    broker = new EmbeddedBroker({
      config: { host: '127.0.0.1', port: 0 },
      secrets: secretsFrom(Object.fromEntries(LOCKS.map((id) => [`devices.${id}`, PASSWORDS[id]!]))),
      devices: LOCKS.map((id) => ({ id, passwordSecret: `devices.${id}` })),
      topicRoot: ROOT,
      log: log.child({ component: 'broker' }),
    });
    url = `mqtt://127.0.0.1:${(await broker.start()).port}`;
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    service = new LockService({
      locks: LOCKS.map((id) => LockConfig.parse({ id, offlineAfterMs: 60_000 })),
      broker,
      outbox,
      sink: new FakeAlarmSink(),
      clock,
      timers: realTimers,
      log: log.child({ component: 'locks' }),
      commandTimeoutMs: 1500,
    });
    commands = new Map(service.commands().map((c) => [c.name, c]));
    service.start();
    sim = await startSimulatedLocks({
      url,
      locks: LOCKS.map((id) => ({ id, password: PASSWORDS[id]! })),
      seed: 7,
      scenario: false,
      timeScale: 0.02,
      reconnectPeriodMs: 200,
    });
    await waitFor(() => LOCKS.every((id) => find((e) => e.type === 'device.online' && e.source.device === id)), 'every lock online');
  });

  afterAll(async () => {
    await sim?.stop();
    service?.stop();
    await broker?.stop();
    outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers the three lock commands with the agreed roles', () => {
    expect([...commands.keys()].sort()).toEqual(['lock.credential.revoke', 'lock.credential.set', 'lock.open']);
    expect(commands.get('lock.open')!.roles).toEqual(['platform', 'guard', 'admin']);
    expect(commands.get('lock.credential.set')!.roles).toEqual(['platform', 'admin']);
    expect(commands.get('lock.credential.revoke')!.roles).toEqual(['platform', 'admin']);
    expect(
      commands.get('lock.credential.set')!.args.safeParse({ lock: 'flat-1-101', credentialId: 'x', kind: 'pin', value: 'abc' }).success,
    ).toBe(false);
  });

  it('records what residents do with the right classes, types and masked credentials', async () => {
    const from = lastSeq();
    const id = 'flat-1-101';
    const [card, pin, former] = sim.residents.get(id)!;
    const lock = sim.lock(id);
    expect(lock.present(card!.kind, card!.value)).toMatchObject({ granted: true });
    lock.present(pin!.kind, pin!.value, { walkIn: false });
    lock.present('pin', '000000', { walkIn: false });
    lock.present('card', 'DEADBEEF42');
    lock.present(former!.kind, former!.value);
    await sim.inject({ kind: 'tamper', lock: id, active: true });
    await sim.inject({ kind: 'battery', lock: id, level: 15 });
    await waitFor(() => find((e) => e.type === 'lock.battery_low', from) && find((e) => e.type === 'door.closed', from), 'the whole story');

    const mine = events().filter((e) => e.seq > from && e.source.device === id);
    const story = mine.map((e) => [classOf(e.seq), e.type, e.data]);
    expect(story).toContainEqual([
      'access',
      'access.granted',
      { lock: id, method: 'card', credential: `****${card!.value.slice(-4)}`, by: 'lock' },
    ]);
    expect(story).toContainEqual(['access', 'access.granted', { lock: id, method: 'pin', credential: '****', by: 'lock' }]);
    expect(story).toContainEqual([
      'access',
      'access.denied',
      { lock: id, method: 'pin', credential: '****', reason: 'wrong_pin', by: 'lock' },
    ]);
    expect(story).toContainEqual([
      'access',
      'access.denied',
      { lock: id, method: 'card', credential: '****EF42', reason: 'unknown', by: 'lock' },
    ]);
    expect(story).toContainEqual([
      'access',
      'access.denied',
      { lock: id, method: 'card', credential: `****${former!.value.slice(-4)}`, reason: 'expired', by: 'lock' },
    ]);
    expect(story).toContainEqual(['access', 'door.opened', { lock: id }]);
    expect(story).toContainEqual(['access', 'door.closed', { lock: id }]);
    expect(story).toContainEqual(['alarm', 'lock.tamper', { lock: id, active: true }]);
    expect(story).toContainEqual(['device', 'lock.battery_low', { lock: id, level: 15 }]);
    // The door opened after the unlock, and closed after it opened.
    const seqOf = (t: string) => mine.find((e) => e.type === t)!.seq;
    expect(seqOf('access.granted')).toBeLessThan(seqOf('door.opened'));
    expect(seqOf('door.opened')).toBeLessThan(seqOf('door.closed'));

    const everything = JSON.stringify(events()) + JSON.stringify(outbox.readStates());
    for (const r of sim.residents.get(id)!) expect(everything).not.toContain(r.value);
    expect(everything).not.toContain('DEADBEEF42');
    expect(everything).not.toContain('000000');

    const state = await waitFor(() => {
      const row = outbox.readStates().find((s) => s.device === id);
      const s = row && (JSON.parse(row.body) as Record<string, unknown>);
      return s && s.battery === 15 && s.tamper === true && s.door === 'closed' ? s : undefined;
    }, 'the retained state');
    expect(state).toMatchObject({ online: true, door: 'closed', battery: 15, tamper: true });
    expect(Date.parse(String(state.lastSeen))).toBeGreaterThan(0);
  });

  it('remote open: the command resolves on the lock answer and the lock reports the unlock', async () => {
    const from = lastSeq();
    await expect(run('lock.open', { lock: 'flat-1-102', seconds: 2 })).resolves.toEqual({ lock: 'flat-1-102', opened: true, seconds: 2 });
    const e = await waitFor(
      () => find((x) => x.type === 'access.granted' && x.source.device === 'flat-1-102', from),
      'the remote unlock event',
    );
    expect(e.data).toEqual({ lock: 'flat-1-102', method: 'remote', credential: 'none', by: 'lock' });
  });

  it('set and revoke a credential, then the revoked card is denied as revoked', async () => {
    const id = 'flat-2-201';
    const lock = sim.lock(id);
    const set = await run('lock.credential.set', {
      lock: id,
      credentialId: 'tenant-x',
      kind: 'card',
      value: '0011223344',
      validTo: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(set).toEqual({ lock: id, credentialId: 'tenant-x', kind: 'card', credential: '****3344' });
    expect(lock.credentials.has('tenant-x')).toBe(true);
    expect(lock.present('card', '0011223344', { walkIn: false })).toMatchObject({ granted: true });
    await expect(run('lock.credential.revoke', { lock: id, credentialId: 'tenant-x' })).resolves.toEqual({
      lock: id,
      credentialId: 'tenant-x',
      revoked: true,
    });
    const from = lastSeq();
    expect(lock.present('card', '0011223344', { walkIn: false })).toEqual({ granted: false, reason: 'revoked' });
    const denied = await waitFor(() => find((e) => e.type === 'access.denied' && e.source.device === id, from), 'the denied swipe');
    expect(denied.data).toEqual({ lock: id, method: 'card', credential: '****3344', reason: 'revoked', by: 'lock' });
    await expect(run('lock.credential.revoke', { lock: id, credentialId: 'tenant-x' })).rejects.toMatchObject({
      code: 'DEVICE_REFUSED',
      details: { reason: 'unknown_credential' },
    });
  });

  it('answers DEVICE_UNKNOWN, DEVICE_OFFLINE and CMD_TIMEOUT with codes', async () => {
    await expect(run('lock.open', { lock: 'flat-9-999' })).rejects.toMatchObject({ code: 'DEVICE_UNKNOWN' });

    const from = lastSeq();
    const statuses: string[] = [];
    const unsubscribe = broker.subscribe('lan/v1/lock/flat-2-201/status', (_t, p) => statuses.push(p.toString()));
    await sim.inject({ kind: 'offline', lock: 'flat-2-201' });
    // Pulling the plug fires the lock's last will.
    await waitFor(() => statuses.includes('{"state":"offline","reason":"connection_lost"}'), 'the last will');
    unsubscribe();
    const off = await waitFor(() => find((e) => e.type === 'device.offline' && e.source.device === 'flat-2-201', from), 'the lock offline');
    expect(off.data).toMatchObject({ family: 'lock' });
    expect(['connection_lost', 'disconnected']).toContain((off.data as { reason: string }).reason);
    expect(classOf(off.seq)).toBe('device');
    await expect(run('lock.open', { lock: 'flat-2-201' })).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });

    // A lock that is connected but never answers.
    const mute = await mqtt.connectAsync(url, {
      clientId: 'flat-2-201',
      username: 'flat-2-201',
      password: PASSWORDS['flat-2-201'],
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await mute.publishAsync('lan/v1/lock/flat-2-201/status', '{"state":"online"}', { qos: 1, retain: true });
    await mute.subscribeAsync('lan/v1/lock/flat-2-201/cmd', { qos: 1 });
    await waitFor(() => service.driver('flat-2-201')!.snapshot().online, 'the mute lock online');
    const t0 = Date.now();
    await expect(run('lock.open', { lock: 'flat-2-201' })).rejects.toMatchObject({ code: 'CMD_TIMEOUT' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    await mute.endAsync();

    sim.lock('flat-2-201').goOnline();
    await waitFor(() => sim.lock('flat-2-201').connected && service.driver('flat-2-201')!.snapshot().online, 'the lock back');
  });

  it('a lock publishing garbage or as another lock is refused and logged; everything keeps running', async () => {
    const from = lastSeq();
    await sim.inject({ kind: 'raw', lock: 'flat-1-101', topic: 'lan/v1/lock/flat-1-101/evt', payload: '{"type":"unlock",' });
    await waitFor(
      () =>
        logLines.some(
          (l) => l.includes('lock sent a message that was refused') && l.includes('MALFORMED_JSON') && l.includes('flat-1-101'),
        ),
      'the protocol warning',
    );
    await sim.inject({ kind: 'raw', lock: 'flat-1-101', topic: 'lan/v1/lock/flat-1-102/evt', payload: '{"type":"tamper","active":true}' });
    await waitFor(
      () =>
        logLines.some(
          (l) => l.includes('embedded broker refused publish') && l.includes('"device":"flat-1-101"') && l.includes('flat-1-102/evt'),
        ),
      'the refusal',
    );
    // The impostor's message reached nobody, and nothing was recorded for either lock.
    await sim.inject({ kind: 'door', lock: 'flat-1-101', door: 'open' });
    await waitFor(() => find((e) => e.type === 'door.opened' && e.source.device === 'flat-1-101', from), 'a later legitimate event');
    // Only the two locks involved: another lock a previous test took offline may come back
    // online in this window on a loaded machine, which says nothing about these two.
    expect(
      events()
        .filter((e) => e.seq > from && (e.source.device === 'flat-1-101' || e.source.device === 'flat-1-102'))
        .map((e) => `${e.source.device} ${e.type}`),
    ).toEqual(['flat-1-101 door.opened']);
    expect(sim.lock('flat-1-101').connected).toBe(true);
    expect(logLines.join('')).not.toContain(PASSWORDS['flat-1-101']);
    await sim.inject({ kind: 'door', lock: 'flat-1-101', door: 'closed' });
    await expect(run('lock.open', { lock: 'flat-1-102' })).resolves.toMatchObject({ opened: true });
  });

  it('residents acting on their own produce only well-formed lock events', async () => {
    const from = lastSeq();
    const scenario = new Scenario({
      locks: sim.locks,
      residents: sim.residents,
      timers: realTimers,
      random: seededRandom(99),
      meanIntervalMs: 20,
      weights: { offline: 0 },
    });
    scenario.start();
    await waitFor(() => scenario.log.length >= 40, 'forty actions');
    scenario.stop();
    await waitFor(() => events().filter((e) => e.seq > from && e.type.startsWith('access.')).length >= 20, 'their access events');
    const allowed = new Set([
      'access.granted',
      'access.denied',
      'door.opened',
      'door.closed',
      'lock.battery_low',
      'device.online',
      'device.offline',
    ]);
    for (const e of events().filter((x) => x.seq > from)) {
      expect(allowed.has(e.type), e.type).toBe(true);
      if (e.type.startsWith('access.')) expect((e.data as { credential: string }).credential).toMatch(/^(\*\*\*\*[0-9A-F]{0,4}|none)$/);
    }
  });
});
