/**
 * The platform broker (real Mosquitto) SIGKILLed every 5 s for 10 minutes under load:
 * nothing recorded is lost and fewer than 1 % of messages arrive twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { runBrokerKills } from '../helpers/soak-broker-kills.js';

const KILLS = Number(process.env.SOAK_BROKER_KILLS ?? 120);

describe('soak: broker killed every 5 s', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it(`${KILLS} broker SIGKILLs: 0 lost, < 1 % duplicates`, async () => {
    const r = await runBrokerKills(broker, { kills: KILLS, everyMs: 5000, name: 'gw-soak-broker' });
    console.log(
      JSON.stringify({
        kills: r.kills,
        recorded: r.recorded,
        lost: r.lost.length,
        duplicates: r.duplicates,
        duplicatePercent: r.duplicatePercent,
        reconnects: r.reconnects,
      }),
    );
    expect(r.kills).toBe(KILLS);
    expect(r.lost).toEqual([]);
    expect(r.duplicatePercent).toBeLessThan(1);
    expect(r.report.problems).toEqual([]);
  });
});
