/**
 * The flapping reader of issue 11, through the whole access pipeline on a ManualClock: the
 * simulated reader's protocol layer (SimPd, with its "handshakes correctly, then a wrong
 * security block" fault) on an in-memory line, the real OsdpControlPanel, AccessService,
 * presence policy and AlarmManager, and a real outbox (SQLite file). What the
 * platform would receive is what the outbox holds for the reader.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { PresenceConfig } from '../../config/presence-schema.js';
import { CompoundConfig } from '../../config/schema.js';
import { OsdpControlPanel } from '../../drivers/osdp/control-panel.js';
import { AccessService } from '../../gateway/access/access-service.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { ALARM_KINDS as ACCESS_ALARM_KINDS } from '../../gateway/access/alarm-kinds.js';
import { ALARM_KINDS as PRESENCE_ALARM_KINDS } from '../../gateway/presence/alarm-kinds.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { PresencePolicy } from '../../gateway/presence/presence-policy.js';
import { FakeOsdpLine } from '../helpers/fake-osdp-line.js';
import { validateMessage } from '../helpers/asyncapi.js';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const config = CompoundConfig.parse({
  compound: { id: 'c' },
  gateway: { id: 'g' },
  osdpBuses: [{ id: 'bus-1', path: '/dev/fake' }],
  readers: [
    { id: 'gate-in', bus: 'bus-1', address: 1 },
    { id: 'gate-out', bus: 'bus-1', address: 2 },
  ],
  doors: [{ id: 'gate', entryReader: 'gate-in', exitReader: 'gate-out', lock: { reader: 'gate-in', index: 0 } }],
});

const flush = () => new Promise<void>((r) => setImmediate(r));

function pipeline(fault: number) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-reader-flap-'));
  const clock = new ManualClock();
  const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
  const log = silentLogger();
  const manager = new AlarmManager({ db: outbox.scope('alarms'), outbox, config: AlarmsConfig.parse({}), clock, timers: clock, log });
  manager.declareKinds([...PRESENCE_ALARM_KINDS, ...ACCESS_ALARM_KINDS]);
  manager.start();
  const presence = new PresencePolicy({ config: PresenceConfig.parse({}), clock, timers: clock, sink: manager, log });
  const line = new FakeOsdpLine(clock, [
    { address: 1, key: KEY },
    { address: 2, key: KEY },
  ]);
  line.reader(1).wrongSecurityBlockAfter = fault;
  const service = new AccessService({
    buses: config.osdpBuses,
    readers: config.readers,
    doors: config.doors,
    access: config.access,
    decider: { decide: () => ({ granted: false, reason: 'unknown', credential: '****', method: 'card' }), commitPassage: () => undefined },
    // Production reader backoff (0.5-8 s) and reply timeout: the figures are the real ones.
    lineFactory: (bus, readers) => new OsdpControlPanel({ bus, readers, clock, timers: clock, log, openPort: () => line }),
    readerKey: () => KEY,
    readerInstalled: () => false,
    onKeySet: () => undefined,
    outbox,
    sink: manager,
    uplinkConnected: () => true,
    presence,
    clock,
    timers: clock,
    log,
  });
  return {
    clock,
    service,
    async run(ms: number) {
      for (let t = 0; t < ms; t++) {
        clock.advance(1);
        await flush();
      }
    },
    /** Validation errors of every recorded event against the AsyncAPI document. */
    invalid(): string[] {
      outbox.flush();
      return outbox.readEvents(0, 100_000).flatMap((r) => validateMessage(`gatehouse/v1/c/g/evt/${r.class}`, r.body).errors);
    },
    events(device: string): Envelope[] {
      outbox.flush();
      return outbox
        .readEvents(0, 100_000)
        .map((r) => JSON.parse(r.body) as Envelope)
        .filter((e) => e.source.device === device);
    },
    async close() {
      await service.stop();
      presence.stop();
      await manager.stop();
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const kindOf = (e: Envelope) => (e.data as { kind?: string }).kind;

describe('a flapping OSDP reader through the access pipeline', () => {
  let p: ReturnType<typeof pipeline> | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('handshakes correctly then sends a wrong security block (the 2 Hz flapper): one reader.secure_failed in a minute, never online', async () => {
    p = pipeline(0);
    await p.service.start();
    await p.run(60_000);
    const events = p.events('gate-in');
    expect(events.map((e) => e.type)).toEqual(['reader.secure_failed']);
    expect(events[0]!.data).toMatchObject({ reader: 'gate-in', reason: expect.stringMatching(/security block/) });
    expect(p.events('gate-out').map((e) => e.type)).toEqual(['device.online']);
  });

  it('goes bad a few exchanges into every session: a handful of events and one device.flapping alarm in a minute', async () => {
    p = pipeline(3);
    await p.service.start();
    await p.run(60_000);
    const events = p.events('gate-in');
    expect(events.length).toBeLessThanOrEqual(15);
    const flapping = events.filter((e) => e.type.startsWith('alarm.') && kindOf(e) === 'device.flapping');
    expect(flapping.map((e) => e.type)).toEqual(['alarm.raised']);
    expect(events.filter((e) => e.type === 'reader.secure_failed')).toHaveLength(1);
    // Held offline: the last word on the reader is offline, and its state says so.
    const presence = events.filter((e) => e.type === 'device.online' || e.type === 'device.offline').map((e) => e.type);
    expect(presence.at(-1)).toBe('device.offline');
    expect((p.service.states().readers['gate-in'] as { online: boolean }).online).toBe(false);
    expect(p.events('gate-out').map((e) => e.type)).toEqual(['device.online']);
    expect(p.invalid()).toEqual([]);
  });
});
