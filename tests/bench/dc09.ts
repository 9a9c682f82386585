/**
 * SIA DC-09 receiver throughput over loopback TCP.
 *
 * N concurrent panel connections, each sending its next message as soon as the ACK of the
 * previous one arrives (as real panels do: one message in flight per connection). Three
 * servers, measured in the same run with the same clients and message sizes:
 *
 *   echo     a bare TCP server that answers every `\n...\r` line with a fixed ACK-sized line:
 *            the cost of sockets + event loop + the bench clients, which no receiver avoids;
 *   plain    Dc09Receiver, plain SIA-DCS / Contact ID messages;
 *   aes256   Dc09Receiver, AES-256 messages and encrypted ACKs (the headline figure).
 *
 * The receivers run the whole path: parse, CRC, decrypt, timestamp window, decode, dedup,
 * PanelService (half the messages raise/clear conditions on a counting sink, half are
 * open/close events recorded through a counting outbox), encrypted ACK. The outbox is a
 * stub: the receiver never waits on it (recording is the outbox's own bench, section 1).
 *
 * Messages are encoded before the clock starts (unique sequence numbers, so none is a
 * duplicate), so the clients' encryption cost is not in the figure; clients check the ACK's
 * token and sequence number only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretsFrom } from '../../config/load.js';
import { Dc09PanelConfig, Dc09ReceiverConfig } from '../../config/perimeter-schema.js';
import { parseKeyHex } from '../../drivers/dc09/cipher.js';
import { Dc09Deframer } from '../../drivers/dc09/deframer.js';
import { formatSeq } from '../../drivers/dc09/frame.js';
import { encodeMessage } from '../../drivers/dc09/message.js';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import type { Alarm, AlarmCondition, AlarmSink } from '../../gateway/alarms/types.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Dc09Receiver } from '../../gateway/perimeter/dc09-receiver.js';
import { PanelService } from '../../gateway/perimeter/panel-service.js';

const pct = (xs: Float64Array, p: number) => {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

interface Phase {
  perSec: number;
  p50: number;
  p99: number;
  count: number;
}

class CountingSink implements AlarmSink {
  raised = 0;
  cleared = 0;
  raise(c: AlarmCondition): Alarm {
    this.raised++;
    return {
      id: '',
      key: '',
      kind: c.kind,
      source: c.source,
      priority: c.priority ?? 'high',
      state: 'raised',
      active: true,
      count: 1,
      raisedAt: 0,
      lastAt: 0,
      data: {},
      media: [],
    };
  }
  clear(): Alarm | undefined {
    this.cleared++;
    return undefined;
  }
  committed<T>(fn: () => T): Promise<T> {
    return Promise.resolve(fn());
  }
}

function accountOf(i: number): string {
  return (0x1000 + i).toString(16).toUpperCase();
}

/** Per panel, `count` distinct messages alternating alarm/restore and close/open. */
function messages(i: number, count: number, key: Buffer | undefined): { text: string; seq: string }[] {
  const account = accountOf(i);
  const now = Date.now();
  const out: { text: string; seq: string }[] = [];
  for (let k = 0; k < count; k++) {
    const seq = formatSeq((k % 9999) + 1);
    const zone = String((k % 97) + 1).padStart(3, '0');
    const data =
      k % 4 === 0
        ? `#${account}|Nri1/BA${zone}`
        : k % 4 === 1
          ? `#${account}|Nri1/BR${zone}`
          : k % 4 === 2
            ? `#${account}|1401 01 ${zone}`
            : `#${account}|3401 01 ${zone}`;
    const token = k % 4 < 2 ? 'SIA-DCS' : 'ADM-CID';
    out.push({
      seq,
      text: encodeMessage({ token, encrypted: !!key, seq, line: '0', account }, { data, extended: [], timestamp: now }, key),
    });
  }
  return out;
}

/** Runs N closed-loop clients for `ms` against a port; returns rate and ACK percentiles. */
async function drive(port: number, batches: { text: string; seq: string }[][], ms: number, ackToken: string): Promise<Phase> {
  const lat: number[] = [];
  let stop = false;
  const clients = batches.map(
    (msgs) =>
      new Promise<void>((resolve, reject) => {
        const socket: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
        const d = new Dc09Deframer();
        let k = 0;
        let t0 = 0;
        const sendNext = () => {
          if (stop || k >= msgs.length) {
            socket.end();
            return resolve();
          }
          t0 = performance.now();
          socket.write(msgs[k]!.text, 'latin1');
        };
        socket.on('data', (chunk) => {
          for (const out of d.push(chunk)) {
            if (out.kind !== 'message') continue;
            if (!out.text.includes(`"${ackToken}"${msgs[k]!.seq}`))
              return reject(new Error(`expected ${ackToken} ${msgs[k]!.seq}, got ${JSON.stringify(out.text.slice(0, 40))}`));
            lat.push(performance.now() - t0);
            k++;
            sendNext();
          }
        });
        socket.on('error', reject);
        socket.once('connect', sendNext);
      }),
  );
  const start = performance.now();
  const timer = setTimeout(() => (stop = true), ms);
  await Promise.all(clients);
  clearTimeout(timer);
  const elapsed = performance.now() - start;
  // The first 10% are warm-up (connection setup, JIT): kept in the rate, not in the percentiles.
  const steady = Float64Array.from(lat.slice(Math.floor(lat.length / 10)));
  return { perSec: (lat.length / elapsed) * 1000, p50: pct(steady, 50), p99: pct(steady, 99), count: lat.length };
}

/** Answers every message with an ACK-sized line carrying its sequence number, and nothing else. */
function echoServer(): Promise<Server> {
  const server = createServer({ noDelay: true }, (s) => {
    let pending = '';
    s.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let cr;
      while ((cr = pending.indexOf('\r')) >= 0) {
        const q = pending.indexOf('"', pending.indexOf('"') + 1);
        const seq = pending.slice(q + 1, q + 5);
        pending = pending.slice(cr + 1);
        s.write(`\n00000000"*ACK"${seq}L0#1000[${'0'.repeat(64)}\r`, 'latin1');
      }
    });
    s.on('error', () => undefined);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const KEY = '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4';

/**
 * The same path with the real outbox (WAL, synchronous=FULL, group commit) and the real
 * AlarmManager on a temporary outbox.db: the ACK waits for the commit of what the message
 * produced, so this is the figure a panel sees.
 */
async function committedPhase(n: number, batches: { text: string; seq: string }[][], ms: number): Promise<Phase & { events: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-dc09-'));
  const clock = systemClock({ forceState: 'synced' });
  const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
  const sink = new AlarmManager({
    db: outbox.scope('alarms'),
    outbox,
    config: AlarmsConfig.parse({}),
    clock,
    log: silentLogger(),
    timers: realTimers,
  });
  try {
    const phase = await receiverPhase(n, batches, true, ms, { sink, outbox });
    await sink.stop();
    outbox.flush();
    return { ...phase, events: outbox.stats().events };
  } finally {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function receiverPhase(
  n: number,
  batches: { text: string; seq: string }[][],
  encrypted: boolean,
  ms: number,
  real?: { sink: AlarmManager; outbox: Outbox },
): Promise<Phase & { raised: number; recorded: number }> {
  const key = KEY;
  const panels = Array.from({ length: n }, (_, i) =>
    Dc09PanelConfig.parse({ id: `p${i}`, account: accountOf(i), supervisionS: 0, ...(encrypted ? { keySecret: 'k' } : {}) }),
  );
  const counting = new CountingSink();
  let recorded = 0;
  const stub = { record: () => (recorded++, Promise.resolve()) };
  const sink = real?.sink ?? counting;
  const outbox = real?.outbox ?? stub;
  const clock = systemClock({ forceState: 'synced' });
  const service = new PanelService({ panels, sink, outbox, clock, timers: realTimers, log: silentLogger() });
  const config = Dc09ReceiverConfig.parse({
    host: '127.0.0.1',
    timestampWindow: { pastS: 600, futureS: 60 },
    maxConnections: n + 10,
    maxConnectionsPerAddress: n + 10,
  });
  const receiver = new Dc09Receiver({ config, panels, secrets: secretsFrom({ k: key }), service, clock, log: silentLogger() });
  const { tcpPort } = await receiver.start();
  try {
    const phase = await drive(tcpPort, batches, ms, encrypted ? '*ACK' : 'ACK');
    return { ...phase, raised: counting.raised + counting.cleared, recorded };
  } finally {
    await receiver.stop();
  }
}

export async function benchDc09(opts: { quick: boolean }): Promise<Record<string, number | string>> {
  const n = opts.quick ? 8 : 32;
  const ms = opts.quick ? 2000 : 5000;
  const gc = (globalThis as { gc?: () => void }).gc;
  // Distinct sequence numbers per connection for the whole window at up to ~60k msg/s in total.
  const perPanel = Math.min(9999, Math.ceil((60_000 * ms) / 1000 / n));
  // The echo baseline and the AES phase send the very same pre-encoded messages, so both
  // carry the same client-side memory and GC load.
  const aesBatches = Array.from({ length: n }, (_, i) => messages(i, perPanel, parseKeyHex(KEY)));
  const echo = await echoServer();
  let base: Phase;
  try {
    base = await drive((echo.address() as AddressInfo).port, aesBatches, ms, '*ACK');
  } finally {
    await new Promise((r) => echo.close(r));
  }
  gc?.();
  const aes = await receiverPhase(n, aesBatches, true, ms);
  if (aes.raised + aes.recorded !== aes.count)
    throw new Error(`AES phase: ${aes.count} ACKs but ${aes.raised} sink calls + ${aes.recorded} records`);
  gc?.();
  const committed = await committedPhase(n, aesBatches, ms);
  aesBatches.length = 0;
  gc?.();
  const plain = await receiverPhase(
    n,
    Array.from({ length: n }, (_, i) => messages(i, perPanel, undefined)),
    false,
    ms,
  );
  return {
    'dc09.connections': n,
    'dc09.echo_msgs_per_s': round(base.perSec, 0),
    'dc09.echo_p50_ms': round(base.p50, 3),
    'dc09.echo_p99_ms': round(base.p99, 3),
    'dc09.plain_msgs_per_s': round(plain.perSec, 0),
    'dc09.plain_vs_echo': round(plain.perSec / base.perSec, 3),
    'dc09.aes256_msgs_per_s': round(aes.perSec, 0),
    'dc09.aes256_ack_p50_ms': round(aes.p50, 3),
    'dc09.aes256_ack_p99_ms': round(aes.p99, 3),
    'dc09.aes256_vs_echo': round(aes.perSec / base.perSec, 3),
    'dc09.aes256_vs_plain': round(aes.perSec / plain.perSec, 3),
    'dc09.committed_msgs_per_s': round(committed.perSec, 0),
    'dc09.committed_ack_p50_ms': round(committed.p50, 3),
    'dc09.committed_ack_p99_ms': round(committed.p99, 3),
    'dc09.committed_vs_aes256': round(committed.perSec / aes.perSec, 3),
    'dc09.committed_events': committed.events,
  };
}
