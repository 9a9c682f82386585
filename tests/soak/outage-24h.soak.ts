/**
 * 24 hours of offline operation on a ManualClock (~20,300 events against a 1 MiB cap):
 * memory stays flat, the outbox's files (db + WAL + shm) stay within the cap, and when the
 * link returns every alarm reaches the platform and every evicted event is accounted for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { runSimulatedOutage } from '../helpers/soak-outage.js';

describe('soak: 24 hours offline (simulated clock)', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('memory flat, disk within the cap, every alarm delivered when the uplink returns', async () => {
    const maxBytes = 1024 * 1024;
    const r = await runSimulatedOutage(broker, { hours: 24, maxBytes, name: 'gw-soak-24h' });
    const first = r.samples[1]!; // hour 2: the cap is reached within the first hours
    const last = r.samples.at(-1)!;
    console.log(
      JSON.stringify({
        recorded: r.recorded,
        alarms: r.alarms.length,
        delivered: r.alarmsDelivered,
        drainMs: r.drainMs,
        rssStartMb: r.samples[0]!.rssMb,
        rssEndMb: last.rssMb,
        heapHour2Mb: first.heapMb,
        heapEndMb: last.heapMb,
        maxOutboxBytes: Math.max(...r.samples.map((s) => s.outboxBytes)),
        maxFileBytes: Math.max(...r.samples.map((s) => s.fileBytes)),
        evicted: r.report.evictedCount,
        duplicates: r.report.duplicates,
      }),
    );
    expect(r.samples).toHaveLength(24);
    expect(r.alarms.length).toBe(96);
    expect(r.alarmsDelivered).toBe(96);
    for (const s of r.samples) expect(s.outboxBytes).toBeLessThanOrEqual(maxBytes);
    // The cap is the files on disk: outbox.db, its WAL and shm together (footprint.ts).
    for (const s of r.samples) expect(s.fileBytes).toBeLessThanOrEqual(maxBytes);
    // And bounded, not growing with time.
    expect(Math.max(...r.samples.slice(12).map((s) => s.fileBytes))).toBeLessThanOrEqual(
      Math.max(...r.samples.slice(0, 12).map((s) => s.fileBytes)) * 1.5,
    );
    expect(last.heapMb - first.heapMb).toBeLessThan(16);
    expect(r.report.problems).toEqual([]);
    expect(r.report.evictionsExact).toBe(true);
    expect(r.report.uncovered).toEqual([]);
  });
});
