/**
 * The short version of the full-disk soak (tests/soak/full-disk.soak.ts): one simulated
 * DC-09 panel sends burglary alarms while the gateway's tmpfs data directory is filled to
 * the last byte and freed again. Nothing crashes, the outbox reports the condition and its
 * end, and every alarm reaches the platform (Mosquitto): those ACKed at once, and those
 * the panel sends again after space is back.
 */
import { describe, expect, it } from 'vitest';
import { runFullDiskDc09 } from '../helpers/full-disk-dc09-rig.js';

describe('DC-09 alarms while the disk fills up', () => {
  it('loses no alarm the panel was told about, and delivers every alarm once space is back', async () => {
    const r = await runFullDiskDc09({ panels: 1, alarmsPerPanel: 40, cycles: 1 });
    expect(r.crashed).toBe(false);
    expect(r.integrity).toBe('ok');
    expect(r.diskFullErrors).toBeGreaterThan(0);
    expect(r.diskFullReports).toEqual(expect.arrayContaining(['full', 'recovered']));
    expect(r.ackedButLost).toEqual([]);
    expect(r.neverDelivered).toEqual([]);
    expect(r.sent).toBe(40);
  });
});
