/**
 * The battery-swap part of `gatehouse demo` and `gatehouse sim --config FILE`: the
 * compound's swap cabinets simulated on Modbus TCP (free ports in the demo) or on their RTU
 * line, stocked with charged packs and two empty slots, with a rider who returns a flat pack
 * into whichever empty slot the gateway unlocks and takes the pack it unlocks next. In the
 * demo, one swap is authorised the way the platform would (`swap.authorize`).
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { SwapCabinetConfig } from '../../config/swap-schema.js';
import { simulating, type DemoHost, type DemoScenario } from '../scenarios.js';
import { startSimulatedSwapCabinets, type SimulatedSwapCabinets } from './index.js';
import type { SimSwapCabinet } from './sim-swap-cabinet.js';

/** A rider at every cabinet: a flat pack into an unlocked empty slot, then the unlocked full pack out. */
export function riders(sim: SimulatedSwapCabinets, every = 500): { stop(): void } {
  let n = 0;
  const act = (c: SimSwapCabinet): void => {
    for (const s of c.slots) {
      if (s.doorLocked || s.isolated) continue;
      if (!s.pack) c.riderReturns(s.slot, { id: `GH-RIDER-${++n}`.slice(0, 16), soc: 0.12 });
      else c.riderTakes(s.slot);
    }
  };
  const t = setInterval(() => sim.cabinets.forEach(act), every);
  return { stop: () => clearInterval(t) };
}

export const scenario: DemoScenario = {
  family: 'swap',
  order: 25,
  async prepare(config) {
    if (config.swapCabinets.length === 0) return undefined;
    const sim = await startSimulatedSwapCabinets({
      tcp: config.swapCabinets
        .filter((c) => 'tcp' in c.bus)
        .map((c) => ({ id: c.id, slots: c.slots, port: 0, host: '127.0.0.1', suppression: c.suppression })),
      stock: {},
    });
    const swapCabinets = config.swapCabinets.map((c): SwapCabinetConfig =>
      'tcp' in c.bus ? { ...c, bus: { tcp: { host: '127.0.0.1', port: sim.tcpPort(c.id) } } } : c,
    );
    const rider = riders(sim);
    const cab = swapCabinets[0]!;
    let scripted: { stop(): void } | undefined;
    return {
      config: { swapCabinets, swap: { ...config.swap, packIdPrefixes: ['GH-', ...config.swap.packIdPrefixes] } },
      async run(host) {
        scripted = authorizeOnceRead(host, cab.id);
      },
      banner: (pub) => [
        `  ${swapCabinets.length} simulated battery-swap cabinet(s); authorise a swap:`,
        `    ${pub('swap.authorize', { cabinet: cab.id })}`,
      ],
      halt: () => {
        scripted?.stop();
        rider.stop();
      },
      stop: () => sim.stop(),
    };
  },
  async simulate(config: CompoundConfig) {
    if (config.swapCabinets.length === 0) return undefined;
    const started = await simulating('swap cabinets', () => startSwapCabinetsOf(config.swapCabinets));
    const rs = started.map((s) => riders(s));
    return {
      lines: config.swapCabinets.map((c) => {
        const where = 'tcp' in c.bus ? `Modbus TCP ${c.bus.tcp.host}:${c.bus.tcp.port}` : `Modbus RTU ${c.bus.rtu.path} unit ${c.unitId}`;
        return `simulating swap cabinet ${c.id} (${c.slots} slots) on ${where}`;
      }),
      stop: async () => {
        rs.forEach((r) => r.stop());
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  },
};

/**
 * The demo's one scripted swap: authorised the way the platform's app would, as soon as the
 * gateway has read the cabinet (its retained state is there; before that the cabinet refuses
 * with `no_reading`, which would only clutter the feed). The rider does the rest.
 */
function authorizeOnceRead(host: DemoHost, cabinet: string): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let tries = 0;
  const attempt = (): void => {
    if (stopped) return;
    if (host.state(cabinet) === undefined) {
      timer = setTimeout(attempt, 200);
      return;
    }
    // A fresh id per attempt: the router answers a repeated id from its replay store.
    void host.execute('swap.authorize', { cabinet, rider: 'demo-rider' }, `demo-swap-${++tries}`).then((reply) => {
      // Refused (a slot still settling, say): a few more tries rather than a demo without its swap.
      if (!reply.ok && !stopped && tries < 10) timer = setTimeout(attempt, 500);
    });
  };
  attempt();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The swap cabinets of a compound file where the gateway will look for them (RTU: the other end of the line, as sim/cabinet says). */
export async function startSwapCabinetsOf(cabinets: readonly SwapCabinetConfig[]): Promise<SimulatedSwapCabinets[]> {
  const started: SimulatedSwapCabinets[] = [];
  try {
    const tcp = cabinets.flatMap((c) =>
      'tcp' in c.bus ? [{ id: c.id, slots: c.slots, host: c.bus.tcp.host, port: c.bus.tcp.port, suppression: c.suppression }] : [],
    );
    if (tcp.length) started.push(await startSimulatedSwapCabinets({ tcp, stock: {} }));
    const lines = new Map<string, { baudRate: number; units: { id: string; slots: number; unitId: number; suppression: boolean }[] }>();
    for (const c of cabinets) {
      if (!('rtu' in c.bus)) continue;
      const line = lines.get(c.bus.rtu.path) ?? { baudRate: c.bus.rtu.baudRate, units: [] };
      line.units.push({ id: c.id, slots: c.slots, unitId: c.unitId, suppression: c.suppression });
      lines.set(c.bus.rtu.path, line);
    }
    for (const [path, line] of lines) started.push(await startSimulatedSwapCabinets({ rtu: { path, ...line }, stock: {} }));
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return started;
}
