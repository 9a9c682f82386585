/**
 * `startSimulatedInputModules`: digital input modules (8/16 channels, supervision register,
 * relay coils) as Modbus TCP servers (one per module) and as RTU units sharing one serial
 * line (e.g. the `b` end of a socat pty pair), on the same servers as the simulated
 * cabinets, with a scenario driving them by zone.
 */
import { pino } from 'pino';
import { realTimers, type Timers } from '../../gateway/core/clock.js';
import type { Logger } from '../../gateway/core/log.js';
import { ModbusRtuLine, ModbusTcpServer } from '../modbus/servers.js';
import { PerimeterScenario, type SimZone } from './scenario.js';
import { SimInputModule, type SimInputModuleOptions } from './sim-module.js';

export { SimInputModule, type SimInputModuleOptions } from './sim-module.js';
export { PerimeterScenario, type SimZone } from './scenario.js';
export { createPtyPair, requireSocat, type PtyPair } from '../cabinet/pty.js';

export interface SimulatedInputModulesOptions {
  /** One Modbus TCP server per module; port 0 picks a free one (see `tcpPort(id)`). */
  tcp?: (SimInputModuleOptions & { port: number; host?: string })[];
  /** Several modules on one serial line. */
  rtu?: { path: string; baudRate: number; emulateWire?: boolean; units: (SimInputModuleOptions & { unitId: number })[] };
  /** Zones for the scenario (contact type decides what "tripped" means electrically); all start normal. */
  zones?: SimZone[];
  timers?: Timers;
  log?: Logger;
}

export interface SimulatedInputModules {
  modules: SimInputModule[];
  module(id: string): SimInputModule;
  tcpPort(id: string): number;
  rtuLine: ModbusRtuLine | undefined;
  scenario: PerimeterScenario;
  /** A relay output's state (siren on?). */
  coil(module: string, index: number): boolean;
  /** Drops a module's TCP connections (a module rebooting). */
  dropConnections(id: string): void;
  stop(): Promise<void>;
}

export async function startSimulatedInputModules(opts: SimulatedInputModulesOptions): Promise<SimulatedInputModules> {
  const timers = opts.timers ?? realTimers;
  const log = opts.log ?? pino({ level: 'silent' });
  const byId = new Map<string, SimInputModule>();
  const make = (spec: SimInputModuleOptions): SimInputModule => {
    if (byId.has(spec.id)) throw new Error(`input module id "${spec.id}" is used twice`);
    const m = new SimInputModule(spec);
    byId.set(spec.id, m);
    return m;
  };
  const tcpServers = new Map<string, ModbusTcpServer>();
  let rtuLine: ModbusRtuLine | undefined;
  const cleanup = async () => {
    await Promise.all([...tcpServers.values()].map((s) => s.stop()));
    await rtuLine?.stop();
  };
  // Modules and the scenario first: the zones are quiet before anyone can poll.
  for (const spec of opts.tcp ?? []) make(spec);
  for (const spec of opts.rtu?.units ?? []) make(spec);
  const scenario = new PerimeterScenario(byId, opts.zones ?? [], timers);
  scenario.quiet();
  try {
    for (const spec of opts.tcp ?? []) {
      const server = new ModbusTcpServer(byId.get(spec.id)!, { port: spec.port, host: spec.host, timers, log });
      tcpServers.set(spec.id, server);
      await server.start();
    }
    if (opts.rtu) {
      rtuLine = new ModbusRtuLine({ path: opts.rtu.path, baudRate: opts.rtu.baudRate, emulateWire: opts.rtu.emulateWire, timers, log });
      for (const u of opts.rtu.units) rtuLine.attach(u.unitId, byId.get(u.id)!);
      await rtuLine.start();
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  const module = (id: string): SimInputModule => {
    const m = byId.get(id);
    if (!m) throw new Error(`no simulated input module "${id}"`);
    return m;
  };
  return {
    modules: [...byId.values()],
    module,
    rtuLine,
    scenario,
    tcpPort(id) {
      const s = tcpServers.get(id);
      if (!s) throw new Error(`input module "${id}" is not served over TCP`);
      return s.port;
    },
    coil: (m, index) => module(m).coil(index),
    dropConnections: (id) => tcpServers.get(id)?.dropConnections(),
    async stop() {
      scenario.cancel();
      await cleanup();
    },
  };
}
