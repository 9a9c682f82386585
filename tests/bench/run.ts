/**
 * `npm run bench`: every figure is printed as a ratio against a baseline measured in the
 * same run on the same machine, so the numbers mean something on a Pi and on CI alike.
 */
import { benchRecordRate } from './record-rate.js';
import { benchDrain, benchLatency, productionNodeFlags } from './drain.js';
import { benchCabinetBus } from './cabinet-bus.js';
import { benchSmokeCutoff } from './cabinet-smoke.js';
import { benchOsdpBus } from './osdp-bus.js';
import { benchAccessDecide } from './access-decide.js';
import { benchPerimeter } from './perimeter.js';
import { benchDc09 } from './dc09.js';
import { benchCamera } from './camera.js';
import { benchIdle } from './idle.js';
import { benchSwap } from './swap.js';
import { benchHotpath } from './hotpath.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
/** `--only=6,7` runs just those sections (the full run takes several minutes). */
const only = [...args]
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .map(Number);
const run = (section: number) => !only || only.includes(section);
const num = (v: number | string | undefined) => (typeof v === 'number' ? v : Number.NaN);

async function main(): Promise<void> {
  console.log(`gatehouse benchmarks (${quick ? 'quick' : 'full'}) — node ${process.version}, ${process.platform}/${process.arch}\n`);

  if (run(1)) {
    const rec = await benchRecordRate(quick ? 100_000 : 500_000);
    console.log('1. durable recording rate');
    console.log(`   baseline  raw better-sqlite3 inserts, WAL/NORMAL, 5000 per tx : ${fmt(rec.baselinePerSec)} rows/s`);
    console.log(`   outbox    record(), WAL/FULL, group commit, envelopes        : ${fmt(rec.outboxPerSec)} events/s`);
    console.log(
      `   ratio outbox/baseline = ${rec.ratio.toFixed(3)}   target >= 50,000 events/s: ${rec.outboxPerSec >= 50_000 ? 'met' : 'NOT met'}\n`,
    );
  }
  if (run(2)) {
    const drain = await benchDrain(quick ? 100_000 : 1_000_000);
    console.log(
      `2. drain of a ${fmt(drain.events)}-event backlog to Mosquitto (QoS 1), gateway process run with the unit's flags: ${productionNodeFlags().join(' ')}`,
    );
    console.log(`   baseline  MQTT.js publish QoS 1, same window, no outbox : ${fmt(drain.baselinePerSec)} msg/s`);
    console.log(`   uplink    outbox → MQTT.js → Mosquitto, delete on PUBACK : ${fmt(drain.uplinkPerSec)} events/s`);
    console.log(
      `   ratio uplink/baseline = ${drain.ratio.toFixed(3)}   target >= 20,000 events/s: ${drain.uplinkPerSec >= 20_000 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `   RSS during drain: start ${drain.rssStartMb.toFixed(0)} MB, max ${drain.rssMaxMb.toFixed(0)} MB, end ${drain.rssEndMb.toFixed(0)} MB   target < 150 MB: ${drain.rssMaxMb < 150 ? 'met' : 'NOT met'}\n`,
    );
  }
  if (run(3)) {
    const lat = await benchLatency(5000, quick ? 3 : 10);
    console.log(`3. latency recorded → seen by a subscriber at ${fmt(lat.rate)} events/s for ${lat.seconds} s`);
    console.log(
      `   baseline  MQTT.js publish → subscriber  : p50 ${lat.baseline.p50.toFixed(2)} ms, p99 ${lat.baseline.p99.toFixed(2)} ms`,
    );
    console.log(
      `   gateway   record() → fsync → uplink → subscriber : p50 ${lat.gateway.p50.toFixed(2)} ms, p99 ${lat.gateway.p99.toFixed(2)} ms`,
    );
    console.log(
      `   ratio p99 gateway/baseline = ${(lat.gateway.p99 / lat.baseline.p99).toFixed(2)}   target p99 <= 20 ms: ${lat.gateway.p99 <= 20 ? 'met' : 'NOT met'}\n`,
    );
  }
  if (run(4)) {
    const cab = await benchCabinetBus({ quick });
    const d = cab.dead;
    console.log(
      `4. cabinet bus: ${cab.cabinets} cabinets × ${cab.ports} ports as RTU units on one socat pty at ${fmt(cab.baud)} baud, simulator holding each answer for its wire time`,
    );
    console.log(
      `   baseline  wire limit, ${fmt(cab.bytesPerCycle)} frame bytes/cycle × 11 bits / baud : ${cab.wireMsPerCycle.toFixed(1)} ms/cycle, ${(1000 / cab.wireMsPerCycle).toFixed(2)} cycles/s`,
    );
    console.log(
      `   measured  ModbusBus full poll of every cabinet (${cab.cycles} cycles)    : ${cab.cycleMs.toFixed(1)} ms/cycle, ${cab.cyclesPerSec.toFixed(2)} cycles/s`,
    );
    console.log(
      `   utilisation wire/measured = ${(cab.utilisation * 100).toFixed(1)} %   target >= 80 %: ${cab.utilisation >= 0.8 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `   baseline  ${cab.cabinets - 1} healthy units, no dead unit on the bus (${d.baselineCycles} cycles) : ${d.baselineCycleMs.toFixed(1)} ms/cycle`,
    );
    console.log(
      `   measured  same + 1 dead unit, after ${fmt(d.warmupMs)} ms warm-up (${d.cycles} cycles, ${d.probes} probe(s); request timeout ${fmt(d.timeoutMs)} ms, probe timeout min(that, 250 ms)) : mean ${d.cycleMs.toFixed(1)} ms/cycle, median ${d.medianCycleMs.toFixed(1)} ms`,
    );
    console.log(
      `   ratio dead/baseline = ${d.ratio.toFixed(3)} (median ${(d.medianCycleMs / d.baselineCycleMs).toFixed(3)})   target <= 1.2: ${d.ratio <= 1.2 ? 'met' : 'NOT met'}`,
    );
    if (cab.healthyFailures > 0)
      console.log(`   WARNING: ${cab.healthyFailures} poll(s) of healthy cabinets failed during the measured windows`);
    console.log('');
  }
  if (run(5)) {
    const sm = await benchSmokeCutoff({ quick });
    console.log(
      `5. smoke cut-off: 1 CabinetService, 1 simulated ${sm.ports}-port cabinet over Modbus TCP polled every ${sm.pollMs} ms, ${sm.charging} ports charging, no uplink; ${sm.trials} trials, smoke at a random phase of the poll cycle`,
    );
    console.log(
      `   baseline  smoke → next completed poll read (detection floor) : p50 ${sm.nextRead.p50.toFixed(1)} ms, p99 ${sm.nextRead.p99.toFixed(1)} ms`,
    );
    console.log(
      `   measured  smoke → every energised port off, power cut (sim)  : p50 ${sm.cutoff.p50.toFixed(1)} ms, p99 ${sm.cutoff.p99.toFixed(1)} ms, max ${sm.cutoff.max.toFixed(1)} ms`,
    );
    console.log(
      `             (first read showing smoke p50 ${sm.smokeSeen.p50.toFixed(1)} / p99 ${sm.smokeSeen.p99.toFixed(1)} ms; that read → cut p50 ${sm.reaction.p50.toFixed(1)} / p99 ${sm.reaction.p99.toFixed(1)} ms)`,
    );
    console.log(
      `   ratio p99 cut-off/baseline = ${sm.ratio.toFixed(2)}   target p99 <= poll + 100 ms = ${sm.boundMs} ms: ${sm.met ? 'met' : 'NOT met'}\n`,
    );
  }
  if (run(6)) {
    const o = await benchOsdpBus({ quick });
    console.log(
      `6. OSDP line: ${o.readers} simulated readers on one socat pty at ${fmt(num(o.baud))} baud, reader turnaround ${o.turnaroundMs} ms, simulator pacing replies at the wire rate`,
    );
    console.log(
      `   baseline  wire limit, ${num(o.bytesPerCycle).toFixed(0)} bytes/cycle × 10 bits / baud + turnarounds : ${num(o.wireMsPerCycle).toFixed(1)} ms/cycle`,
    );
    console.log(
      `   baseline  bare SerialPort POLL/ACK ping-pong over the same pty (the pty floor) : ${num(o.ptyFloorCycleMs).toFixed(1)} ms/cycle`,
    );
    console.log(
      `   measured  control panel full poll of ${o.readers} readers, clear text (${o.cycles} cycles) : ${num(o.cycleMs).toFixed(1)} ms/cycle, ${num(o.pollsPerReaderPerSec).toFixed(0)} polls/reader/s, ${o.timeoutsDuringWindow} timeouts`,
    );
    console.log(
      `   utilisation wire/measured = ${(num(o.utilisation) * 100).toFixed(1)} %, pty floor/measured = ${(num(o.schedulerEfficiency) * 100).toFixed(1)} %`,
    );
    console.log(
      `   measured  secure channel (MAC on every frame): ${num(o.secureBytesPerCycle).toFixed(0)} bytes/cycle, wire ${num(o.secureWireMsPerCycle).toFixed(1)} ms, measured ${num(o.secureCycleMs).toFixed(1)} ms/cycle, utilisation ${(num(o.secureUtilisation) * 100).toFixed(1)} %`,
    );
    console.log(
      `   card read → lock OUT received by the reader (${o.swipes} swipes, clear): p50 ${num(o.cardToLockP50Ms).toFixed(1)} ms, p99 ${num(o.cardToLockP99Ms).toFixed(1)} ms, max ${num(o.cardToLockMaxMs).toFixed(1)} ms; floor (half a cycle + POLL/RAW on the wire) ${num(o.cardToLockFloorMs).toFixed(1)} ms → p50 ratio ${(num(o.cardToLockP50Ms) / num(o.cardToLockFloorMs)).toFixed(2)}`,
    );
    console.log(
      `   card read → lock OUT, secure channel (${o.secureSwipes} swipes): p50 ${num(o.secureCardToLockP50Ms).toFixed(1)} ms, p99 ${num(o.secureCardToLockP99Ms).toFixed(1)} ms\n`,
    );
  }
  if (run(7)) {
    const a = await benchAccessDecide({ quick });
    console.log(`7. access decisions with ${fmt(num(a.credentials))} credentials (keyed hashes in outbox.db, in-memory index)`);
    console.log(
      `   snapshot of ${fmt(num(a.credentials))} credentials in ${a.chunks} chunks of ≤ 64 KB, applied atomically : ${fmt(num(a.snapshotApplyMs))} ms (${fmt(num(a.snapshotPerSec))} credentials/s); reopen and load the index: ${fmt(num(a.reopenMs))} ms; database ${num(a.dbFileMb).toFixed(1)} MB; index heap ${typeof a.indexHeapMb === 'number' ? `${a.indexHeapMb.toFixed(1)} MB` : a.indexHeapMb}`,
    );
    console.log(`   baseline  ${a.baselineLabel} : p50 ${num(a.baselineP50Us).toFixed(1)} µs, p99 ${num(a.baselineP99Us).toFixed(1)} µs`);
    console.log(
      `   measured  decide() over ${fmt(num(a.decisions))} requests (${(num(a.grantedShare) * 100).toFixed(0)} % granted) : p50 ${num(a.decideP50Us).toFixed(1)} µs, p99 ${num(a.decideP99Us).toFixed(1)} µs`,
    );
    console.log(`   ratio decide/baseline p50 ${num(a.ratioP50).toFixed(2)}, p99 ${num(a.ratioP99).toFixed(2)}\n`);
  }
  if (run(8)) {
    const p = await benchPerimeter({ quick });
    console.log(
      `8. perimeter: input change → alarm, simulated module on Modbus TCP polled every ${p.pollMs} ms, ${p.trials} trials; chain ${p.chain}`,
    );
    for (const d of [0, 200]) {
      const k = `debounce${d}`;
      console.log(
        `   debounce ${d} ms: baseline next poll read (detection floor) p50 ${p[`${k}.floor.p50`]} / p99 ${p[`${k}.floor.p99`]} ms; condition raised p50 ${p[`${k}.sink.p50`]} / p99 ${p[`${k}.sink.p99`]} ms; alarm.raised at Mosquitto p50 ${p[`${k}.mqtt.p50`]} / p99 ${p[`${k}.mqtt.p99`]} ms; ratio raised/floor p99 ${p[`${k}.sink/floor.p99`]}`,
      );
    }
    console.log('');
  }
  if (run(9)) {
    const d = await benchDc09({ quick });
    console.log(`9. SIA DC-09 receiver over TCP, ${d['dc09.connections']} panel connections, each sending its next message after the ACK`);
    console.log(
      `   baseline  bare TCP echo of the same messages : ${fmt(num(d['dc09.echo_msgs_per_s']))} msg/s, p50 ${d['dc09.echo_p50_ms']} / p99 ${d['dc09.echo_p99_ms']} ms`,
    );
    console.log(`   measured  plain messages : ${fmt(num(d['dc09.plain_msgs_per_s']))} msg/s (ratio ${d['dc09.plain_vs_echo']})`);
    console.log(
      `   measured  AES-256 messages : ${fmt(num(d['dc09.aes256_msgs_per_s']))} msg/s (ratio vs echo ${d['dc09.aes256_vs_echo']}, vs plain ${d['dc09.aes256_vs_plain']}), ACK p50 ${d['dc09.aes256_ack_p50_ms']} / p99 ${d['dc09.aes256_ack_p99_ms']} ms`,
    );
    console.log(
      `   measured  AES-256 with the real outbox.db and AlarmManager : ${fmt(num(d['dc09.committed_msgs_per_s']))} msg/s (ratio vs stubbed ${d['dc09.committed_vs_aes256']}), ACK p50 ${d['dc09.committed_ack_p50_ms']} / p99 ${d['dc09.committed_ack_p99_ms']} ms, ${d['dc09.committed_events']} events committed\n`,
    );
  }
  if (run(10)) {
    const c = await benchCamera({ quick });
    console.log(
      `10. cameras: snapshot on alarm (${c['snapshot.trials']} trials, ${c['snapshot.jpegBytes']}-byte JPEG, ${c['snapshot.source']}) and live view`,
    );
    console.log(
      `   baseline  bare snapshot fetch : p50 ${num(c['snapshot.baseline.fetch.p50Ms']).toFixed(1)} / p99 ${num(c['snapshot.baseline.fetch.p99Ms']).toFixed(1)} ms`,
    );
    console.log(
      `   measured  alarm → fetched, stored, published on media/{id} and received : p50 ${num(c['snapshot.storedAndPublished.p50Ms']).toFixed(1)} / p99 ${num(c['snapshot.storedAndPublished.p99Ms']).toFixed(1)} ms (p50 ratio ${num(c['snapshot.ratio.p50']).toFixed(2)})`,
    );
    console.log(
      `   baseline  bare ffmpeg transcode : ${num(c['liveView.baseline.bareFfmpeg.cpuCores']).toFixed(3)} cores, ${num(c['liveView.baseline.bareFfmpeg.rssMb']).toFixed(0)} MB`,
    );
    console.log(
      `   measured  one live-view stream : ${num(c['liveView.stream.cpuCores']).toFixed(3)} cores (ratio ${num(c['liveView.stream.ratio.cpu']).toFixed(2)}), ${num(c['liveView.stream.rssMb']).toFixed(0)} MB; per extra viewer in the gateway: ${num(c['liveView.gateway.cpuCores.perExtraViewer']).toFixed(4)} cores, ${num(c['liveView.gateway.rssMb.perExtraViewer']).toFixed(2)} MB (${c['liveView.note']})\n`,
    );
  }
  if (run(11)) {
    const idle = await benchIdle({ quick });
    const base = idle.rows[0]!;
    console.log(
      `11. idle RSS and CPU with the unit's node flags (${idle.flags.join(' ')}), ${idle.settleS} s settle, ${idle.windowS} s window; simulators in another process`,
    );
    for (const r of idle.rows) {
      const missing = r.online?.missing.length
        ? ` (not online: ${r.online.missing.slice(0, 6).join(', ')}${r.online.missing.length > 6 ? ', ...' : ''})`
        : '';
      const online = r.online ? `, ${r.online.seen}/${r.online.of} devices online${missing}` : '';
      const ratio =
        r === base ? 'baseline' : `× ${(r.rssMb / base.rssMb).toFixed(2)} of baseline, +${(r.rssMb - base.rssMb).toFixed(1)} MB`;
      console.log(
        `   ${r.label.padEnd(46)} RSS ${r.rssMb.toFixed(1)} MB (max ${r.rssMaxMb.toFixed(1)}; ${ratio}), CPU ${r.cpuPct.toFixed(2)} % of one core${online}`,
      );
    }
    const [, , locks, full, every] = idle.rows;
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(
      `   targets: locks-only <= 70 MB: ${met(locks!.rssMb <= 70)}; 188-device <= 90 MB: ${met(full!.rssMb <= 90)}; 188-device idle CPU <= 2.6 %: ${met(full!.cpuPct <= 2.6)}`,
    );
    console.log(
      `   (every family: ${every!.rssMb.toFixed(1)} MB, ${every!.cpuPct.toFixed(2)} % of one core; no target, the OSDP lines are polled continuously by design)\n`,
    );
  }
  if (run(12)) await swapSection(quick);
  if (run(13)) {
    const h = await benchHotpath({ quick });
    console.log(
      `13. hot path vs Node-RED: N simulated 12-port cabinets on Modbus TCP every 200 ms, every port's reading to Mosquitto at QoS 1; both with ${h.flags.join(' ')}, ${h.windowS} s window`,
    );
    const side = (f: (typeof h.rows)[number]['gatehouse']) =>
      `${f.pollsPerSec.toFixed(1)}/${f.pollsDuePerSec.toFixed(0)} polls/s, ${fmt(f.msgsPerSec)} msg/s, CPU ${f.cpuPct.toFixed(1)} % (${f.cpuUsPerMsg.toFixed(0)} µs/msg), RSS ${f.rssMb.toFixed(0)} MB (max ${f.rssMaxMb.toFixed(0)}), p50/p95 ${f.p50Ms.toFixed(1)}/${f.p95Ms.toFixed(1)} ms${f.keepsUp ? '' : ' BEHIND'}`;
    for (const r of h.rows) {
      console.log(`   ${String(r.cabinets).padStart(3)} cabinets  baseline  Node-RED  : ${side(r.nodeRed)}`);
      console.log(`                 measured  Gatehouse : ${side(r.gatehouse)}`);
      console.log(
        `                 ratios Gatehouse/Node-RED: CPU per reading ${(r.gatehouse.cpuUsPerMsg / r.nodeRed.cpuUsPerMsg).toFixed(2)} (target <= 1.0), RSS ${(r.gatehouse.rssMb / r.nodeRed.rssMb).toFixed(2)} (target <= 1.0), p95 ${(r.gatehouse.p95Ms / r.nodeRed.p95Ms).toFixed(2)}`,
      );
    }
    const at = (n: number | null) => (n === null ? 'kept up at every count run' : `falls behind at ${n} cabinets`);
    const r64 = h.rows.find((r) => r.cabinets === 64);
    console.log(`   Node-RED ${at(h.nodeRedBehindAt)}; Gatehouse ${at(h.gatehouseBehindAt)}`);
    if (r64)
      console.log(
        `   target 64 cabinets: all polls made and p95 <= 100 ms: ${r64.gatehouse.keepsUp && r64.gatehouse.p95Ms <= 100 ? 'met' : 'NOT met'}\n`,
      );
  }
}

async function swapSection(quick: boolean): Promise<void> {
  const sw = await benchSwap({ quick });
  console.log(`12. battery-swap cabinets (issue 17)`);
  console.log(
    `   baseline  pack over limit → next completed poll read (detection floor), ${sw.trials} trials, poll ${sw.pollMs} ms : p50 ${sw.nextRead.p50.toFixed(1)} ms, p99 ${sw.nextRead.p99.toFixed(1)} ms`,
  );
  console.log(
    `   measured  pack over limit → slot isolated (sim) and swap.thermal raised          : p50 ${sw.isolated.p50.toFixed(1)} ms, p99 ${sw.isolated.p99.toFixed(1)} ms, max ${sw.isolated.max.toFixed(1)} ms`,
  );
  console.log(`   ratio p99 isolated/baseline = ${sw.thermalRatio.toFixed(2)}`);
  console.log(
    `   baseline  ${sw.slots}-slot poll wire time at ${BAUD_SWAP} baud (${sw.bytesPerPoll} frame bytes × 11 bits) : ${sw.wireMs.toFixed(1)} ms`,
  );
  console.log(`   measured  full poll through ModbusBus over a socat pty, ${sw.polls} polls      : ${sw.pollMs24.toFixed(1)} ms`);
  console.log(`   ratio poll/wire limit = ${sw.wireRatio.toFixed(2)}\n`);
}
const BAUD_SWAP = 115_200;

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
