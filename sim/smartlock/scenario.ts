/**
 * Residents living with their locks: who comes home, who types a wrong PIN, a stranger
 * trying a card, a former tenant whose lease ended, batteries draining, a lock dropping
 * off the network for a while. All choices come from the injected random source and all
 * waiting from the injected timers, so a run is reproducible from its seed.
 */
import type { TimerHandle, Timers } from '../../gateway/core/clock.js';
import type { CredentialKind } from '../../drivers/smartlock/types.js';
import { between, digits, hex, pick, weighted, type Random } from './random.js';

export interface Resident {
  name: string;
  credentialId: string;
  kind: CredentialKind;
  value: string;
  /** Set for former tenants: their credential has expired. */
  validTo?: string;
}

/** What the scenario needs from a lock (a SimLock, or a fake in unit tests). */
export interface ScenarioLock {
  readonly id: string;
  readonly battery: number;
  readonly isForcedOffline: boolean;
  present(kind: CredentialKind, value: string): unknown;
  setBattery(level: number): void;
  goOffline(): Promise<void> | void;
  goOnline(): void;
}

export const DEFAULT_WEIGHTS = {
  resident: 60,
  wrongPin: 10,
  stranger: 10,
  formerTenant: 5,
  battery: 12,
  offline: 3,
};
export type ScenarioAction = keyof typeof DEFAULT_WEIGHTS;

export interface ScenarioOptions {
  locks: readonly ScenarioLock[];
  residents: ReadonlyMap<string, readonly Resident[]>;
  timers: Timers;
  random: Random;
  /** Mean time between two actions anywhere in the compound. */
  meanIntervalMs: number;
  weights?: Partial<Record<ScenarioAction, number>>;
  /** How long a lock stays off the network when the scenario unplugs it. */
  offlineForMs?: number;
}

/** Residents for one lock: two current tenants (a card and a PIN) and one former tenant. */
export function makeResidents(lockId: string, random: Random, now: number): Resident[] {
  const flat = lockId.replace(/^flat-/, '');
  return [
    { name: `tenant ${flat} A`, credentialId: `${lockId}-a-card`, kind: 'card', value: hex(random, 10) },
    { name: `tenant ${flat} B`, credentialId: `${lockId}-b-pin`, kind: 'pin', value: digits(random, 6) },
    {
      name: `former tenant ${flat}`,
      credentialId: `${lockId}-old-card`,
      kind: 'card',
      value: hex(random, 10),
      validTo: new Date(now - 30 * 86_400_000).toISOString(),
    },
  ];
}

export class Scenario {
  private timer: TimerHandle | undefined;
  private readonly weights: Record<ScenarioAction, number>;
  /** Every action taken, for tests and for the demo's curious reader. */
  readonly log: { action: ScenarioAction; lock: string }[] = [];

  constructor(private readonly opts: ScenarioOptions) {
    this.weights = { ...DEFAULT_WEIGHTS, ...opts.weights };
  }

  start(): void {
    if (this.timer || this.opts.locks.length === 0) return;
    this.schedule();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    const wait = Math.max(1, Math.round(this.opts.meanIntervalMs * (0.5 + this.opts.random())));
    this.timer = this.opts.timers.setTimeout(() => {
      this.step();
      this.schedule();
    }, wait);
  }

  /** Takes one action on one lock (none when every lock is unplugged). */
  step(): { action: ScenarioAction; lock: string } | undefined {
    const { random } = this.opts;
    // An unplugged lock waits for whoever unplugged it (this scenario or a test's inject).
    const plugged = this.opts.locks.filter((l) => !l.isForcedOffline);
    if (plugged.length === 0) return undefined;
    const lock = pick(random, plugged);
    const residents = this.opts.residents.get(lock.id) ?? [];
    const current = residents.filter((r) => !r.validTo);
    const action = weighted(random, this.weights);
    switch (action) {
      case 'resident': {
        if (current.length === 0) break;
        const r = pick(random, current);
        lock.present(r.kind, r.value);
        break;
      }
      case 'wrongPin':
        lock.present('pin', digits(random, 6));
        break;
      case 'stranger':
        lock.present('card', hex(random, 10));
        break;
      case 'formerTenant': {
        const former = residents.find((r) => r.validTo);
        if (former) lock.present(former.kind, former.value);
        break;
      }
      case 'battery':
        lock.setBattery(lock.battery - between(random, 1, 4));
        break;
      case 'offline':
        void lock.goOffline();
        this.opts.timers.setTimeout(() => lock.goOnline(), this.opts.offlineForMs ?? 20_000);
        break;
    }
    const entry = { action, lock: lock.id };
    this.log.push(entry);
    if (this.log.length > 1000) this.log.shift();
    return entry;
  }
}
