/**
 * The platform broker (a real Mosquitto) SIGKILLed again and again while a real outbox and
 * uplink record and forward a steady load; between kills it is started again on the same
 * port with its persistent store. Afterwards the backlog drains and every recorded seq is
 * looked for at the platform-side verifier. Lost = recorded and never received; duplicates =
 * messages received more than once (a QoS 1 re-send after a lost PUBACK is expected).
 *
 * The verifier holds a persistent session; a message the broker PUBACKed but had not yet
 * written to its store or to the verifier dies with the broker. Such a loss is the broker's,
 * not the gateway's, and is reported separately: the gateway only deletes a row on PUBACK.
 */
import { topicRoot } from '../../gateway/core/topics.js';
import { Verifier, type VerifierReport } from '../../sim/verifier.js';
import type { Mosquitto } from './mosquitto.js';
import { makeRig, outboxBacklog, startLoad } from './uplink-rig.js';
import { waitFor } from './wait.js';

export interface BrokerKillResult {
  kills: number;
  recorded: number;
  lost: number[];
  duplicates: number;
  duplicatePercent: number;
  reconnects: number;
  report: VerifierReport;
}

export async function runBrokerKills(
  broker: Mosquitto,
  opts: { kills: number; everyMs: number; name: string; perTick?: number },
): Promise<BrokerKillResult> {
  const root = topicRoot('soak-court', opts.name);
  const verifier = await Verifier.connect({ url: broker.url, root, clientId: `verifier-${opts.name}`, persistentSession: true });
  // A clean restart writes the verifier's subscription to the broker's store: every SIGKILL
  // restart then comes back with it, as a platform broker keeps its consumers' sessions.
  await broker.restart();
  await waitFor(() => verifier.connected, 'the verifier to reconnect after the clean restart', 10_000);
  const rig = makeRig({ url: broker.url, root });
  try {
    rig.uplink.start();
    await waitFor(() => rig.uplink.status().connected, 'the uplink to connect');
    const load = startLoad(rig.outbox, { perTick: opts.perTick ?? 10, everyMs: 10 });
    let kills = 0;
    for (let i = 0; i < opts.kills; i++) {
      // Random moment within each period, so kills land on every phase of a publish.
      await new Promise((r) => setTimeout(r, opts.everyMs / 2 + Math.random() * (opts.everyMs / 2)));
      await broker.kill();
      kills++;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
      await broker.start();
    }
    const recorded = await load.stop();
    await waitFor(
      () => outboxBacklog(rig.outbox) === 0,
      'the backlog to drain after the last kill',
      60_000,
      () => rig.uplink.status(),
    );
    await waitFor(() => recorded.every((e) => verifier.has(e.seq)), 'every recorded event at the platform', 30_000).catch(() => undefined);
    const lost = recorded.filter((e) => !verifier.has(e.seq)).map((e) => e.seq);
    const report = verifier.report();
    return {
      kills,
      recorded: recorded.length,
      lost,
      duplicates: report.duplicates,
      duplicatePercent: Math.round((report.duplicates / Math.max(1, report.unique)) * 10_000) / 100,
      reconnects: rig.uplink.status().reconnects,
      report,
    };
  } finally {
    await rig.dispose();
    await verifier.close();
  }
}
