/**
 * The live check of the perimeter input modules (`gatehouse check --devices`): one full poll
 * of each module (its inputs and, with line supervision, its fault bits). Generic modules
 * have no identification registers, so the poll is the proof that the configured unit
 * answers with the configured table. Through the daemon's bus when it runs, on a bus of its
 * own otherwise.
 */
import type { CompoundConfig, InputModuleConfig } from '../../config/schema.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import type { DeviceProbeResult, FamilyProbe } from '../families/family.js';
import { lineFailure, modbusFailure, unitWhere, withProbeBuses } from '../modbus/probe-bus.js';
import type { PerimeterInstance } from './create-perimeter.js';
import { readModule } from './input-module.js';
import { transportOf } from './perimeter-service.js';

const bits = (b: readonly boolean[]): string => b.map((x) => (x ? '1' : '0')).join('');

export const probe: FamilyProbe<CompoundConfig>['probe'] = async (ctx) => {
  const modules = ctx.config.inputModules;
  if (!modules.length) return [];
  const running = ctx.running as PerimeterInstance | undefined;
  const one = async (
    cfg: InputModuleConfig,
    read: (() => ReturnType<typeof readModule>) | { lineError: string },
  ): Promise<DeviceProbeResult> => {
    const transport = transportOf(cfg);
    const where = unitWhere(transport, cfg.unitId);
    ctx.progress(`checking input module ${cfg.id} (${where})…`);
    const base = { id: cfg.id, kind: 'module' };
    let result: DeviceProbeResult;
    if ('lineError' in read) result = { ...base, ok: false, ...lineFailure(read.lineError, transport) };
    else {
      try {
        const { inputs, faults } = await read();
        const cut = faults.flatMap((f, i) => (f ? [i] : []));
        result = {
          ...base,
          ok: true,
          status: 'online',
          detail: `${cfg.channels} channels (${cfg.inputs.table} from ${cfg.inputs.address}), inputs ${bits(inputs)}${cfg.supervision ? `, line faults ${cut.length ? cut.join(',') : 'none'}` : ''}`,
          identity: { channels: String(cfg.channels), table: cfg.inputs.table },
          ...(cut.length ? { warnings: cut.map((c) => `input module ${cfg.id} channel ${c}: the line is cut or shorted`) } : {}),
        };
      } catch (err) {
        result = { ...base, ok: false, ...modbusFailure(err, where, 'input module') };
      }
    }
    ctx.progress(`input module ${cfg.id}: ${result.ok ? 'OK' : `FAIL (${result.status})`}`);
    return result;
  };
  if (running) {
    const results: DeviceProbeResult[] = [];
    for (const cfg of modules) {
      const unit = running.service.module(cfg.id);
      results.push(await one(cfg, unit ? () => unit.read() : { lineError: 'the daemon has no bus for it' }));
    }
    return results;
  }
  const key = (m: InputModuleConfig): string => ('rtu' in m.bus ? `rtu:${m.bus.rtu.path}` : `tcp:${m.bus.tcp.host}:${m.bus.tcp.port}`);
  return withProbeBuses(
    ctx,
    modules,
    (m) => ({ key: key(m), transport: transportOf(m) }),
    (m, bus: ModbusBus | { lineError: string }) => one(m, 'lineError' in bus ? bus : () => readModule(bus, m, 'low')),
  );
};
