/**
 * The battery-swap cabinet codec (register map v1.1, docs/cabinet-register-map.md section
 * 10): register words <-> typed readings and commands. Pure functions, no I/O. A value the
 * map cannot carry is DEVICE_PROTOCOL (the safety logic never acts on a guess); a command
 * the map cannot carry is CMD_INVALID before anything goes on the wire.
 */
import type { GatehouseError } from '../../gateway/core/errors.js';
import { CABINET, CABINET_CONTROL, FC, IDENTITY, MAX_READ_REGISTERS } from '../cabinet/register-map.js';
import {
  bool,
  checkWords,
  decodeSignature,
  hasSignature,
  invalid,
  protocol,
  s16,
  text,
  textWords,
  u32,
  type RegisterRead,
  type RegisterWrite,
} from '../cabinet/signature.js';
import {
  CABINET_KIND,
  CABINET_TRIGGER_SUPPRESSION,
  CHARGER_STATES,
  KIND_BLOCK,
  MAX_OPEN_TIMEOUT_S,
  MAX_SLOTS,
  SLOT,
  SLOT_COMMAND,
  SLOT_CONTROL,
  SLOTS_PER_READ,
  SUPPRESSION_OFFSET,
  SUPPRESSION_STATES,
  slotBlockAddress,
  slotControlAddress,
} from './register-map.js';
import type { SlotReading, SwapCabinetStatus, SwapCommand, SwapIdentity } from './types.js';

export type { RegisterRead, RegisterWrite };

function checkSlot(slot: number, max: number, err: (m: string) => GatehouseError): void {
  if (!Number.isInteger(slot) || slot < 1 || slot > max) throw err(`slot ${slot} is outside 1-${max}`);
}

// ---- decoding (gateway side) ------------------------------------------------------

/** The kind block read: only for a cabinet whose identity says minor ≥ 1. */
export function kindRead(): RegisterRead {
  return { fc: FC.readInput, address: KIND_BLOCK.address, count: KIND_BLOCK.count };
}

export function identityRead(): RegisterRead {
  return { fc: FC.readInput, address: IDENTITY.address, count: IDENTITY.count };
}

/** Whether an identity block (0x0000 ×32) may belong to a swap cabinet: then read the kind block. */
export function needsKindRead(identity: readonly number[]): boolean {
  return hasSignature(identity) && identity[IDENTITY.major] === 1 && (identity[IDENTITY.minor] ?? 0) >= 1;
}

/** Identity of a swap cabinet from the identity block and the kind block; anything else is DEVICE_PROTOCOL. */
export function decodeSwapIdentity(identity: readonly number[], kind: readonly number[]): SwapIdentity {
  const sig = decodeSignature(identity);
  checkWords(kind, KIND_BLOCK.count, 'kind block');
  const { major, minor } = sig.mapVersion;
  if (minor < 1) throw protocol(`register map ${major}.${minor} has no battery-swap cabinets (1.1 or a later 1.x)`);
  if (kind[KIND_BLOCK.kind] !== CABINET_KIND.swap)
    throw protocol(`cabinet kind ${kind[KIND_BLOCK.kind]} at 0x0020 is not a battery-swap cabinet (2)`, { kind: kind[KIND_BLOCK.kind] });
  const slotCount = kind[KIND_BLOCK.slotCount]!;
  if (slotCount < 1 || slotCount > MAX_SLOTS) throw protocol(`slot count ${slotCount} is outside 1-${MAX_SLOTS}`);
  const { vendor, model, serial, firmware, mapVersion } = sig;
  return { vendor, model, serial, firmware, mapVersion, slotCount };
}

export function decodeSwapStatus(words: readonly number[]): SwapCabinetStatus {
  checkWords(words, CABINET.count, 'cabinet block');
  const suppression = SUPPRESSION_STATES[words[SUPPRESSION_OFFSET]!];
  if (suppression === undefined) throw protocol(`fire suppression state ${words[SUPPRESSION_OFFSET]} is not 0-3`);
  return {
    mainsVoltage: words[CABINET.mainsVoltage]! / 10,
    mainsPresent: bool(words, CABINET.mainsPresent, 'mains present'),
    temperature: s16(words[CABINET.temperature]!) / 10,
    smoke: bool(words, CABINET.smoke, 'smoke'),
    doorOpen: bool(words, CABINET.doorOpen, 'door open'),
    fanOn: bool(words, CABINET.fanOn, 'fan on'),
    powerOn: bool(words, CABINET.powerOn, 'power on'),
    uptimeS: u32(words, CABINET.uptime),
    suppression,
  };
}

export function decodeSlot(words: readonly number[], slot: number): SlotReading {
  checkSlot(slot, MAX_SLOTS, protocol);
  checkWords(words, SLOT.stride, `slot ${slot} block`);
  const charger = CHARGER_STATES[words[SLOT.charger]!];
  if (charger === undefined) throw protocol(`slot ${slot}: unknown charger state ${words[SLOT.charger]}`, { slot });
  const soc = words[SLOT.soc]!;
  const health = words[SLOT.health]!;
  if (soc > 100 || health > 100) throw protocol(`slot ${slot}: state of charge ${soc} % or health ${health} % above 100`, { slot });
  const at = (what: string): string => `slot ${slot} ${what}`;
  return {
    slot,
    doorLocked: bool(words, SLOT.doorLocked, at('door locked')),
    doorOpen: bool(words, SLOT.doorOpen, at('door open')),
    present: bool(words, SLOT.present, at('battery present')),
    charger,
    faultCode: words[SLOT.faultCode]!,
    soc,
    voltage: words[SLOT.voltage]! / 10,
    current: s16(words[SLOT.current]!) / 100,
    temperature: s16(words[SLOT.temperature]!) / 10,
    cycles: words[SLOT.cycles]!,
    health,
    bmsFaults: words[SLOT.bmsFaults]!,
    batteryId: text(words, SLOT.batteryId.offset, SLOT.batteryId.words, at('battery id')),
    energyWh: words[SLOT.energyWh]!,
    chargeEnabled: bool(words, SLOT.chargeEnabled, at('charge enabled')),
    isolated: bool(words, SLOT.isolated, at('isolated')),
    openRemainingS: words[SLOT.openRemaining]!,
  };
}

/** One poll: the cabinet block, then slot blocks in requests of whole blocks (5 × 24 = 120 ≤ 125). */
export function swapPollPlan(slotCount: number): RegisterRead[] {
  checkSlot(slotCount, MAX_SLOTS, invalid);
  const reads: RegisterRead[] = [{ fc: FC.readInput, address: CABINET.address, count: CABINET.count }];
  for (let s = 1; s <= slotCount; s += SLOTS_PER_READ) {
    const n = Math.min(SLOTS_PER_READ, slotCount - s + 1);
    reads.push({ fc: FC.readInput, address: slotBlockAddress(s), count: n * SLOT.stride });
  }
  if (reads.some((r) => r.count > MAX_READ_REGISTERS)) throw invalid('a poll read exceeds 125 registers');
  return reads;
}

/** Splits the answers to `swapPollPlan(slotCount)`, in order, into readings. */
export function decodeSwapPoll(
  slotCount: number,
  answers: readonly (readonly number[])[],
): { status: SwapCabinetStatus; slots: SlotReading[] } {
  const plan = swapPollPlan(slotCount);
  if (answers.length !== plan.length) throw protocol(`poll: expected ${plan.length} answers, got ${answers.length}`);
  plan.forEach((r, i) => {
    if (answers[i]!.length !== r.count)
      throw protocol(`poll read at 0x${r.address.toString(16)}: expected ${r.count} registers, got ${answers[i]!.length}`);
  });
  const slotWords = answers.slice(1).flat();
  const slots: SlotReading[] = [];
  for (let s = 1; s <= slotCount; s++) slots.push(decodeSlot(slotWords.slice((s - 1) * SLOT.stride, s * SLOT.stride), s));
  return { status: decodeSwapStatus(answers[0]!), slots };
}

// ---- commands (gateway side) ------------------------------------------------------

/** The one Modbus request that carries a command (FC 06 for a single register, FC 16 for parameter + command). */
export function encodeSwapCommand(cmd: SwapCommand, slotCount: number = MAX_SLOTS): RegisterWrite {
  if (cmd.kind === 'cabinetPower')
    return { fc: FC.writeSingle, address: CABINET_CONTROL.address, values: [cmd.on ? CABINET_CONTROL.powerOn : CABINET_CONTROL.powerCut] };
  if (cmd.kind === 'suppress') return { fc: FC.writeSingle, address: CABINET_CONTROL.address, values: [CABINET_TRIGGER_SUPPRESSION] };
  checkSlot(cmd.slot, Math.min(slotCount, MAX_SLOTS), invalid);
  const base = slotControlAddress(cmd.slot);
  const single = (code: number): RegisterWrite => ({ fc: FC.writeSingle, address: base + SLOT_CONTROL.command, values: [code] });
  switch (cmd.kind) {
    case 'open':
      if (!Number.isInteger(cmd.timeoutS) || cmd.timeoutS < 1 || cmd.timeoutS > MAX_OPEN_TIMEOUT_S)
        throw invalid(`open timeout must be an integer 1-${MAX_OPEN_TIMEOUT_S} s, got ${cmd.timeoutS}`);
      return { fc: FC.writeMultiple, address: base + SLOT_CONTROL.openTimeout, values: [cmd.timeoutS, SLOT_COMMAND.open] };
    case 'charge':
      return single(cmd.enabled ? SLOT_COMMAND.chargeEnable : SLOT_COMMAND.chargeDisable);
    case 'isolate':
      return single(SLOT_COMMAND.isolate);
    case 'release':
      return single(SLOT_COMMAND.release);
  }
}

// ---- encoding (simulator side) ----------------------------------------------------

const clampU16 = (v: number): number => Math.max(0, Math.min(0xffff, Math.round(v)));
const s16Word = (v: number): number => {
  const r = Math.max(-0x8000, Math.min(0x7fff, Math.round(v)));
  return r < 0 ? r + 0x10000 : r;
};

export function encodeKindBlock(slotCount: number): number[] {
  return [CABINET_KIND.swap, slotCount, 0, 0];
}

export function encodeSlot(r: SlotReading): number[] {
  const w = new Array<number>(SLOT.stride).fill(0);
  w[SLOT.doorLocked] = r.doorLocked ? 1 : 0;
  w[SLOT.doorOpen] = r.doorOpen ? 1 : 0;
  w[SLOT.present] = r.present ? 1 : 0;
  // 'unknown' has no code in the map: it goes out as one outside it, as it came in.
  w[SLOT.charger] = r.charger === 'unknown' ? 0xffff : CHARGER_STATES.indexOf(r.charger);
  w[SLOT.faultCode] = clampU16(r.faultCode);
  if (r.present) {
    w[SLOT.soc] = clampU16(r.soc);
    w[SLOT.voltage] = clampU16(r.voltage * 10);
    w[SLOT.current] = s16Word(r.current * 100);
    w[SLOT.temperature] = s16Word(r.temperature * 10);
    w[SLOT.cycles] = clampU16(r.cycles);
    w[SLOT.health] = clampU16(r.health);
    w[SLOT.bmsFaults] = clampU16(r.bmsFaults);
    textWords(r.batteryId, SLOT.batteryId.words).forEach((v, i) => (w[SLOT.batteryId.offset + i] = v));
    w[SLOT.energyWh] = clampU16(r.energyWh);
  }
  w[SLOT.chargeEnabled] = r.chargeEnabled ? 1 : 0;
  w[SLOT.isolated] = r.isolated ? 1 : 0;
  w[SLOT.openRemaining] = clampU16(r.openRemainingS);
  return w;
}

export type SlotControlDecoded = { ok: true; command: SwapCommand } | { ok: false; exception: number; message: string };

/** A slot control write as the cabinet stores it: [timeout, command] from its block start. */
export function decodeSlotControl(slot: number, timeoutS: number, command: number): SlotControlDecoded {
  switch (command) {
    case SLOT_COMMAND.open:
      if (timeoutS < 1 || timeoutS > MAX_OPEN_TIMEOUT_S) return { ok: false, exception: 3, message: `open timeout ${timeoutS} s` };
      return { ok: true, command: { kind: 'open', slot, timeoutS } };
    case SLOT_COMMAND.chargeEnable:
    case SLOT_COMMAND.chargeDisable:
      return { ok: true, command: { kind: 'charge', slot, enabled: command === SLOT_COMMAND.chargeEnable } };
    case SLOT_COMMAND.isolate:
      return { ok: true, command: { kind: 'isolate', slot } };
    case SLOT_COMMAND.release:
      return { ok: true, command: { kind: 'release', slot } };
    default:
      return { ok: false, exception: 3, message: `unknown slot command ${command}` };
  }
}
