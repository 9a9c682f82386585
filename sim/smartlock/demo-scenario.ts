/**
 * The smart lock part of `gatehouse demo`: each lock of the compound as a real MQTT client of
 * the embedded broker, with a fresh random password (the demo must not teach default
 * passwords), residents coming and going, and now and then a lock going offline for 10 s.
 */
import { randomBytes } from 'node:crypto';
import { BenchConfigError, type DemoScenario } from '../scenarios.js';
import { startSimulatedLocks, type SimulatedLocks } from './index.js';
import { lockPasswordSecret } from '../../config/lock-schema.js';

export const scenario: DemoScenario = {
  family: 'locks',
  order: 10,
  async prepare(config) {
    if (config.locks.length === 0) return undefined;
    const locks = config.locks.map((l) => ({ id: l.id, secret: lockPasswordSecret(l), password: randomBytes(12).toString('base64url') }));
    let sim: SimulatedLocks | undefined;
    return {
      secrets: Object.fromEntries(locks.map((l) => [l.secret, l.password])),
      // The locks connect once the broker listens.
      async run(host) {
        sim = await startSimulatedLocks({
          url: host.brokerUrl,
          locks: locks.map(({ id, password }) => ({ id, password })),
          scenario: { meanIntervalMs: 1500, offlineForMs: 10_000 },
        });
      },
      banner: (pub) => ['  open a flat door remotely:', `    ${pub('lock.open', { lock: locks[0]!.id })}`],
      stop: async () => {
        await sim?.stop();
      },
    };
  },
  async simulate(config, bench) {
    if (config.locks.length === 0) return undefined;
    const locks = config.locks.map((l) => ({ id: l.id, password: bench.secret(lockPasswordSecret(l)) ?? '' }));
    const without = locks.filter((l) => !l.password).map((l) => l.id);
    if (without.length) throw new BenchConfigError(`no password secret for ${without.join(', ')}; add them to the secrets file`);
    const sim = await startSimulatedLocks({ url: bench.brokerUrl, locks });
    return { lines: [`simulating ${locks.length} lock(s) against ${bench.brokerUrl}`], stop: () => sim.stop() };
  },
};
