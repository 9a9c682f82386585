/**
 * A family's own raise keeps the lifecycle's disk-full rules (issue 12 moved the raise from
 * the alarm tap into the lock service): on a real full filesystem (tmpfs) a lock's tamper
 * is refused, raw event and alarm.raised alike; the lock reports again once there is room,
 * and the platform gets its alarm.raised exactly once (not as a re-trigger, not twice
 * after the retry).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { LockConfig } from '../../config/schema.js';
import { MemoryTransport } from '../../drivers/smartlock/memory-transport.js';
import { lockTopics } from '../../drivers/smartlock/topics.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { ALARM_KINDS } from '../../gateway/locks/alarm-kinds.js';
import { LockService } from '../../gateway/locks/lock-service.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';

const turns = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('a lock tamper on a full disk', () => {
  let fs: Tmpfs;
  beforeAll(() => {
    fs = mountTmpfs(4 * 1024 * 1024);
  });
  afterAll(() => fs?.unmount());

  it('is recorded as raised once the lock reports it again with room on the disk; the retry does not record it twice', async () => {
    const dir = join(fs.dir, 'case');
    mkdirSync(dir);
    const clock = new ManualClock();
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, timers: clock, config: { checkpointIntervalMs: 0, reserveBytes: 0 } });
    const manager = new AlarmManager({
      db: outbox.scope('alarms'),
      outbox,
      config: AlarmsConfig.parse({}),
      clock,
      timers: clock,
      log: silentLogger(),
    });
    manager.declareKinds(ALARM_KINDS);
    const transport = new MemoryTransport();
    const service = new LockService({
      locks: [LockConfig.parse({ id: 'flat-a', offlineAfterMs: 60_000 })],
      transport,
      outbox,
      sink: manager,
      clock,
      timers: clock,
      log: silentLogger(),
    });
    const A = lockTopics('flat-a');
    const say = (topic: string, body: unknown) => transport.publish(topic, JSON.stringify(body));
    try {
      service.start();
      say(A.status, { state: 'online' });
      await turns();
      outbox.checkpoint();
      fs.fill();
      say(A.evt, { type: 'tamper', active: true });
      await turns();
      // The alarm holds in memory at once, whatever the disk says.
      const [open] = manager.list();
      expect([open?.kind, open?.priority, open?.active]).toEqual(['lock.tamper', 'high', true]);
      fs.release();
      say(A.evt, { type: 'tamper', active: true });
      await turns();
      // The refused alarm.raised was kept for the retry; the second report recorded it, so the retry skips it.
      expect(manager.retryUnrecorded()).toBe(0);
      await turns();
      const events = outbox.readEvents(0, 1e6).map((r) => JSON.parse(r.body) as Envelope);
      const raised = events.filter((e) => e.type === 'alarm.raised');
      expect(raised.map((e) => [e.data.alarmId, e.data.kind])).toEqual([[open!.id, 'lock.tamper']]);
      expect(events.filter((e) => e.type === 'alarm.retriggered')).toEqual([]);
      // The lock's own report after the disk came back is there, before the alarm.raised it recorded.
      // The first report was refused by the full disk (raw event included); the second is there, before its alarm.raised.
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t === 'lock.tamper')).toHaveLength(1);
      expect(types.indexOf('lock.tamper')).toBeLessThan(types.indexOf('alarm.raised'));
    } finally {
      service.stop();
      await manager.stop();
      outbox.close();
    }
  });
});
