/**
 * The live check of the charging cabinets (`gatehouse check --devices`): the identification
 * block (vendor, model, serial, firmware, register map version, ports) and one full poll
 * (status and every port), decoded with the gateway's own decoder. Through the daemon's bus
 * when it runs (the request queues with its polls, never beside them on the wire), on a bus
 * of its own otherwise.
 */
import type { CabinetConfig, CompoundConfig } from '../../config/schema.js';
import { cabinetBusKey } from '../../config/schema.js';
import { decodePollFields } from '../../drivers/cabinet/reading-decode.js';
import { decodeIdentity, identityRead, pollPlan } from '../../drivers/cabinet/registers.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import type { DeviceProbeResult, FamilyProbe } from '../families/family.js';
import { lineFailure, modbusFailure, unitWhere, withProbeBuses } from '../modbus/probe-bus.js';
import { transportFor } from './cabinet-service.js';
import type { CabinetsInstance } from './create-cabinets.js';

export const probe: FamilyProbe<CompoundConfig>['probe'] = async (ctx) => {
  const cabinets = ctx.config.cabinets;
  if (!cabinets.length) return [];
  const running = ctx.running as CabinetsInstance | undefined;
  const one = async (cfg: CabinetConfig, bus: ModbusBus | { lineError: string } | undefined): Promise<DeviceProbeResult> => {
    const where = unitWhere(transportFor(cfg), cfg.unitId);
    ctx.progress(`checking cabinet ${cfg.id} (${where})…`);
    const result = await probeCabinet(cfg, bus);
    ctx.progress(`cabinet ${cfg.id}: ${result.ok ? 'OK' : `FAIL (${result.status})`}`);
    return result;
  };
  if (running) {
    const results: DeviceProbeResult[] = [];
    for (const cfg of cabinets) results.push(await one(cfg, running.service.busOf(cfg.id)));
    return results;
  }
  return withProbeBuses(ctx, cabinets, (c) => ({ key: cabinetBusKey(c.bus), transport: transportFor(c) }), one);
};

async function probeCabinet(cfg: CabinetConfig, bus: ModbusBus | { lineError: string } | undefined): Promise<DeviceProbeResult> {
  const transport = transportFor(cfg);
  const where = unitWhere(transport, cfg.unitId);
  const base = { id: cfg.id, kind: 'cabinet' };
  if (!bus) return { ...base, ok: false, status: 'NO LINE', detail: 'the daemon has no bus for it', advice: 'restart the daemon' };
  if ('lineError' in bus) return { ...base, ok: false, ...lineFailure(bus.lineError, transport) };
  let stage = 'identification';
  try {
    const r = identityRead();
    const id = decodeIdentity(await bus.read(cfg.unitId, r.fc, r.address, r.count, { priority: 'low' }));
    stage = 'poll';
    const n = Math.min(cfg.ports, id.portCount);
    const answers: number[][] = [];
    for (const p of pollPlan(n)) answers.push(await bus.read(cfg.unitId, p.fc, p.address, p.count, { priority: 'low' }));
    const { status, ports, faults } = decodePollFields(n, answers);
    const identity = {
      vendor: id.vendor,
      model: id.model,
      serial: id.serial,
      firmware: id.firmware,
      map: `${id.mapVersion.major}.${id.mapVersion.minor}`,
      ports: String(id.portCount),
    };
    const warnings: string[] = [];
    if (id.portCount < cfg.ports) warnings.push(`cabinet ${cfg.id} reports ${id.portCount} port(s), the compound file says ${cfg.ports}`);
    if (!status.mainsPresent) warnings.push(`cabinet ${cfg.id} reports no mains power`);
    if (status.smoke) warnings.push(`cabinet ${cfg.id} reports smoke`);
    if (status.doorOpen) warnings.push(`cabinet ${cfg.id} door is open`);
    const detail =
      `${id.vendor} ${id.model} serial ${id.serial} firmware ${id.firmware} map ${identity.map}; ` +
      `${status.mainsVoltage} V, ${status.temperature} °C, ports ${ports.map((p) => `${p.port}:${p.state}`).join(' ')}`;
    if (faults.length)
      return {
        ...base,
        identity,
        ok: false,
        status: 'BAD VALUES',
        detail: `${detail}; ${faults.length} value(s) outside the register map: ${faults.map((f) => f.message).join('; ')}`,
        advice: `${where} answers with values outside docs/cabinet-register-map.md: ask the cabinet vendor for firmware that implements map ${identity.map} correctly`,
      };
    return { ...base, identity, ok: true, status: 'online', detail, ...(warnings.length ? { warnings } : {}) };
  } catch (err) {
    return { ...base, ok: false, ...withStage(modbusFailure(err, where, 'cabinet'), stage) };
  }
}

function withStage(f: { status: string; detail: string; advice: string }, stage: string) {
  return stage === 'identification' ? f : { ...f, detail: `${f.detail} (after the identification, during the poll)` };
}
