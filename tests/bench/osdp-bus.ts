/**
 * OSDP bus benchmarks over a real serial line: a socat pty pair, OsdpControlPanel at one
 * end, 8 simulated readers sharing the other end at 115,200 baud.
 *
 * A pty has no baud rate, so the simulator holds every reply for the wire time of command
 * + reply (10 bits per character, 8N1) plus the reader's turnaround (`TURNAROUND_MS`),
 * like sim/cabinet does for Modbus. The wire limit is computed from the bytes the control
 * panel actually sent and received in the window, so the figure says how close the
 * scheduler (one command in flight, timers, event loop) gets to a perfect line.
 *
 * (a) poll cycle: 8 idle readers polled round robin for a window; cycle = window / (polls / 8);
 *     utilisation = wire time of those bytes (+ turnaround per exchange) / window. A second
 *     baseline, the pty floor, is the same POLL/ACK exchange between two bare SerialPorts with
 *     the same pacing: the cost of socat + serialport + the event loop, which no scheduler avoids.
 * (b) card -> lock: the bench is the decision maker (on 'card', output(addr, pulse 3 s)); the
 *     latency runs from the moment the simulated reader queues the card to the moment it
 *     receives the OUT. Swipes land at random readers and random phases of the cycle.
 */
import { pino } from 'pino';
import { SerialPort } from 'serialport';
import { OsdpControlPanel } from '../../drivers/osdp/control-panel.js';
import { Cmd } from '../../drivers/osdp/types.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { createPtyPair } from '../../sim/cabinet/pty.js';
import { startSimulatedReaders } from '../../sim/osdp/index.js';

const BAUD = 115_200;
const READERS = 8;
const BITS_PER_CHAR = 10;
/** PD turnaround the simulated readers add before replying (ms). */
const TURNAROUND_MS = 0.5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function waitUntil(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`osdp bench: ${what} within ${ms} ms`);
    await sleep(5);
  }
}

interface Line {
  sim: Awaited<ReturnType<typeof startSimulatedReaders>>;
  cp: OsdpControlPanel;
  close(): Promise<void>;
}

/** 8 readers on a fresh pty, all online; secure: each with its own SCBK and a 'required' CP. */
async function openLine(secure: boolean): Promise<Line> {
  const pty = await createPtyPair();
  const addresses = Array.from({ length: READERS }, (_, i) => i + 1);
  const key = (a: number) => Uint8Array.from({ length: 16 }, (_, i) => (a * 31 + i * 7) & 0xff);
  let sim: Line['sim'] | undefined;
  let cp: OsdpControlPanel | undefined;
  const close = async () => {
    await cp?.stop();
    await sim?.close();
    await pty.stop();
  };
  try {
    sim = await startSimulatedReaders({
      path: pty.b,
      baudRate: BAUD,
      emulateWire: true,
      readers: addresses.map((address) => ({ address, replyDelayMs: TURNAROUND_MS, ...(secure ? { key: key(address) } : {}) })),
    });
    const c = new OsdpControlPanel({
      bus: { id: 'bench-osdp', path: pty.a, baudRate: BAUD, replyTimeoutMs: 200, offlineAfterMisses: 4, idleMs: 0 },
      readers: addresses.map((address) =>
        secure ? { address, secure: 'required' as const, key: key(address) } : { address, secure: 'off' as const },
      ),
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log: pino({ level: 'silent' }),
    });
    cp = c;
    c.start();
    await waitUntil(
      () => c.status().every((r) => r.online && r.secure === secure),
      `all ${READERS} readers online${secure ? ' (secure)' : ''}`,
    );
    await sleep(300); // status queries done, JIT warm
    return { sim, cp: c, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** (a) Poll cycle against the wire limit of the bytes actually exchanged. */
async function pollCycle(cp: OsdpControlPanel, windowMs: number) {
  const a0 = cp.stats();
  const timeouts0 = cp.status().reduce((n, r) => n + r.timeouts, 0);
  const t0 = performance.now();
  await sleep(windowMs);
  const a1 = cp.stats();
  const timeouts = cp.status().reduce((n, r) => n + r.timeouts, 0) - timeouts0;
  const elapsed = performance.now() - t0;
  const exchanges = a1.framesReceived - a0.framesReceived;
  const bytes = a1.bytesSent - a0.bytesSent + (a1.bytesReceived - a0.bytesReceived);
  const wireMs = (bytes * BITS_PER_CHAR * 1000) / BAUD + exchanges * TURNAROUND_MS;
  const cycles = exchanges / READERS;
  return {
    elapsed,
    cycles,
    bytesPerCycle: bytes / cycles,
    wireMsPerCycle: wireMs / cycles,
    cycleMs: elapsed / cycles,
    utilisation: wireMs / elapsed,
    timeouts,
  };
}

/** (b) Card read -> lock command, as the simulated reader sees it. */
async function cardToLock(line: Line, swipes: number): Promise<number[]> {
  const { cp, sim } = line;
  cp.on('event', (e) => {
    if (e.kind === 'card') cp.output(e.address, [{ output: 0, action: 'pulse-on', ms: 3000 }]).catch(() => {});
  });
  const latencies: number[] = [];
  for (let i = 0; i < swipes; i++) {
    const address = 1 + Math.floor(Math.random() * READERS);
    const reader = sim.reader(address);
    const got = new Promise<number>((resolve) => {
      const onCommand = (cmd: { code: number; at: number }) => {
        if (cmd.code !== Cmd.OUT) return;
        reader.off('command', onCommand);
        resolve(cmd.at);
      };
      reader.on('command', onCommand);
    });
    let queuedAt = 0;
    reader.once('queued', (q) => (queuedAt = q.at));
    reader.swipe((0x100000 + i).toString(16).toUpperCase().padStart(7, '0'));
    const outAt = await Promise.race([got, sleep(2000).then(() => NaN)]);
    if (Number.isNaN(outAt)) throw new Error(`osdp bench: no OUT on reader ${address} within 2 s of swipe ${i}`);
    latencies.push(outAt - queuedAt);
    await sleep(Math.random() * 5); // a random phase of the cycle for the next swipe
  }
  return latencies;
}

/**
 * Baseline: the same exchanges (8-byte command, 7-byte reply, the same wire pacing) by two
 * bare SerialPorts over a pty, no OSDP on either side. What is left between this and the
 * wire limit is the pty, serialport and the event loop, not the control panel.
 */
async function ptyFloor(windowMs: number): Promise<{ exchangeMs: number }> {
  const pty = await createPtyPair();
  const open = (path: string) =>
    new Promise<SerialPort>((resolve, reject) => {
      const p = new SerialPort({ path, baudRate: BAUD, autoOpen: false });
      p.open((err) => (err ? reject(err) : resolve(p)));
    });
  const a = await open(pty.a);
  const b = await open(pty.b);
  try {
    const wireMs = ((8 + 7) * BITS_PER_CHAR * 1000) / BAUD + TURNAROUND_MS;
    const reply = Buffer.alloc(7, 0x41);
    let got = 0;
    b.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got < 8) return;
      got = 0;
      const due = performance.now() + wireMs;
      const spin = () => (performance.now() >= due ? b.write(reply) : setImmediate(spin));
      setTimeout(spin, Math.max(0, Math.floor(wireMs) - 1));
    });
    let waiting: (() => void) | undefined;
    let received = 0;
    a.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= 7) {
        received = 0;
        waiting?.();
      }
    });
    const command = Buffer.alloc(8, 0x53);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < windowMs) {
      await new Promise<void>((resolve) => {
        waiting = resolve;
        a.write(command);
      });
      n++;
    }
    return { exchangeMs: (performance.now() - t0) / n };
  } finally {
    await new Promise<void>((r) => a.close(() => r()));
    await new Promise<void>((r) => b.close(() => r()));
    await pty.stop();
  }
}

export async function benchOsdpBus({ quick }: { quick: boolean }): Promise<Record<string, number | string>> {
  const windowMs = quick ? 3000 : 10_000;
  const swipes = quick ? 200 : 1000;

  const floor = await ptyFloor(Math.min(windowMs, 3000));
  const clear = await openLine(false);
  let a: Awaited<ReturnType<typeof pollCycle>>;
  let latencies: number[];
  try {
    a = await pollCycle(clear.cp, windowMs);
    latencies = await cardToLock(clear, swipes);
  } finally {
    await clear.close();
  }
  const secure = await openLine(true);
  let sa: Awaited<ReturnType<typeof pollCycle>>;
  let secureLatencies: number[];
  try {
    sa = await pollCycle(secure.cp, windowMs);
    secureLatencies = await cardToLock(secure, Math.min(swipes, 200));
  } finally {
    await secure.close();
  }
  return {
    readers: READERS,
    baud: BAUD,
    turnaroundMs: TURNAROUND_MS,
    windowMs: Math.round(a.elapsed),
    cycles: Math.round(a.cycles),
    bytesPerCycle: a.bytesPerCycle,
    wireMsPerCycle: a.wireMsPerCycle,
    cycleMs: a.cycleMs,
    pollsPerReaderPerSec: 1000 / a.cycleMs,
    utilisation: a.utilisation,
    /** Baseline: bare SerialPort ping-pong of the same POLL/ACK sizes and pacing over a pty. */
    ptyFloorCycleMs: floor.exchangeMs * READERS,
    /** ptyFloorCycleMs / cycleMs: how close the control panel gets to what the pty allows. */
    schedulerEfficiency: (floor.exchangeMs * READERS) / a.cycleMs,
    timeoutsDuringWindow: a.timeouts,
    swipes: latencies.length,
    cardToLockP50Ms: pct(latencies, 50),
    cardToLockP99Ms: pct(latencies, 99),
    cardToLockMaxMs: Math.max(...latencies),
    /**
     * The floor for (b) on this line: on average half a cycle until the reader's next poll,
     * then POLL (8 bytes) + osdp_RAW reply (16 bytes for 26 bits) on the wire + turnaround.
     */
    cardToLockFloorMs: a.cycleMs / 2 + ((8 + 16) * BITS_PER_CHAR * 1000) / BAUD + TURNAROUND_MS,
    secureBytesPerCycle: sa.bytesPerCycle,
    secureWireMsPerCycle: sa.wireMsPerCycle,
    secureCycleMs: sa.cycleMs,
    secureUtilisation: sa.utilisation,
    secureSwipes: secureLatencies.length,
    secureCardToLockP50Ms: pct(secureLatencies, 50),
    secureCardToLockP99Ms: pct(secureLatencies, 99),
  };
}

// `node dist/tests/bench/osdp-bus.js [--quick]` runs it alone.
if (process.argv[1]?.endsWith('osdp-bus.js')) {
  benchOsdpBus({ quick: process.argv.includes('--quick') }).then(
    (r) => {
      console.log(r);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
