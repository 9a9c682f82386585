/**
 * `startSimulatedLocks`: N smart locks as real MQTT clients of the embedded broker, each
 * with its own credential, residents using them, and fault injection for tests and demos.
 */
import { pino } from 'pino';
import { realTimers, type Timers } from '../../gateway/core/clock.js';
import type { Logger } from '../../gateway/core/log.js';
import type { CredentialKind } from '../../drivers/smartlock/types.js';
import { seededRandom, type Random } from './random.js';
import { makeResidents, Scenario, type Resident, type ScenarioAction } from './scenario.js';
import { SimLock } from './sim-lock.js';

export { SimLock } from './sim-lock.js';
export { Scenario, makeResidents, type Resident } from './scenario.js';
export { seededRandom } from './random.js';

export interface SimulatedLocksOptions {
  /** The embedded broker, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  locks: readonly { id: string; password: string }[];
  timers?: Timers;
  /** A seed for reproducible residents and choices (or a random source). */
  seed?: number;
  random?: Random;
  now?: () => number;
  /** Residents acting on their own; false for tests that drive everything by inject(). */
  scenario?: false | { meanIntervalMs?: number; weights?: Partial<Record<ScenarioAction, number>>; offlineForMs?: number };
  heartbeatMs?: number;
  reconnectPeriodMs?: number;
  timeScale?: number;
  /** How long start waits for every lock to connect before returning anyway. */
  connectWaitMs?: number;
  log?: Logger;
}

export type SimInjection =
  | { kind: 'tamper'; lock: string; active?: boolean }
  | { kind: 'offline'; lock: string; forMs?: number }
  | { kind: 'online'; lock: string }
  | { kind: 'battery'; lock: string; level: number }
  | { kind: 'present'; lock: string; method: CredentialKind; value: string }
  | { kind: 'door'; lock: string; door: 'open' | 'closed' }
  | { kind: 'raw'; lock: string; topic: string; payload: string | Buffer; retain?: boolean };

export interface SimulatedLocks {
  locks: SimLock[];
  residents: ReadonlyMap<string, readonly Resident[]>;
  scenario: Scenario | undefined;
  lock(id: string): SimLock;
  inject(fault: SimInjection): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimulatedLocks(opts: SimulatedLocksOptions): Promise<SimulatedLocks> {
  const timers = opts.timers ?? realTimers;
  const random = opts.random ?? seededRandom(opts.seed ?? Date.now());
  const now = opts.now ?? Date.now;
  const log = opts.log ?? pino({ level: 'silent' });
  const residents = new Map<string, Resident[]>();
  const locks = opts.locks.map((l) => {
    const people = makeResidents(l.id, random, now());
    residents.set(l.id, people);
    return new SimLock({
      id: l.id,
      password: l.password,
      url: opts.url,
      timers,
      random,
      now,
      heartbeatMs: opts.heartbeatMs ?? 60_000,
      reconnectPeriodMs: opts.reconnectPeriodMs ?? 2000,
      timeScale: opts.timeScale ?? 1,
      log,
      fw: 'sim-1.0',
      credentials: people.map((p) => ({
        credentialId: p.credentialId,
        kind: p.kind,
        value: p.value,
        ...(p.validTo ? { validTo: p.validTo } : {}),
      })),
    });
  });
  const byId = new Map(locks.map((l) => [l.id, l]));
  const lock = (id: string): SimLock => {
    const l = byId.get(id);
    if (!l) throw new Error(`no simulated lock "${id}"`);
    return l;
  };

  const connected = Promise.all(locks.map((l) => new Promise<void>((r) => l.once('connected', () => r()))));
  for (const l of locks) l.start();
  let waitTimer: ReturnType<Timers['setTimeout']> | undefined;
  await Promise.race([connected, new Promise<void>((r) => (waitTimer = realTimers.setTimeout(r, opts.connectWaitMs ?? 10_000)))]);
  waitTimer?.cancel();
  const missing = locks.filter((l) => !l.connected).map((l) => l.id);
  if (missing.length) log.warn({ locks: missing }, 'some simulated locks are not connected yet; they keep retrying');

  let scenario: Scenario | undefined;
  if (opts.scenario !== false) {
    scenario = new Scenario({
      locks,
      residents,
      timers,
      random,
      meanIntervalMs: opts.scenario?.meanIntervalMs ?? 4000,
      weights: opts.scenario?.weights ?? {},
      offlineForMs: opts.scenario?.offlineForMs ?? 20_000,
    });
    scenario.start();
  }

  return {
    locks,
    residents,
    scenario,
    lock,
    async inject(f) {
      const l = lock(f.lock);
      switch (f.kind) {
        case 'tamper':
          return l.setTamper(f.active ?? true);
        case 'offline':
          await l.goOffline();
          if (f.forMs !== undefined) timers.setTimeout(() => l.goOnline(), f.forMs);
          return;
        case 'online':
          return l.goOnline();
        case 'battery':
          return l.setBattery(f.level);
        case 'present':
          l.present(f.method, f.value);
          return;
        case 'door':
          return l.setDoor(f.door);
        case 'raw':
          return l.publishRaw(f.topic, f.payload, f.retain);
      }
    },
    async stop() {
      scenario?.stop();
      await Promise.all(locks.map((l) => l.stop()));
    },
  };
}
