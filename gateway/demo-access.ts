/**
 * The access control part of `gatehouse demo`: simulated OSDP readers on one end of a socat
 * pseudo-terminal pair (the gateway opens the other end, exactly as it would a USB-RS485
 * adapter), fresh per-reader secure channel keys, a credential snapshot sent the way the
 * platform sends it, and residents coming and going.
 */
import { randomBytes } from 'node:crypto';
import type { CompoundConfig } from '../config/schema.js';
import { createPtyPair, requireSocat, type PtyPair } from '../sim/cabinet/pty.js';
import { startSimulatedReaders, type SimulatedReaders } from '../sim/osdp/index.js';
import type { Gateway } from './app.js';
import { readerKeySecret } from './access/family.js';

export interface DemoReaders {
  /** The compound with the OSDP line pointed at the pty. */
  config: CompoundConfig;
  /** Reader keys for the secrets. */
  secrets: Record<string, string>;
  /** After the gateway started: sync credentials and start the residents. */
  run(gateway: Gateway): Promise<void>;
  stop(): Promise<void>;
}

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

/** Undefined when socat is missing: the rest of the demo runs without doors. */
export async function prepareDemoReaders(config: CompoundConfig, say: (line: string) => void): Promise<DemoReaders | undefined> {
  if (config.osdpBuses.length === 0) return undefined;
  try {
    requireSocat();
  } catch (err) {
    say(`  (doors skipped: ${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
  const bus = config.osdpBuses[0]!;
  const pty: PtyPair = await createPtyPair();
  const readers = config.readers.filter((r) => r.bus === bus.id);
  const keys = new Map(readers.map((r) => [r.id, randomBytes(16)]));
  let sim: SimulatedReaders;
  try {
    sim = await startSimulatedReaders({ path: pty.b, baudRate: bus.baudRate, readers: readers.map((r) => ({ address: r.address, key: keys.get(r.id)! })) });
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
    config: { ...config, osdpBuses: config.osdpBuses.map((b) => (b.id === bus.id ? { ...b, path: pty.a } : b)) },
    secrets: Object.fromEntries([...keys].map(([id, key]) => [`osdp.${id}`, key.toString('hex')])),
    async run(gateway) {
      const yesterday = new Date(Date.now() - 86400_000).toISOString();
      const credentials = [...RESIDENTS.map((r) => ({ ...r, mode: 'card' })), { ...FORMER_TENANT, mode: 'card', validTo: yesterday }];
      await gateway.router.execute('access.credentials.snapshot', { id: `demo-sync-${Date.now()}`, args: { version: 1, chunk: 0, chunks: 1, credentials } }, { via: 'cli', role: 'admin', principal: 'demo' });
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
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await sim.close();
      await pty.stop();
    },
  };
}

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
          return { address: r.address, ...(hex && /^[0-9a-fA-F]{32}$/.test(hex) ? { key: Buffer.from(hex, 'hex') } : {}), ...(r.secure === 'off' ? { secureCapable: false } : {}) };
        });
      if (readers.length) started.push(await startSimulatedReaders({ path: bus.path, baudRate: bus.baudRate, readers }));
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  return started;
}
