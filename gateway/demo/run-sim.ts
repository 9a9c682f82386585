/**
 * `gatehouse sim --config FILE`: the simulated devices of a compound file where the gateway
 * will look for them (an installer's bench without hardware). Each family's simulators start
 * from its sim/<family>/demo-scenario.ts.
 */
import type { LoadedConfig } from '../../config/load.js';
import type { CompoundConfig } from '../../config/schema.js';
import { startCabinetsOf } from '../../sim/cabinet/demo-scenario.js';
import type { SimulatedCabinets } from '../../sim/cabinet/index.js';
import { startCamerasOf } from '../../sim/camera/demo-scenario.js';
import { startReadersOf } from '../../sim/osdp/demo-scenario.js';
import { startInputModulesOf } from '../../sim/perimeter/demo-scenario.js';
import { startSimulatedLocks } from '../../sim/smartlock/index.js';
import { untilSignal } from '../signals.js';

/** `gatehouse sim --config FILE`: the simulated devices of FILE, talking to the broker it names. */
export async function runSim(loaded: LoadedConfig): Promise<number> {
  const { config, secrets } = loaded;
  const host = config.broker.host === '0.0.0.0' ? '127.0.0.1' : config.broker.host;
  const url = `mqtt://${host}:${config.broker.port}`;
  const locks = config.locks.map((l) => ({ id: l.id, password: secrets.get(l.passwordSecret ?? `devices.${l.id}`) ?? '' }));
  const without = locks.filter((l) => !l.password).map((l) => l.id);
  if (without.length) {
    process.stderr.write(`gatehouse sim: no password secret for ${without.join(', ')}; add them to the secrets file\n`);
    return 2;
  }
  const cabinets: SimulatedCabinets[] = [];
  const stopCabinets = () => Promise.all(cabinets.map((c) => c.stop()));
  try {
    cabinets.push(...(await startCabinetsOf(config.cabinets)));
  } catch (err) {
    await stopCabinets();
    process.stderr.write(`gatehouse sim: cannot simulate the cabinets: ${(err as Error).message}\n`);
    return 1;
  }
  let readers: Awaited<ReturnType<typeof startReadersOf>> = [];
  try {
    readers = await startReadersOf(config, (n) => secrets.get(n));
  } catch (err) {
    await stopCabinets();
    process.stderr.write(`gatehouse sim: cannot simulate the OSDP readers: ${(err as Error).message}\n`);
    return 1;
  }
  let perimeter: { lines: string[]; stop(): Promise<void> };
  try {
    perimeter = await startPerimeterOf(config, (n) => secrets.get(n));
  } catch (err) {
    await stopCabinets();
    await Promise.all(readers.map((r) => r.close()));
    process.stderr.write(`gatehouse sim: cannot simulate the input modules and cameras: ${(err as Error).message}\n`);
    return 1;
  }
  for (const bus of config.osdpBuses) process.stdout.write(`simulating ${config.readers.filter((r) => r.bus === bus.id).length} OSDP reader(s) on ${bus.path} (give the gateway the other end of the line)\n`);
  const sim = locks.length ? await startSimulatedLocks({ url, locks }) : undefined;
  if (locks.length) process.stdout.write(`simulating ${locks.length} lock(s) against ${url}\n`);
  for (const c of config.cabinets) {
    const where = 'tcp' in c.bus ? `Modbus TCP ${c.bus.tcp.host}:${c.bus.tcp.port}` : `Modbus RTU ${c.bus.rtu.path} unit ${c.unitId}`;
    process.stdout.write(`simulating cabinet ${c.id} (${c.ports} ports) on ${where}\n`);
  }
  for (const line of perimeter.lines) process.stdout.write(`${line}\n`);
  process.stdout.write('Ctrl-C stops\n');
  await untilSignal();
  await sim?.stop();
  await stopCabinets();
  await Promise.all(readers.map((r) => r.close()));
  await perimeter.stop();
  return 0;
}

/** The input modules, then the cameras (their lines in that order); one stop for both. */
async function startPerimeterOf(config: CompoundConfig, secretOf: (name: string) => string | undefined): Promise<{ lines: string[]; stop(): Promise<void> }> {
  const modules = await startInputModulesOf(config);
  try {
    const cameras = await startCamerasOf(config, secretOf);
    return {
      lines: [...modules.lines, ...cameras.lines],
      stop: async () => {
        await cameras.stop();
        await modules.stop();
      },
    };
  } catch (err) {
    await modules.stop();
    throw err;
  }
}
