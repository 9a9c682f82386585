/**
 * The e-bike charging part of `gatehouse demo`: the compound's cabinets simulated on Modbus
 * TCP on free ports (demo.yaml holds placeholders; the schema refuses port 0), a few bikes
 * plugged in, and three of them charging once the gateway has read them plugged in, started
 * the way the platform would (a `charging.start` command).
 *
 * Also `startCabinetsOf`, for `gatehouse sim --config FILE`.
 */
import type { CabinetConfig } from '../../config/schema.js';
import { simulating, type DemoHost, type DemoScenario } from '../scenarios.js';
import { startSimulatedCabinets, type SimulatedCabinets } from './index.js';

/** Bikes plugged in when the demo starts, and the ones the demo starts charging. */
const DEMO_PLUGGED: Record<string, number[]> = { 'cab-a': [1, 2, 5], 'cab-b': [3] };
const DEMO_CHARGING: [string, number][] = [
  ['cab-a', 1],
  ['cab-a', 2],
  ['cab-b', 3],
];

export const scenario: DemoScenario = {
  family: 'cabinets',
  order: 20,
  async prepare(config) {
    if (config.cabinets.length === 0) return undefined;
    const sim = await startSimulatedCabinets({
      tcp: config.cabinets.filter((c) => 'tcp' in c.bus).map((c) => ({ id: c.id, ports: c.ports, port: 0, host: '127.0.0.1' })),
      plugged: Object.fromEntries(config.cabinets.map((c) => [c.id, (DEMO_PLUGGED[c.id] ?? []).filter((p) => p <= c.ports)])),
    });
    const cabinets = config.cabinets.map((c): CabinetConfig =>
      'tcp' in c.bus ? { ...c, bus: { tcp: { host: '127.0.0.1', port: sim.tcpPort(c.id) } } } : c,
    );
    let charging: { stop(): Promise<void> } | undefined;
    const cab = cabinets[0]!;
    return {
      config: { cabinets },
      async run(host) {
        charging = startDemoCharging(host, cabinets, sim);
      },
      banner: (pub) => [
        `  ${cabinets.length} simulated charging cabinet(s) on Modbus TCP; stop a charging bike:`,
        `    ${pub('charging.stop', { cabinet: cab.id, port: DEMO_PLUGGED[cab.id]?.[0] ?? 1 })}`,
      ],
      halt: () => charging?.stop(),
      stop: () => sim.stop(),
    };
  },
  async simulate(config) {
    if (config.cabinets.length === 0) return undefined;
    const started = await simulating('cabinets', () => startCabinetsOf(config.cabinets));
    return {
      lines: config.cabinets.map((c) => {
        const where = 'tcp' in c.bus ? `Modbus TCP ${c.bus.tcp.host}:${c.bus.tcp.port}` : `Modbus RTU ${c.bus.rtu.path} unit ${c.unitId}`;
        return `simulating cabinet ${c.id} (${c.ports} ports) on ${where}`;
      }),
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  },
};

/** Starts the demo sessions once the gateway's retained state shows each bike plugged in (no refused commands in the feed). */
function startDemoCharging(host: DemoHost, cabinets: readonly CabinetConfig[], sim: SimulatedCabinets): { stop(): Promise<void> } {
  let stopping = false;
  const ids = new Set(cabinets.map((c) => c.id));
  const wanted = DEMO_CHARGING.filter(([id, port]) => ids.has(id) && port <= sim.cabinet(id).ports.length);
  const plugged = (cabinet: string, port: number): boolean => {
    const ports = host.state(cabinet)?.ports;
    return Array.isArray(ports) && ports.some((p: { port?: number; state?: string }) => p.port === port && p.state === 'plugged');
  };
  const done = (async () => {
    const pending = [...wanted];
    const deadline = performance.now() + 15_000;
    let n = 0;
    while (pending.length && !stopping && performance.now() < deadline) {
      for (const [cabinet, port] of [...pending]) {
        if (!plugged(cabinet, port)) continue;
        const reply = await host.execute('charging.start', { cabinet, port }, `demo-start-${++n}`);
        if (reply.ok)
          pending.splice(
            pending.findIndex(([c, p]) => c === cabinet && p === port),
            1,
          );
      }
      if (pending.length) await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await done;
    },
  };
}

/**
 * The cabinets of a compound file, each where the gateway will look for it. TCP cabinets
 * listen on their configured host:port. RTU cabinets answer on the serial path of their bus,
 * all units of one path on one simulated line: for RTU the installer gives the sim the OTHER
 * end of the line from the one the gateway opens, e.g. one end of a socat pty pair
 * (`socat pty,raw,echo=0,link=/tmp/bus-gw pty,raw,echo=0,link=/tmp/bus-sim`, the gateway's file
 * naming /tmp/bus-gw and the sim's naming /tmp/bus-sim), or a second USB adapter on the same
 * RS-485 pair. Pointing both at the same path cannot work.
 */
export async function startCabinetsOf(cabinets: readonly CabinetConfig[]): Promise<SimulatedCabinets[]> {
  const started: SimulatedCabinets[] = [];
  try {
    const tcp = cabinets.flatMap((c) => ('tcp' in c.bus ? [{ id: c.id, ports: c.ports, host: c.bus.tcp.host, port: c.bus.tcp.port }] : []));
    if (tcp.length) started.push(await startSimulatedCabinets({ tcp }));
    const lines = new Map<string, { baudRate: number; units: { id: string; ports: number; unitId: number }[] }>();
    for (const c of cabinets) {
      if (!('rtu' in c.bus)) continue;
      const line = lines.get(c.bus.rtu.path) ?? { baudRate: c.bus.rtu.baudRate, units: [] };
      line.units.push({ id: c.id, ports: c.ports, unitId: c.unitId });
      lines.set(c.bus.rtu.path, line);
    }
    for (const [path, line] of lines)
      started.push(await startSimulatedCabinets({ rtu: { path, baudRate: line.baudRate, units: line.units } }));
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return started;
}
