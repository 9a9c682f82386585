/**
 * Events per flapping device per hour, as the platform would receive them (everything the
 * outbox records with the device as source: device.*, reader.*, the lifecycle's alarm.*).
 * Simulated time (ManualClock), real outbox (SQLite file), real AlarmManager (the families report to it).
 *
 * - reader, wrong security block from the first reply of each session (issue 11's firmware);
 * - reader, wrong security block a few exchanges into each session;
 * - lock on a bad Wi-Fi link: connected/disconnected at 2 Hz;
 * - lock that drops the moment it is announced online (the worst case for the damping).
 *
 * `node dist/tests/bench/presence-flap.js [hours]`. Runs against a tree without the presence
 * policy too (it is loaded if present), which is how the "before" figure is measured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { CompoundConfig } from '../../config/schema.js';
import { OsdpControlPanel } from '../../drivers/osdp/control-panel.js';
import { encodeStatus } from '../../drivers/smartlock/codec.js';
import { MemoryTransport } from '../../drivers/smartlock/memory-transport.js';
import { AccessService } from '../../gateway/access/access-service.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { LockService } from '../../gateway/locks/lock-service.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { FakeOsdpLine } from '../helpers/fake-osdp-line.js';

const HOUR = 3600_000;
const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const flush = () => new Promise<void>((r) => setImmediate(r));

interface Tracker {
  track(device: string, family: string, announce: (a: unknown) => void): unknown;
  stop(): void;
}

async function makePresence(clock: ManualClock, sink: AlarmManager): Promise<Tracker | undefined> {
  try {
    const mod = (await import('../../gateway/presence/presence-policy.js')) as { PresencePolicy: new (o: unknown) => Tracker };
    const { PresenceConfig } = (await import('../../config/presence-schema.js')) as { PresenceConfig: { parse(v: unknown): unknown } };
    return new mod.PresencePolicy({ config: PresenceConfig.parse({}), clock, timers: clock, sink, log: silentLogger() });
  } catch {
    return undefined; // a tree from before the presence policy: every change is announced
  }
}

async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-presence-'));
  const clock = new ManualClock();
  const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
  const manager = new AlarmManager({
    db: outbox.scope('alarms'),
    outbox,
    config: AlarmsConfig.parse({}),
    clock,
    timers: clock,
    log: silentLogger(),
  });
  manager.start();
  const presence = await makePresence(clock, manager);
  return {
    dir,
    clock,
    outbox,
    manager,
    presence,
    count(device: string): number {
      outbox.flush();
      return (
        (outbox
          .scope('outbox')
          .prepare("SELECT count(*) FROM events WHERE json_extract(body, '$.source.device') = ?")
          .pluck()
          .get(device) as number) ?? 0
      );
    },
    async close() {
      presence?.stop();
      await manager.stop();
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Events in each simulated hour. */
type PerHour = number[];

/** A reader with the wrong-security-block fault after `goodReplies` good ones per session, for `hours`. */
async function flappingReader(goodReplies: number, hours: number): Promise<PerHour> {
  const w = await world();
  const config = CompoundConfig.parse({
    compound: { id: 'c' },
    gateway: { id: 'g' },
    osdpBuses: [{ id: 'bus-1', path: '/dev/fake' }],
    readers: [{ id: 'gate-in', bus: 'bus-1', address: 1 }],
  });
  const line = new FakeOsdpLine(w.clock, [{ address: 1, key: KEY }]);
  (line.reader(1) as { wrongSecurityBlockAfter?: number }).wrongSecurityBlockAfter = goodReplies;
  const log = silentLogger();
  const service = new AccessService({
    buses: config.osdpBuses,
    readers: config.readers,
    doors: [],
    access: config.access,
    decider: { decide: () => ({ granted: false, reason: 'unknown', credential: '****', method: 'card' }), commitPassage: () => undefined },
    lineFactory: (bus, readers) => new OsdpControlPanel({ bus, readers, clock: w.clock, timers: w.clock, log, openPort: () => line }),
    readerKey: () => KEY,
    readerInstalled: () => false,
    onKeySet: () => undefined,
    outbox: w.outbox,
    sink: w.manager,
    uplinkConnected: () => true,
    ...(w.presence ? { presence: w.presence as never } : {}),
    clock: w.clock,
    timers: w.clock,
    log,
  });
  await service.start();
  const perHour: PerHour = [];
  // 2 ms steps: one exchange per step at most, which is also the line's reply delay.
  for (let h = 0; h < hours; h++) {
    for (let t = 0; t < HOUR; t += 2) {
      w.clock.advance(2);
      await flush();
    }
    perHour.push(w.count('gate-in') - perHour.reduce((a, b) => a + b, 0));
  }
  await service.stop();
  await w.close();
  return perHour;
}

/** A lock whose link state a script decides, second by second (or twice a second). */
async function flappingLock(hours: number, stepMs: number, next: (announced: boolean | null, step: number) => boolean): Promise<PerHour> {
  const w = await world();
  const transport = new MemoryTransport();
  const log = silentLogger();
  const locks = new LockService({
    locks: [{ id: 'flat-1', offlineAfterMs: 600_000 } as never],
    transport,
    outbox: w.outbox,
    sink: w.manager,
    clock: w.clock,
    timers: w.clock,
    log,
    ...(w.presence ? { presence: w.presence as never } : {}),
  });
  locks.start();
  const announced = () => {
    w.outbox.flush();
    const last = w.outbox
      .scope('outbox')
      .prepare(
        "SELECT json_extract(body, '$.type') FROM events WHERE json_extract(body, '$.type') IN ('device.online', 'device.offline') ORDER BY seq DESC LIMIT 1",
      )
      .pluck()
      .get() as string | undefined;
    return last === undefined ? null : last === 'device.online';
  };
  let up: boolean | undefined;
  const perHour: PerHour = [];
  for (let step = 0; step * stepMs < hours * HOUR; step++) {
    if (step > 0 && (step * stepMs) % HOUR === 0) perHour.push(w.count('flat-1') - perHour.reduce((a, b) => a + b, 0));
    const want = next(announced(), step);
    // A lock that is up says so every minute (its heartbeat), or the driver's silence timer takes it down.
    const heartbeat = want && (step * stepMs) % 60_000 === 0;
    if (want !== up || heartbeat) {
      up = want;
      const m = encodeStatus('flat-1', want ? { state: 'online' } : ({ state: 'offline', reason: 'connection_lost' } as never));
      transport.publish(m.topic, m.payload);
    }
    w.clock.advance(stepMs);
    await flush();
  }
  locks.stop();
  perHour.push(w.count('flat-1') - perHour.reduce((a, b) => a + b, 0));
  await w.close();
  return perHour;
}

export async function benchPresenceFlap(hours = 1): Promise<Record<string, PerHour>> {
  return {
    readerBadBlockFirstReply: await flappingReader(0, hours),
    readerBadBlockAfter3: await flappingReader(3, hours),
    lock2Hz: await flappingLock(hours, 500, (_a, step) => step % 2 === 0),
    lockDropsWhenReleased: await flappingLock(hours, 1000, (a) => a !== true),
  };
}

if (process.argv[1]?.endsWith('presence-flap.js')) {
  const hours = Math.max(1, Math.round(Number(process.argv[2] ?? 1)));
  const r = await benchPresenceFlap(hours);
  console.log(`events per flapping device, hour by hour (${hours} h simulated):`);
  for (const [k, v] of Object.entries(r))
    console.log(`  ${k.padEnd(26)} max ${String(Math.max(...v)).padStart(6)}   per hour: ${v.join(', ')}`);
}
