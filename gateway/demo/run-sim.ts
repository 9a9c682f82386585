/**
 * `gatehouse sim --config FILE`: the simulated devices of a compound file, each where the
 * gateway will look for it (an installer's bench without hardware). Each family simulates its
 * own devices (`simulate` of sim/<family>/demo-scenario.ts); this runner knows none of them.
 */
import type { LoadedConfig } from '../../config/load.js';
import { BenchConfigError, loadScenarios, type SimBench, type SimulatedFamily } from '../../sim/scenarios.js';
import { untilSignal } from '../signals.js';

export async function runSim(loaded: LoadedConfig): Promise<number> {
  const { config, secrets } = loaded;
  const host = config.broker.host === '0.0.0.0' ? '127.0.0.1' : config.broker.host;
  const bench: SimBench = { brokerUrl: `mqtt://${host}:${config.broker.port}`, secret: (name) => secrets.get(name) };
  const started: SimulatedFamily[] = [];
  const stopAll = async () => {
    for (const s of started.splice(0).reverse()) await s.stop();
  };
  for (const scenario of await loadScenarios()) {
    try {
      const family = await scenario.simulate?.(config, bench);
      if (family) started.push(family);
    } catch (err) {
      await stopAll();
      process.stderr.write(`gatehouse sim: ${(err as Error).message}\n`);
      // A missing secret is the compound file's fault (2); a port in use or a missing line is not (1).
      return err instanceof BenchConfigError ? 2 : 1;
    }
  }
  for (const line of started.flatMap((s) => s.lines)) process.stdout.write(`${line}\n`);
  process.stdout.write('Ctrl-C stops\n');
  await untilSignal();
  for (const s of started.splice(0)) await s.stop();
  return 0;
}
