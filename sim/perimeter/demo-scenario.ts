/**
 * The perimeter part of `gatehouse demo`: a simulated input module on Modbus TCP on a free port
 * (IR beams along the north wall, a tamper switch, an SOS pole, a siren relay). The north
 * partition is armed at start (a `partition.arm` command) and an intruder walks along the wall
 * every ~20 s; each beam crossed is told to the other scenarios (`zone-tripped`: the camera
 * walks the intruder into its picture, issue 6).
 *
 * Also `startInputModulesOf`, for `gatehouse sim --config FILE`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CompoundConfig, InputModuleConfig } from '../../config/schema.js';
import { simulating, type DemoScenario } from '../scenarios.js';
import { startSimulatedInputModules, type SimInputModuleOptions, type SimulatedInputModules, type SimZone } from './index.js';

const INTRUDER_EVERY_MS = 20_000;

export const scenario: DemoScenario = {
  family: 'perimeter',
  order: 40,
  async prepare(config, _say, story) {
    if (config.inputModules.length === 0) return undefined;
    const tcpModules = config.inputModules.filter((m) => 'tcp' in m.bus);
    const zones = simZones(config, new Set(tcpModules.map((m) => m.id)));
    const modules = await startSimulatedInputModules({
      tcp: tcpModules.map((m) => ({ ...moduleSpec(m), port: 0, host: '127.0.0.1' })),
      zones,
    });
    const beams = config.zones
      .filter((z) => z.type === 'perimeter' && z.partition === 'north' && modules.modules.some((m) => m.id === z.module))
      .map((z) => z.id);
    const abort = new AbortController();
    const pause = (ms: number): Promise<boolean> =>
      sleep(ms, undefined, { signal: abort.signal }).then(
        () => true,
        () => false,
      );
    const stopped = new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    let loop: Promise<void> = Promise.resolve();

    // A zone tripped, observed at the simulated module's input: it holds however the beam gets crossed.
    for (const mod of modules.modules) {
      const mine = config.zones.filter((z) => z.module === mod.id);
      const setInput = mod.setInput.bind(mod);
      mod.setInput = (channel, active) => {
        const before = mod.inputs[channel];
        setInput(channel, active);
        for (const z of mine) {
          const tripped = z.contact === 'NC' ? !active : active;
          if (channel === z.channel && before !== active && tripped && !abort.signal.aborted) story.emit('zone-tripped', z.id);
        }
      };
    }

    return {
      config: {
        inputModules: config.inputModules.map((m): InputModuleConfig =>
          'tcp' in m.bus ? { ...m, bus: { tcp: { host: '127.0.0.1', port: modules.tcpPort(m.id) } } } : m,
        ),
      },
      async run(host, say) {
        const armed = await host.execute('partition.arm', { partition: 'north' }, `demo-arm-${Date.now()}`);
        if (!armed.ok) say(`  (north wall not armed: ${JSON.stringify(armed)})`);
        loop = (async () => {
          let wait = 4000;
          while (await pause(wait)) {
            // A cancelled walk never ends: the stop signal ends the wait for it.
            await Promise.race([modules.scenario.intruder(beams, { stepMs: 1500, crossMs: 600 }), stopped]);
            wait = INTRUDER_EVERY_MS - 1500 * Math.max(0, beams.length - 1);
          }
        })();
      },
      banner: (pub) => [
        `  perimeter: input module ${config.inputModules.map((m) => m.id).join(', ')} on Modbus TCP, ${config.zones.length} zones, north wall armed, siren ${config.outputs.map((o) => o.id).join(', ')}; an intruder every ~${INTRUDER_EVERY_MS / 1000} s. Disarm / arm the north wall:`,
        `    ${pub('partition.disarm', { partition: 'north' })}`,
        `    ${pub('partition.arm', { partition: 'north' })}`,
        `  alarms: list the open ones, then acknowledge one (ALARM=an alarmId from the feed):`,
        `    ${pub('alarm.list', {})}`,
        // The alarmId comes from the shell: close the quote around the JSON, put "$ALARM" in, reopen.
        `    ${pub('alarm.acknowledge', { alarmId: '__ALARM__', note: 'guard on the way' }).replace('__ALARM__', `'"$ALARM"'`)}`,
      ],
      halt() {
        abort.abort();
        modules.scenario.cancel();
      },
      async stop() {
        abort.abort();
        await loop;
        await modules.stop();
      },
    };
  },
  async simulate(config) {
    if (config.inputModules.length === 0) return undefined;
    return simulating('input modules', () => startInputModulesOf(config));
  },
};

/** The sim's view of a configured module: where its inputs, supervision and relays are. */
function moduleSpec(m: InputModuleConfig): SimInputModuleOptions {
  return {
    id: m.id,
    channels: m.channels,
    ...(m.inputs.table === 'discrete' ? { inputAddress: m.inputs.address } : { inputRegister: m.inputs.address }),
    ...(m.supervision ? { supervisionAddress: m.supervision.address } : {}),
    ...(m.outputs ? { coilAddress: m.outputs.address, coils: m.outputs.count } : {}),
  };
}

/** The zones on the given modules, so NC beams start receiving (normal) and scenarios speak zones. */
function simZones(config: CompoundConfig, modules: ReadonlySet<string>): SimZone[] {
  return config.zones
    .filter((z) => modules.has(z.module))
    .map((z) => ({ id: z.id, module: z.module, channel: z.channel, contact: z.contact }));
}

/**
 * `gatehouse sim --config FILE`: the input modules of FILE. TCP modules listen on their
 * configured host:port; RTU modules answer on the serial path of their bus, all units of one
 * path on one line — like RTU cabinets, the sim gets the OTHER end of the line from the gateway's.
 */
export async function startInputModulesOf(config: CompoundConfig): Promise<{ lines: string[]; stop(): Promise<void> }> {
  const lines: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const tcp = config.inputModules.filter((m) => 'tcp' in m.bus);
    if (tcp.length) {
      const sim = await startSimulatedInputModules({
        tcp: tcp.map((m) => ({
          ...moduleSpec(m),
          host: 'tcp' in m.bus ? m.bus.tcp.host : '127.0.0.1',
          port: 'tcp' in m.bus ? m.bus.tcp.port : 0,
        })),
        zones: simZones(config, new Set(tcp.map((m) => m.id))),
      });
      stops.push(() => sim.stop());
      for (const m of tcp)
        if ('tcp' in m.bus)
          lines.push(`simulating input module ${m.id} (${m.channels} channels) on Modbus TCP ${m.bus.tcp.host}:${m.bus.tcp.port}`);
    }
    const rtuLines = new Map<string, { baudRate: number; units: InputModuleConfig[] }>();
    for (const m of config.inputModules) {
      if (!('rtu' in m.bus)) continue;
      const line = rtuLines.get(m.bus.rtu.path) ?? { baudRate: m.bus.rtu.baudRate, units: [] };
      line.units.push(m);
      rtuLines.set(m.bus.rtu.path, line);
    }
    for (const [path, line] of rtuLines) {
      const sim: SimulatedInputModules = await startSimulatedInputModules({
        rtu: { path, baudRate: line.baudRate, units: line.units.map((m) => ({ ...moduleSpec(m), unitId: m.unitId })) },
        zones: simZones(config, new Set(line.units.map((m) => m.id))),
      });
      stops.push(() => sim.stop());
      for (const m of line.units)
        lines.push(
          `simulating input module ${m.id} (${m.channels} channels) on Modbus RTU ${path} unit ${m.unitId} (give the gateway the other end of the line)`,
        );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { lines, stop };
}
