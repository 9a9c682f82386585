/**
 * Short versions of the soak (tests/soak/, `npm run soak`) for the default run:
 * one simulated hour of offline operation on a ManualClock with a cap small enough to
 * force eviction, and the broker SIGKILLed three times under load. The 24-hour, 10-minute
 * and 100-kill versions run in the soak; 24 gateway SIGKILLs already run in crash.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { runBrokerKills } from '../helpers/soak-broker-kills.js';
import { runSimulatedOutage } from '../helpers/soak-outage.js';

describe('soak, short versions', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('one simulated hour offline: the outbox stays within its cap and every alarm arrives when the link returns', async () => {
    // ~840 events of ~200 B recorded against a 512 KiB cap on the files (the smallest footprint the outbox promises): eviction must happen.
    const r = await runSimulatedOutage(broker, { hours: 1, maxBytes: 512 * 1024, name: 'gw-soak-1h' });
    expect(r.recorded).toBeGreaterThan(800);
    expect(r.alarms.length).toBe(4);
    expect(r.alarmsDelivered).toBe(r.alarms.length);
    for (const s of r.samples) expect(s.outboxBytes).toBeLessThanOrEqual(r.maxBytes);
    // The cap is the files on disk (outbox.db, -wal, -shm), not only the rows in them.
    for (const s of r.samples) expect(s.fileBytes).toBeLessThanOrEqual(r.maxBytes);
    expect(r.report.problems).toEqual([]);
    expect(r.report.evictions.length).toBeGreaterThan(0);
    expect(r.report.evictionsExact).toBe(true);
    expect(r.report.uncovered).toEqual([]);
  }, 120_000);

  it('the broker SIGKILLed three times under load: nothing lost, duplicates counted', async () => {
    const r = await runBrokerKills(broker, { kills: 3, everyMs: 1500, name: 'gw-soak-bk' });
    expect(r.kills).toBe(3);
    expect(r.recorded).toBeGreaterThan(500);
    expect(r.lost).toEqual([]);
    expect(r.report.problems).toEqual([]);
  }, 120_000);
});
