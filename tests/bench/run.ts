/**
 * `npm run bench`: every figure is printed as a ratio against a baseline measured in the
 * same run on the same machine, so the numbers mean something on a Pi and on CI alike.
 */
import { benchRecordRate } from './record-rate.js';
import { benchDrain, benchLatency, productionNodeFlags } from './drain.js';
import { benchCabinetBus } from './cabinet-bus.js';
import { benchSmokeCutoff } from './cabinet-smoke.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');

async function main(): Promise<void> {
  console.log(`gatehouse benchmarks (${quick ? 'quick' : 'full'}) — node ${process.version}, ${process.platform}/${process.arch}\n`);

  const rec = await benchRecordRate(quick ? 100_000 : 500_000);
  console.log('1. durable recording rate');
  console.log(`   baseline  raw better-sqlite3 inserts, WAL/NORMAL, 5000 per tx : ${fmt(rec.baselinePerSec)} rows/s`);
  console.log(`   outbox    record(), WAL/FULL, group commit, envelopes        : ${fmt(rec.outboxPerSec)} events/s`);
  console.log(`   ratio outbox/baseline = ${rec.ratio.toFixed(3)}   target >= 50,000 events/s: ${rec.outboxPerSec >= 50_000 ? 'met' : 'NOT met'}\n`);

  const drain = await benchDrain(quick ? 100_000 : 1_000_000);
  console.log(`2. drain of a ${fmt(drain.events)}-event backlog to Mosquitto (QoS 1), gateway process run with the unit's flags: ${productionNodeFlags().join(' ')}`);
  console.log(`   baseline  MQTT.js publish QoS 1, same window, no outbox : ${fmt(drain.baselinePerSec)} msg/s`);
  console.log(`   uplink    outbox → MQTT.js → Mosquitto, delete on PUBACK : ${fmt(drain.uplinkPerSec)} events/s`);
  console.log(`   ratio uplink/baseline = ${drain.ratio.toFixed(3)}   target >= 20,000 events/s: ${drain.uplinkPerSec >= 20_000 ? 'met' : 'NOT met'}`);
  console.log(`   RSS during drain: start ${drain.rssStartMb.toFixed(0)} MB, max ${drain.rssMaxMb.toFixed(0)} MB, end ${drain.rssEndMb.toFixed(0)} MB   target < 150 MB: ${drain.rssMaxMb < 150 ? 'met' : 'NOT met'}\n`);

  const lat = await benchLatency(5000, quick ? 3 : 10);
  console.log(`3. latency recorded → seen by a subscriber at ${fmt(lat.rate)} events/s for ${lat.seconds} s`);
  console.log(`   baseline  MQTT.js publish → subscriber  : p50 ${lat.baseline.p50.toFixed(2)} ms, p99 ${lat.baseline.p99.toFixed(2)} ms`);
  console.log(`   gateway   record() → fsync → uplink → subscriber : p50 ${lat.gateway.p50.toFixed(2)} ms, p99 ${lat.gateway.p99.toFixed(2)} ms`);
  console.log(`   ratio p99 gateway/baseline = ${(lat.gateway.p99 / lat.baseline.p99).toFixed(2)}   target p99 <= 20 ms: ${lat.gateway.p99 <= 20 ? 'met' : 'NOT met'}\n`);

  const cab = await benchCabinetBus({ quick });
  const d = cab.dead;
  console.log(`4. cabinet bus: ${cab.cabinets} cabinets × ${cab.ports} ports as RTU units on one socat pty at ${fmt(cab.baud)} baud, simulator holding each answer for its wire time`);
  console.log(`   baseline  wire limit, ${fmt(cab.bytesPerCycle)} frame bytes/cycle × 11 bits / baud : ${cab.wireMsPerCycle.toFixed(1)} ms/cycle, ${(1000 / cab.wireMsPerCycle).toFixed(2)} cycles/s`);
  console.log(`   measured  ModbusBus full poll of every cabinet (${cab.cycles} cycles)    : ${cab.cycleMs.toFixed(1)} ms/cycle, ${cab.cyclesPerSec.toFixed(2)} cycles/s`);
  console.log(`   utilisation wire/measured = ${(cab.utilisation * 100).toFixed(1)} %   target >= 80 %: ${cab.utilisation >= 0.8 ? 'met' : 'NOT met'}`);
  console.log(`   baseline  ${cab.cabinets - 1} healthy units, no dead unit on the bus (${d.baselineCycles} cycles) : ${d.baselineCycleMs.toFixed(1)} ms/cycle`);
  console.log(`   measured  same + 1 dead unit, after ${fmt(d.warmupMs)} ms warm-up (${d.cycles} cycles, ${d.probes} probe(s); request timeout ${fmt(d.timeoutMs)} ms, probe timeout min(that, 250 ms)) : mean ${d.cycleMs.toFixed(1)} ms/cycle, median ${d.medianCycleMs.toFixed(1)} ms`);
  console.log(`   ratio dead/baseline = ${d.ratio.toFixed(3)} (median ${(d.medianCycleMs / d.baselineCycleMs).toFixed(3)})   target <= 1.2: ${d.ratio <= 1.2 ? 'met' : 'NOT met'}`);
  if (cab.healthyFailures > 0) console.log(`   WARNING: ${cab.healthyFailures} poll(s) of healthy cabinets failed during the measured windows`);
  console.log('');

  const sm = await benchSmokeCutoff({ quick });
  console.log(`5. smoke cut-off: 1 CabinetService, 1 simulated ${sm.ports}-port cabinet over Modbus TCP polled every ${sm.pollMs} ms, ${sm.charging} ports charging, no uplink; ${sm.trials} trials, smoke at a random phase of the poll cycle`);
  console.log(`   baseline  smoke → next completed poll read (detection floor) : p50 ${sm.nextRead.p50.toFixed(1)} ms, p99 ${sm.nextRead.p99.toFixed(1)} ms`);
  console.log(`   measured  smoke → every energised port off, power cut (sim)  : p50 ${sm.cutoff.p50.toFixed(1)} ms, p99 ${sm.cutoff.p99.toFixed(1)} ms, max ${sm.cutoff.max.toFixed(1)} ms`);
  console.log(`             (first read showing smoke p50 ${sm.smokeSeen.p50.toFixed(1)} / p99 ${sm.smokeSeen.p99.toFixed(1)} ms; that read → cut p50 ${sm.reaction.p50.toFixed(1)} / p99 ${sm.reaction.p99.toFixed(1)} ms)`);
  console.log(`   ratio p99 cut-off/baseline = ${sm.ratio.toFixed(2)}   target p99 <= poll + 100 ms = ${sm.boundMs} ms: ${sm.met ? 'met' : 'NOT met'}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
