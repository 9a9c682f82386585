/**
 * The access control part of `gatehouse demo`: simulated OSDP readers on one end of a socat
 * pseudo-terminal pair (the gateway opens the other end, exactly as it would a USB-RS485
 * adapter), fresh per-reader secure channel keys, a credential snapshot sent the way the
 * platform sends it, and residents coming and going.
 *
 * Also `startReadersOf`, for `gatehouse sim --config FILE`.
 */
import { randomBytes } from 'node:crypto';
import type { CompoundConfig } from '../../config/schema.js';
import { createPtyPair, requireSocat, type PtyPair } from '../cabinet/pty.js';
import { simulating, type DemoScenario } from '../scenarios.js';
import { startSimulatedReaders, type SimulatedReaders } from './index.js';
import { readerKeySecret } from '../../config/access-schema.js';

const RESIDENTS = [
  { id: 'r-101', card: '0A10101', groups: ['building-1'] },
  { id: 'r-102', card: '0A10102', groups: ['building-1'] },
  { id: 'r-201', card: '0A20201', groups: ['compound'] },
  { id: 'r-202', card: '0A20202', groups: ['compound'] },
];
/** A tenant whose lease ended yesterday: the gate must refuse the card. */
const FORMER_TENANT = { id: 'r-103-old', card: '0A10103', groups: ['building-1'] };
const STRANGER_CARD = '1234567';
/** What happens at the doors, one step every 3-6 s, round and round. */
const SCRIPT = ['in', 'building', 'former-tenant', 'out', 'stranger', 'in', 'forced', 'out', 'building'] as const;

export const scenario: DemoScenario = {
  family: 'access',
  order: 30,
  async prepare(config, say) {
    if (config.osdpBuses.length === 0) return undefined;
    try {
      requireSocat();
    } catch (err) {
      say(`  (doors skipped: ${(err as Error).message.split('\n')[0]})`);
      // The rest of the demo runs without doors: the gateway must not open the placeholder line.
      return { config: { osdpBuses: [], readers: [], doors: [] }, stop: async () => undefined };
    }
    const bus = config.osdpBuses[0]!;
    const pty: PtyPair = await createPtyPair();
    const readers = config.readers.filter((r) => r.bus === bus.id);
    const keys = new Map(readers.map((r) => [r.id, randomBytes(16)]));
    let sim: SimulatedReaders;
    try {
      sim = await startSimulatedReaders({
        path: pty.b,
        baudRate: bus.baudRate,
        readers: readers.map((r) => ({ address: r.address, key: keys.get(r.id)! })),
      });
    } catch (err) {
      await pty.stop();
      throw err;
    }
    let stopping = false;
    let loop: Promise<void> = Promise.resolve();
    let wake: (() => void) | undefined;
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    return {
      config: { osdpBuses: config.osdpBuses.map((b) => (b.id === bus.id ? { ...b, path: pty.a } : b)) },
      secrets: Object.fromEntries(readers.map((r) => [readerKeySecret(r), keys.get(r.id)!.toString('hex')])),
      async run(host) {
        const yesterday = new Date(Date.now() - 86400_000).toISOString();
        const credentials = [...RESIDENTS.map((r) => ({ ...r, mode: 'card' })), { ...FORMER_TENANT, mode: 'card', validTo: yesterday }];
        await host.execute('access.credentials.snapshot', { version: 1, chunk: 0, chunks: 1, credentials }, `demo-sync-${Date.now()}`);
        const addressOf = (id: string) => readers.find((r) => r.id === id)?.address;
        loop = (async () => {
          let n = 0;
          while (!stopping) {
            await pause(3000 + Math.random() * 3000);
            if (stopping) break;
            const step = SCRIPT[n % SCRIPT.length]!;
            const who = RESIDENTS[n % RESIDENTS.length]!;
            n++;
            const gateIn = addressOf('main-gate-in');
            const gateOut = addressOf('main-gate-out');
            const bldg = addressOf('bldg-1-entry');
            if (gateIn === undefined || gateOut === undefined || bldg === undefined) continue;
            if (step === 'in') void sim.reader(gateIn).swipeAndWalk(who.card);
            else if (step === 'out') {
              // Leaving: the courtyard-side reader decides, the gate itself (on the street-side reader's I/O) opens.
              sim.reader(gateOut).swipe(who.card);
              void sim.door(gateIn).walkThrough();
            } else if (step === 'building') void sim.reader(bldg).swipeAndWalk(RESIDENTS[n % 2]!.card);
            else if (step === 'former-tenant') sim.reader(gateIn).swipe(FORMER_TENANT.card);
            else if (step === 'stranger') sim.reader(bldg).swipe(STRANGER_CARD);
            else {
              sim.door(bldg).force();
              setTimeout(() => sim.door(bldg).shut(), 4000);
            }
          }
        })();
      },
      banner: (pub) => [
        `  ${readers.length} simulated OSDP readers (secure channel) on a pty RS-485 line; residents come and go. Open the main gate:`,
        `    ${pub('door.open', { door: 'main-gate' })}`,
      ],
      async stop() {
        stopping = true;
        wake?.();
        await loop;
        await sim.close();
        await pty.stop();
      },
    };
  },
  async simulate(config, bench) {
    if (config.osdpBuses.length === 0) return undefined;
    const started = await simulating('OSDP readers', () => startReadersOf(config, (n) => bench.secret(n)));
    return {
      lines: config.osdpBuses.map(
        (bus) =>
          `simulating ${config.readers.filter((r) => r.bus === bus.id).length} OSDP reader(s) on ${bus.path} (give the gateway the other end of the line)`,
      ),
      stop: async () => {
        await Promise.all(started.map((r) => r.close()));
      },
    };
  },
};

/**
 * `gatehouse sim --config FILE`: the readers of FILE's OSDP lines, each line on the path the
 * file names — which for the sim must be the OTHER end from the gateway's (one end of a
 * socat pty pair, or a second USB-RS485 adapter on the same pair). Readers with a key in the
 * secrets use it; `secure: install` readers start in install mode (default key).
 */
export async function startReadersOf(config: CompoundConfig, secretOf: (name: string) => string | undefined): Promise<SimulatedReaders[]> {
  const started: SimulatedReaders[] = [];
  try {
    for (const bus of config.osdpBuses) {
      const readers = config.readers
        .filter((r) => r.bus === bus.id)
        .map((r) => {
          const hex = r.secure === 'required' ? secretOf(readerKeySecret(r)) : undefined;
          return {
            address: r.address,
            ...(hex && /^[0-9a-fA-F]{32}$/.test(hex) ? { key: Buffer.from(hex, 'hex') } : {}),
            ...(r.secure === 'off' ? { secureCapable: false } : {}),
          };
        });
      if (readers.length) started.push(await startSimulatedReaders({ path: bus.path, baudRate: bus.baudRate, readers }));
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  return started;
}
