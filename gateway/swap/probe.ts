/**
 * The live check of the battery-swap cabinets (`gatehouse check --devices`): the identification
 * and kind blocks (vendor, model, serial, firmware, register map 1.1 kind 2, slots) and one full
 * poll (cabinet block and every slot), decoded with the gateway's own decoder, so a cabinet that
 * passes here is one the daemon can run. Through the daemon's bus when it runs (the reads queue
 * with its polls), on a bus of its own otherwise.
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { SwapCabinetConfig } from '../../config/swap-schema.js';
import {
  decodeSwapIdentity,
  decodeSwapPoll,
  identityRead,
  kindRead,
  needsKindRead,
  swapPollPlan,
  type RegisterRead,
} from '../../drivers/swap/registers.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import { toGatehouseError } from '../core/errors.js';
import type { DeviceProbeResult, FamilyProbe } from '../families/family.js';
import { lineFailure, modbusFailure, unitWhere, withProbeBuses } from '../modbus/probe-bus.js';
import type { SwapInstance } from './create-swap.js';
import { swapBusKey, transportFor } from './swap-service.js';

export const probe: FamilyProbe<CompoundConfig>['probe'] = async (ctx) => {
  const cabinets = ctx.config.swapCabinets;
  if (!cabinets.length) return [];
  const running = ctx.running as SwapInstance | undefined;
  const one = async (cfg: SwapCabinetConfig, bus: ModbusBus | { lineError: string } | undefined): Promise<DeviceProbeResult> => {
    ctx.progress(`checking swap cabinet ${cfg.id} (${unitWhere(transportFor(cfg), cfg.unitId)})…`);
    const result = await probeSwapCabinet(cfg, bus);
    ctx.progress(`swap cabinet ${cfg.id}: ${result.ok ? 'OK' : `FAIL (${result.status})`}`);
    return result;
  };
  if (running) {
    const results: DeviceProbeResult[] = [];
    for (const cfg of cabinets) results.push(await one(cfg, running.service.busOf(cfg.id)));
    return results;
  }
  return withProbeBuses(ctx, cabinets, (c) => ({ key: swapBusKey(c), transport: transportFor(c) }), one);
};

async function probeSwapCabinet(cfg: SwapCabinetConfig, bus: ModbusBus | { lineError: string } | undefined): Promise<DeviceProbeResult> {
  const transport = transportFor(cfg);
  const where = unitWhere(transport, cfg.unitId);
  const base = { id: cfg.id, kind: 'swap cabinet' };
  if (!bus) return { ...base, ok: false, status: 'NO LINE', detail: 'the daemon has no bus for it', advice: 'restart the daemon' };
  if ('lineError' in bus) return { ...base, ok: false, ...lineFailure(bus.lineError, transport) };
  let stage = 'identification';
  const read = (r: RegisterRead) => bus.read(cfg.unitId, r.fc, r.address, r.count, { priority: 'low' });
  try {
    const identityWords = await read(identityRead());
    // A v1.0 charging cabinet (or another device) answers the identity block: say so rather than read registers it lacks.
    if (!needsKindRead(identityWords))
      return {
        ...base,
        ok: false,
        status: 'WRONG KIND',
        detail: `${where} is not a register map 1.1 (or later 1.x) cabinet`,
        advice: `${where} answers, but not as a battery-swap cabinet (map 1.1, kind 2): check the unit id and address, or move it to cabinets: if it is a charging cabinet`,
      };
    let id;
    try {
      id = decodeSwapIdentity(identityWords, await read(kindRead()));
    } catch (err) {
      const e = toGatehouseError(err);
      if (e.code !== 'DEVICE_PROTOCOL') throw err;
      return {
        ...base,
        ok: false,
        status: 'WRONG KIND',
        detail: `${where}: ${e.message}`,
        advice: `${where} answers, but not as a battery-swap cabinet (map 1.1, kind 2): check the unit id and address, or move it to cabinets: if it is a charging cabinet`,
      };
    }
    stage = 'poll';
    const n = Math.min(cfg.slots, id.slotCount);
    const answers: number[][] = [];
    for (const r of swapPollPlan(n)) answers.push(await read(r));
    const identity = {
      vendor: id.vendor,
      model: id.model,
      serial: id.serial,
      firmware: id.firmware,
      map: `${id.mapVersion.major}.${id.mapVersion.minor}`,
      slots: String(id.slotCount),
    };
    let poll;
    try {
      poll = decodeSwapPoll(n, answers);
    } catch (err) {
      return {
        ...base,
        identity,
        ok: false,
        status: 'BAD VALUES',
        detail: `${where}: ${toGatehouseError(err).message}`,
        advice: `${where} answers with values outside docs/cabinet-register-map.md §10: ask the cabinet vendor for firmware that implements map ${identity.map} correctly`,
      };
    }
    const { status, slots } = poll;
    const warnings: string[] = [];
    if (id.slotCount < cfg.slots)
      warnings.push(`swap cabinet ${cfg.id} reports ${id.slotCount} slot(s), the compound file says ${cfg.slots}`);
    if (!status.mainsPresent) warnings.push(`swap cabinet ${cfg.id} reports no mains power`);
    if (!status.powerOn) warnings.push(`swap cabinet ${cfg.id} has its power cut`);
    if (status.smoke) warnings.push(`swap cabinet ${cfg.id} reports smoke`);
    if (status.doorOpen) warnings.push(`swap cabinet ${cfg.id} door is open`);
    if (cfg.suppression && status.suppression !== 'ready')
      warnings.push(`swap cabinet ${cfg.id}: fire suppression is configured but reports ${status.suppression}`);
    const faulty = slots.filter((s) => s.bmsFaults !== 0 || s.faultCode !== 0 || s.isolated).map((s) => s.slot);
    if (faulty.length) warnings.push(`swap cabinet ${cfg.id}: slot(s) ${faulty.join(', ')} report a fault or are isolated`);
    const packs = slots.filter((s) => s.present);
    const detail =
      `${id.vendor} ${id.model} serial ${id.serial} firmware ${id.firmware} map ${identity.map}; ` +
      `${status.mainsVoltage} V, ${status.temperature} °C, suppression ${status.suppression}; ` +
      `${packs.length}/${n} slot(s) hold a pack${packs.length ? ` (SoC ${packs.map((s) => `${s.slot}:${s.soc}%`).join(' ')})` : ''}`;
    return { ...base, identity, ok: true, status: 'online', detail, ...(warnings.length ? { warnings } : {}) };
  } catch (err) {
    const f = modbusFailure(err, where, 'swap cabinet');
    return {
      ...base,
      ok: false,
      ...(stage === 'identification' ? f : { ...f, detail: `${f.detail} (after the identification, during the poll)` }),
    };
  }
}
