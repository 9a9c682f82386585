/**
 * The driver for one lock over an in-memory transport with a hand-driven clock: no
 * sockets, no real time, every timeout exact.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { SmartLockDriver } from '../../drivers/smartlock/driver.js';
import { MemoryTransport, topicMatches } from '../../drivers/smartlock/memory-transport.js';
import { lockTopics } from '../../drivers/smartlock/topics.js';
import type { LockDeviceEvent } from '../../drivers/smartlock/types.js';

const ID = 'flat-1-101';
const T = lockTopics(ID);

describe('SmartLockDriver', () => {
  let clock: ManualClock;
  let bus: MemoryTransport;
  let driver: SmartLockDriver;
  let events: LockDeviceEvent[];
  let cids: number;
  const lockSays = (topic: string, body: unknown, retain = false) =>
    bus.publish(topic, typeof body === 'string' ? body : JSON.stringify(body), { retain });
  const of = (type: LockDeviceEvent['type']) => events.filter((e) => e.type === type);
  /** The last command the driver sent to the lock. */
  const lastCmd = () =>
    JSON.parse(bus.published.filter((p) => p.topic === T.cmd).at(-1)!.payload) as { cid: string; op: string; expires: string };

  beforeEach(() => {
    clock = new ManualClock();
    bus = new MemoryTransport();
    cids = 0;
    driver = new SmartLockDriver({
      id: ID,
      transport: bus,
      clock,
      timers: clock,
      offlineAfterMs: 180_000,
      commandTimeoutMs: 10_000,
      newCid: () => `c${++cids}`,
    });
    events = [];
    driver.on('event', (e) => events.push(e));
    driver.start();
  });

  it('comes online on the first message, and reports state changes', () => {
    expect(events).toEqual([]);
    lockSays(T.status, { state: 'online' }, true);
    lockSays(T.state, { locked: true, door: 'closed', battery: 90, tamper: false }, true);
    expect(of('online')).toEqual([{ type: 'online', lock: ID }]);
    const states = of('state') as Extract<LockDeviceEvent, { type: 'state' }>[];
    expect(states.at(-1)).toMatchObject({
      changed: true,
      state: { online: true, locked: true, door: 'closed', battery: 90, tamper: false, lastSeen: clock.now() },
    });
    lockSays(T.state, { locked: true, door: 'closed', battery: 90, tamper: false });
    expect((of('state').at(-1) as { changed: boolean }).changed).toBe(false);
  });

  it('emits typed events with masked credentials, and drops QoS 1 redeliveries by eid', () => {
    lockSays(T.evt, { type: 'unlock', eid: 'e1', result: 'granted', method: 'card', credential: '04A1B2C35678' });
    lockSays(T.evt, { type: 'unlock', eid: 'e1', result: 'granted', method: 'card', credential: '04A1B2C35678' });
    lockSays(T.evt, { type: 'unlock', eid: 'e2', result: 'denied', method: 'pin', credential: '918273', reason: 'wrong_pin' });
    lockSays(T.evt, { type: 'unlock', result: 'denied', method: 'card', credential: '11112222' });
    lockSays(T.evt, { type: 'door', door: 'open' });
    lockSays(T.evt, { type: 'tamper', active: true });
    lockSays(T.evt, { type: 'battery_low', level: 14 });
    expect(events.filter((e) => e.type !== 'state' && e.type !== 'online')).toEqual([
      { type: 'access', lock: ID, granted: true, method: 'card', credential: '****5678' },
      { type: 'access', lock: ID, granted: false, method: 'pin', credential: '****', reason: 'wrong_pin' },
      { type: 'access', lock: ID, granted: false, method: 'card', credential: '****2222', reason: 'unknown_reason' },
      { type: 'door', lock: ID, door: 'open' },
      { type: 'tamper', lock: ID, active: true },
      { type: 'battery_low', lock: ID, level: 14 },
    ]);
    expect(JSON.stringify(events)).not.toContain('918273');
    expect(driver.snapshot()).toMatchObject({ locked: false, door: 'open', tamper: true, battery: 14 });
  });

  it('reports bad messages as protocol errors, and still counts them as signs of life', () => {
    lockSays(T.evt, '{not json');
    lockSays(T.evt, { type: 'unlock', result: 'granted', method: 42 });
    expect(of('protocol_error').map((e) => (e as { code: string }).code)).toEqual(['MALFORMED_JSON', 'INVALID']);
    expect(of('online')).toHaveLength(1);
  });

  it('goes offline after silence, and back online when the lock speaks again', () => {
    lockSays(T.state, { locked: true, battery: 90 });
    clock.advance(179_999);
    expect(of('offline')).toEqual([]);
    clock.advance(1);
    expect(of('offline')).toEqual([{ type: 'offline', lock: ID, reason: 'silence' }]);
    expect(driver.snapshot().online).toBe(false);
    clock.advance(600_000);
    expect(of('offline')).toHaveLength(1); // reported once, not every period
    lockSays(T.state, { locked: true, battery: 90 });
    expect(of('online')).toHaveLength(2);
  });

  it('reports a lock never heard from as offline after the silence period', () => {
    clock.advance(180_000);
    expect(of('offline')).toEqual([{ type: 'offline', lock: ID, reason: 'silence' }]);
  });

  it('goes offline on its last will and on a broker disconnect, once', () => {
    lockSays(T.status, { state: 'online' });
    lockSays(T.status, { state: 'offline', reason: 'connection_lost' });
    driver.connectionLost();
    expect(of('offline')).toEqual([{ type: 'offline', lock: ID, reason: 'connection_lost' }]);
    lockSays(T.status, { state: 'online' });
    driver.connectionLost();
    expect(of('offline').at(-1)).toEqual({ type: 'offline', lock: ID, reason: 'disconnected' });
  });

  it('resolves a command on the lock answer, with cid and expiry on the wire', async () => {
    lockSays(T.status, { state: 'online' });
    const p = driver.open(5);
    await Promise.resolve();
    const cmd = lastCmd();
    expect(cmd).toMatchObject({ cid: 'c1', op: 'open', seconds: 5, expires: new Date(clock.now() + 10_000).toISOString() });
    lockSays(T.cmdRes, { cid: 'someone-else', ok: true });
    lockSays(T.cmdRes, { cid: 'c1', ok: true });
    await expect(p).resolves.toEqual({});
  });

  it('rejects with DEVICE_REFUSED when the lock says no', async () => {
    lockSays(T.status, { state: 'online' });
    const p = driver.revokeCredential('tenant-9');
    await Promise.resolve();
    lockSays(T.cmdRes, { cid: lastCmd().cid, ok: false, code: 'unknown_credential' });
    const err = await p.catch((e: unknown) => e);
    expect(isGatehouseError(err, 'DEVICE_REFUSED')).toBe(true);
    expect(err).toMatchObject({ details: { lock: ID, op: 'credential.revoke', reason: 'unknown_credential' } });
  });

  it('rejects with CMD_TIMEOUT when the lock does not answer, honouring an earlier deadline', async () => {
    lockSays(T.status, { state: 'online' });
    const p1 = driver.setCredential({ credentialId: 'tenant-1', kind: 'pin', value: '482915' });
    const p2 = driver.open(undefined, { deadline: clock.monotonic() + 2_000 });
    const r1 = p1.catch((e: unknown) => e);
    const r2 = p2.catch((e: unknown) => e);
    clock.advance(2_000);
    expect(isGatehouseError(await r2, 'CMD_TIMEOUT')).toBe(true);
    clock.advance(7_999);
    lockSays(T.state, { locked: true, battery: 50 }); // alive, just not answering
    clock.advance(1);
    expect(isGatehouseError(await r1, 'CMD_TIMEOUT')).toBe(true);
    await expect(driver.open(undefined, { deadline: clock.monotonic() - 1 })).rejects.toMatchObject({ code: 'CMD_TIMEOUT' });
  });

  it('refuses commands to an offline lock, and fails pending ones when it goes offline', async () => {
    lockSays(T.status, { state: 'online' });
    const pending = driver.open().catch((e: unknown) => e);
    lockSays(T.status, { state: 'offline', reason: 'connection_lost' });
    expect(isGatehouseError(await pending, 'DEVICE_OFFLINE')).toBe(true);
    await expect(driver.open()).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
  });

  it('rejects when the transport cannot publish, and after stop', async () => {
    lockSays(T.status, { state: 'online' });
    const failing = new SmartLockDriver({
      id: ID,
      transport: { publish: () => Promise.reject(new Error('broker down')), subscribe: bus.subscribe.bind(bus) },
      clock,
      timers: clock,
      offlineAfterMs: 1000,
    });
    failing.start();
    await expect(failing.open()).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
    const pending = driver.open().catch((e: unknown) => e);
    driver.stop();
    expect(isGatehouseError(await pending, 'DEVICE_OFFLINE')).toBe(true);
    expect(bus.subscriptionCount).toBe(4); // only `failing` is still subscribed
    await expect(driver.open()).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
  });

  it('ignores messages of other locks (the transport filter and the codec agree)', () => {
    lockSays('lan/v1/lock/flat-9-999/evt', { type: 'tamper', active: true });
    expect(events).toEqual([]);
    expect(topicMatches('lan/v1/lock/+/evt', 'lan/v1/lock/a/evt')).toBe(true);
    expect(topicMatches('lan/v1/#', 'lan/v1/lock/a/cmd/res')).toBe(true);
    expect(topicMatches('lan/v1/lock/+', 'lan/v1/lock/a/evt')).toBe(false);
  });
});
