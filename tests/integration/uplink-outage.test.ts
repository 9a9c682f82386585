/**
 * An outage longer than the disk cap allows: the outbox evicts the cheapest classes,
 * never alarms, and reports each eviction as a `system` event. After the link returns, the
 * platform-side verifier must be able to prove that every missing seq is inside a
 * reported range and that the reported counts add up exactly, and every alarm must arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventClass } from '../../gateway/core/events.js';
import { topicRoot } from '../../gateway/core/topics.js';
import { Verifier } from '../../sim/verifier.js';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { makeRig, outboxBacklog, startLoad, testEvent } from '../helpers/uplink-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

describe('uplink outage longer than the outbox cap', () => {
  let broker: Mosquitto;
  let proxy: TcpProxy;

  beforeAll(async () => {
    broker = await startMosquitto();
    proxy = await TcpProxy.start({ port: broker.port });
  });
  afterAll(async () => {
    await proxy?.close();
    await broker?.dispose();
  });

  it('delivers every alarm and accounts exactly for every evicted event', async () => {
    const root = topicRoot('test-court', 'gw-outage');
    const v = await Verifier.connect({ url: broker.url, root, persistentSession: false });
    // 64 KiB (the smallest cap) holds ~300 of these events; the outage records ~4000.
    const r = makeRig({ url: proxy.url, root, outbox: { maxBytes: 64 * 1024 }, uplink: { inflightWindow: 50, ackTimeoutMs: 1000 } });
    const classOf = (i: number): EventClass => (i % 50 === 0 ? 'alarm' : (['device', 'charging', 'access', 'system'] as const)[i % 4]!);
    try {
      r.uplink.start();
      await nextEvent(r.uplink, 'connected');
      const load = startLoad(r.outbox, { perTick: 20, everyMs: 2, event: (i) => testEvent(i, classOf(i)) });
      await waitFor(() => v.unique >= 200, 'traffic before the outage');
      // A blackhole first, so publishes are in flight when the link dies; then nothing connects.
      proxy.blackhole();
      await nextEvent(r.uplink, 'disconnected', 5000);
      proxy.refuse();
      proxy.resetAll();
      const outageFrom = load.recorded.length;
      await waitFor(() => load.recorded.length >= outageFrom + 4000, 'a long outage', 20_000);
      const recorded = await load.stop();
      const evictedDuringOutage = r.outbox.stats().events;
      // What is left is the alarms, the eviction reports and at most a cap's worth of the rest.
      const stats = r.outbox.stats();
      expect(stats.events - (stats.byClass.alarm ?? 0)).toBeLessThan(400);

      proxy.pass();
      await waitFor(() => r.uplink.status().connected, 'reconnected after the outage', 10_000);
      await waitFor(
        () => outboxBacklog(r.outbox) === 0,
        'the backlog drained',
        20_000,
        () => ({ status: r.uplink.status(), stats: r.outbox.stats() }),
      );
      const alarms = recorded.filter((e) => e.type === 'alarm.tick');
      await waitFor(() => alarms.every((e) => v.has(e.seq)), 'every alarm');

      const report = v.report();
      expect(report.problems).toEqual([]);
      expect(report.evictions.length).toBeGreaterThan(0);
      expect(report.evictions.every((n) => n.class !== 'alarm' && n.reason === 'disk-cap')).toBe(true);
      expect(report.missingCount).toBeGreaterThan(1000);
      expect(report.evictedCount).toBe(report.missingCount);
      expect(report.uncovered).toEqual([]);
      expect(report.evictionsExact).toBe(true);
      expect(report.orderViolationCount).toBe(0);
      // Every seq the gateway ever stamped (events and eviction reports) is either delivered or reported.
      expect(report.maxSeq).toBe(r.outbox.stats().nextSeq - 1);
      expect(evictedDuringOutage).toBeLessThan(recorded.length);
    } finally {
      await r.dispose();
      await v.close();
    }
  });
});
