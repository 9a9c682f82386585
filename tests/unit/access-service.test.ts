/**
 * The access service's wiring with a fake line and a fake decider (pure logic): what a
 * card, a PIN, the door contact, the exit button, tamper, fire and a reader going offline
 * turn into — lock commands first, then events. The same paths run over a real serial
 * line against the simulated readers in tests/integration/access-*.test.ts.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CompoundConfig } from '../../config/schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { AccessService, type Decider, type Decision, type DecisionRequest, type ReaderLine } from '../../gateway/access/access-service.js';
import { doorCommands } from '../../gateway/access/door-commands.js';
import type { AnyEventInput, EventInput } from '../../gateway/core/events.js';
import type { OutputControl, ReaderEvent } from '../../drivers/osdp/types.js';
import { rawFromCardHex } from '../../drivers/osdp/card.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';

class FakeLine extends EventEmitter implements ReaderLine {
  log: string[] = [];
  outputs: { address: number; cmds: OutputControl[] }[] = [];
  start() {}
  stop() {}
  async output(address: number, cmds: OutputControl[]) {
    this.log.push(`out:${address}`);
    this.outputs.push({ address, cmds });
  }
  async led(address: number) {
    this.log.push(`led:${address}`);
  }
  async buzzer(address: number) {
    this.log.push(`buz:${address}`);
  }
  status() {
    return [];
  }
  send(e: ReaderEvent) {
    this.emit('event', e);
  }
}

const config = CompoundConfig.parse({
  compound: { id: 'c' },
  gateway: { id: 'g' },
  osdpBuses: [{ id: 'bus-1', path: '/dev/null' }],
  readers: [
    { id: 'gate-in', bus: 'bus-1', address: 1 },
    { id: 'gate-out', bus: 'bus-1', address: 2 },
  ],
  doors: [
    {
      id: 'gate',
      entryReader: 'gate-in',
      exitReader: 'gate-out',
      lock: { reader: 'gate-in', index: 0 },
      contact: { reader: 'gate-in', index: 0 },
      exitButton: { reader: 'gate-in', index: 1 },
    },
  ],
  access: { fireInputs: [{ reader: 'gate-out', index: 3 }] },
});

function rig(decide: (r: DecisionRequest) => ReturnType<Decider['decide']>) {
  const clock = new ManualClock();
  const line = new FakeLine();
  const events: AnyEventInput[] = [];
  const requests: DecisionRequest[] = [];
  const passages: unknown[] = [];
  let uplink = true;
  const sink = new FakeAlarmSink();
  const service = new AccessService({
    buses: config.osdpBuses,
    readers: config.readers,
    doors: config.doors,
    access: config.access,
    decider: { decide: (r) => (requests.push(r), decide(r)), commitPassage: (p) => passages.push(p) },
    lineFactory: () => line,
    readerKey: () => Buffer.alloc(16, 1),
    readerInstalled: () => false,
    onKeySet: () => undefined,
    outbox: {
      record: async (e: EventInput) => {
        line.log.push(`rec:${e.type}`);
        events.push(e);
        return {} as never;
      },
      setState: async () => undefined,
    },
    sink,
    uplinkConnected: () => uplink,
    clock,
    timers: clock,
    log: silentLogger(),
  });
  const card = (hex: string, address = 1) => line.send({ kind: 'card', address, bits: 32, data: rawFromCardHex(hex, 32), format: 0 });
  return { clock, line, events, requests, passages, service, card, sink, setUplink: (v: boolean) => (uplink = v) };
}

const granted: Decision = { granted: true, reason: 'granted', credentialId: 'alice', credential: '****BEEF', method: 'card' };

describe('AccessService', () => {
  it('a granted card drives the lock before anything is recorded, and the passage is committed when the door opens', async () => {
    const r = rig(() => granted);
    await r.service.start();
    r.line.send({ kind: 'inputs', address: 1, inputs: [true, false] }); // NC contact active = closed
    r.card('DEADBEEF');
    expect(r.requests[0]).toMatchObject({ door: 'gate', direction: 'in', card: 'DEADBEEF' });
    expect(r.line.log.indexOf('out:1')).toBeLessThan(r.line.log.indexOf('rec:access.granted'));
    expect(r.line.outputs[0]!.cmds).toEqual([{ output: 0, action: 'pulse-on', ms: 5000 }]);
    const ev = r.events.find((e) => e.type === 'access.granted')!;
    expect(ev).toMatchObject({
      class: 'access',
      source: { device: 'gate', point: 'gate-in' },
      data: { door: 'gate', direction: 'in', credential: '****BEEF', credentialId: 'alice', offline: false, by: 'gateway' },
    });
    expect(JSON.stringify(r.events)).not.toContain('DEADBEEF');
    r.line.send({ kind: 'inputs', address: 1, inputs: [false, false] });
    expect(r.passages).toHaveLength(1);
    expect(r.events.map((e) => e.type)).toContain('door.opened');
  });

  it('a denial records the reason and marks decisions taken with the uplink down', async () => {
    const r = rig(() => ({ granted: false, reason: 'expired', credentialId: 'bob', credential: '****0001', method: 'card' }));
    await r.service.start();
    r.setUplink(false);
    r.card('00000001', 2);
    expect(r.line.outputs).toEqual([]);
    expect(r.events.at(-1)).toMatchObject({ type: 'access.denied', data: { direction: 'out', reason: 'expired', offline: true } });
  });

  it('card+PIN: the card waits for the PIN typed on the same reader, then one decision is made', async () => {
    const r = rig((req) =>
      req.pin === undefined
        ? { granted: false, reason: 'pin_required', credentialId: 'carol', credential: '****0002', method: 'card+pin' }
        : { ...granted, method: 'card+pin' },
    );
    await r.service.start();
    r.card('00000002');
    expect(r.events.filter((e) => e.class === 'access')).toEqual([]);
    r.line.send({ kind: 'keypad', address: 1, keys: '1234#' });
    expect(r.requests.at(-1)).toMatchObject({ card: '00000002', pin: '1234' });
    expect(r.events.at(-1)).toMatchObject({ type: 'access.granted', data: { method: 'card+pin' } });
  });

  it('card+PIN without a PIN is denied as pin_required after the timeout', async () => {
    const r = rig(() => ({ granted: false, reason: 'pin_required', credentialId: 'carol', credential: '****0002', method: 'card+pin' }));
    await r.service.start();
    r.card('00000002');
    r.clock.advance(10_001);
    expect(r.events.at(-1)).toMatchObject({ type: 'access.denied', data: { reason: 'pin_required' } });
  });

  it('tamper and reader offline are raised and cleared as alarms', async () => {
    const r = rig(() => granted);
    await r.service.start();
    r.line.send({ kind: 'local-status', address: 2, tamper: true, power: true });
    r.line.send({ kind: 'offline', address: 1, reason: 'no answer to 4 polls' });
    r.line.send({ kind: 'online', address: 1, secure: true });
    r.line.send({ kind: 'local-status', address: 2, tamper: true, power: false });
    const alarms = r.events.filter((e) => e.class === 'alarm').map((e) => `${e.type}:${String(e.data.active)}`);
    // LSTATR's second byte is the power-failure report: an alarm of its own while it lasts.
    expect(alarms).toEqual([
      'reader.tamper:true',
      'reader.power_failure:true',
      'reader.offline:true',
      'reader.offline:false',
      'reader.power_failure:false',
    ]);
    // Back online: the lock is told its state again.
    expect(r.line.outputs.at(-1)!.cmds).toEqual([{ output: 0, action: 'off' }]);
  });

  it('the exit button opens once per press; fire unlocks the door and is an alarm', async () => {
    const r = rig(() => granted);
    await r.service.start();
    r.line.send({ kind: 'inputs', address: 1, inputs: [true, false] });
    r.line.send({ kind: 'inputs', address: 1, inputs: [true, true] });
    r.line.send({ kind: 'inputs', address: 1, inputs: [true, true] });
    expect(r.events.filter((e) => e.type === 'door.exit_request')).toHaveLength(1);
    r.line.send({ kind: 'inputs', address: 2, inputs: [false, false, false, true] });
    expect(r.events.find((e) => e.type === 'access.fire_unlock')).toMatchObject({ class: 'alarm', data: { active: true } });
    expect(r.service.door('gate').snapshot().mode).toBe('fire');
    expect(r.line.outputs.at(-1)!.cmds).toEqual([{ output: 0, action: 'on' }]);
  });

  it('door commands: open is refused while the lock reader is offline; unlock/lock hold the mode', async () => {
    const r = rig(() => granted);
    await r.service.start();
    const [open, unlock, lock] = doorCommands(r.service);
    const ctx = { id: 'x', caller: { via: 'cli' as const, role: 'guard' as const, principal: 't' }, deadline: 0 };
    await expect(open!.handler({ door: 'gate' }, ctx)).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
    r.line.send({ kind: 'online', address: 1, secure: true });
    await expect(open!.handler({ door: 'gate', seconds: 3 }, ctx)).resolves.toMatchObject({ opened: true });
    expect(r.line.outputs.at(-1)!.cmds).toEqual([{ output: 0, action: 'pulse-on', ms: 3000 }]);
    await expect(unlock!.handler({ door: 'gate' }, ctx)).resolves.toMatchObject({ mode: 'unlocked', online: true });
    await expect(lock!.handler({ door: 'gate' }, ctx)).resolves.toMatchObject({ mode: 'normal' });
    await expect(lock!.handler({ door: 'nope' }, ctx)).rejects.toMatchObject({ code: 'DEVICE_UNKNOWN' });
  });

  it('a card read with fewer bits than announced is ignored, not a crash', async () => {
    const r = rig(() => granted);
    await r.service.start();
    r.line.send({ kind: 'card', address: 1, bits: 64, data: new Uint8Array(2), format: 0 });
    expect(r.requests).toEqual([]);
  });
});

describe('AccessService keypad guessing', () => {
  it('after pinMaxAttempts unknown PINs the keypad refuses PINs for pinLockoutMs without asking the decider', async () => {
    const r = rig((req) =>
      req.pin === '9999'
        ? { ...granted, method: 'pin' as const }
        : { granted: false, reason: 'unknown', credential: '****', method: 'pin' as const },
    );
    await r.service.start();
    for (let i = 0; i < 5; i++) r.line.send({ kind: 'keypad', address: 1, keys: `000${i}#` });
    const asked = r.requests.length;
    r.line.send({ kind: 'keypad', address: 1, keys: '9999#' });
    expect(r.requests.length).toBe(asked);
    expect(r.events.at(-1)).toMatchObject({ type: 'access.denied', data: { reason: 'pin_locked_out', method: 'pin' } });
    r.clock.advance(300_000);
    r.line.send({ kind: 'keypad', address: 1, keys: '9999#' });
    expect(r.events.at(-1)).toMatchObject({ type: 'access.granted' });
  });
});
