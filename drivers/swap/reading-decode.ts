/**
 * Field-by-field decoding of a swap cabinet's poll, for the gateway's supervision loop (as
 * drivers/cabinet/reading-decode.ts does for the charging cabinets, issue 11 item 3). The
 * strict decodeSwapPoll (registers.ts) throws on the first value outside the map: one slot's
 * unknown charger state blinded the whole cabinet, smoke included. Here every register is
 * decoded on its own; a value the map cannot carry invalidates that field only, is reported
 * as a FieldFault (address and raw value), and the slot names it in `invalid`.
 *
 * Placeholders keep anything from acting on a guess: a temperature is NaN, a state of charge
 * or health 0 (never "the fullest pack"), a door neither locked nor closed, a slot isolated,
 * charging off, a charger state 'unknown'. Safety fields (smoke, cabinet temperature, mains,
 * power, suppression; per slot the pack temperature and battery presence) are flagged
 * `safety` so the unit counts polls it could not supervise.
 *
 * Still a DEVICE_PROTOCOL error: answers of the wrong number or size (the framing is wrong,
 * nothing in them can be placed at an address).
 */
import { CABINET } from '../cabinet/register-map.js';
import { decodeStatusFields, FieldReader } from '../cabinet/reading-decode.js';
import { checkWords, protocol, s16, text } from '../cabinet/signature.js';
import type { FieldFault } from '../cabinet/types.js';
import { CHARGER_STATES, SLOT, SUPPRESSION_OFFSET, SUPPRESSION_STATES, slotBlockAddress } from './register-map.js';
import { swapPollPlan } from './registers.js';
import type { SlotReading, SwapCabinetStatus } from './types.js';

export interface DecodedSwapPoll {
  status: SwapCabinetStatus;
  slots: SlotReading[];
  faults: FieldFault[];
}

function percent(r: FieldReader, words: readonly number[], field: string, offset: number): number {
  const v = words[offset]!;
  if (v <= 100) return v;
  r.fault(field, offset, false, `${field} ${v} % is above 100`);
  return 0;
}

function decodeSlotFields(words: readonly number[], slot: number, faults: FieldFault[]): SlotReading {
  const r = new FieldReader(words, slotBlockAddress(slot), undefined, `slot${slot}.`);
  const code = words[SLOT.charger]!;
  const charger: SlotReading['charger'] = CHARGER_STATES[code] ?? 'unknown';
  if (charger === 'unknown') r.fault('charger', SLOT.charger, false, `unknown charger state ${code}`);
  let batteryId = '';
  try {
    batteryId = text(words, SLOT.batteryId.offset, SLOT.batteryId.words, `slot ${slot} battery id`);
  } catch (err) {
    r.fault('batteryId', SLOT.batteryId.offset, false, (err as Error).message);
  }
  const reading: SlotReading = {
    slot,
    doorLocked: r.bool('doorLocked', SLOT.doorLocked, false),
    doorOpen: r.bool('doorOpen', SLOT.doorOpen, false, true),
    present: r.bool('present', SLOT.present, true),
    charger,
    faultCode: words[SLOT.faultCode]!,
    soc: percent(r, words, 'soc', SLOT.soc),
    voltage: words[SLOT.voltage]! / 10,
    current: s16(words[SLOT.current]!) / 100,
    temperature: r.temperature('temperature', SLOT.temperature, true),
    cycles: words[SLOT.cycles]!,
    health: percent(r, words, 'health', SLOT.health),
    bmsFaults: words[SLOT.bmsFaults]!,
    batteryId,
    energyWh: words[SLOT.energyWh]!,
    chargeEnabled: r.bool('chargeEnabled', SLOT.chargeEnabled, false),
    isolated: r.bool('isolated', SLOT.isolated, false, true),
    openRemainingS: words[SLOT.openRemaining]!,
  };
  if (r.faults.length) {
    reading.invalid = r.faults.map((f) => f.field.slice(`slot${slot}.`.length));
    faults.push(...r.faults);
  }
  return reading;
}

/** Decodes the answers to `swapPollPlan(slotCount)`, field by field. Throws only when an answer has the wrong size. */
export function decodeSwapPollFields(slotCount: number, answers: readonly (readonly number[])[]): DecodedSwapPoll {
  const plan = swapPollPlan(slotCount);
  if (answers.length !== plan.length) throw protocol(`poll: expected ${plan.length} answers, got ${answers.length}`);
  plan.forEach((r, i) => checkWords(answers[i]!, r.count, `poll read at 0x${r.address.toString(16)}`));
  const faults: FieldFault[] = [];
  const cabinetWords = answers[0]!;
  const base = decodeStatusFields(cabinetWords, faults);
  let suppression = SUPPRESSION_STATES[cabinetWords[SUPPRESSION_OFFSET]!];
  if (suppression === undefined) {
    const raw = cabinetWords[SUPPRESSION_OFFSET]!;
    faults.push({
      field: 'suppression',
      address: CABINET.address + SUPPRESSION_OFFSET,
      raw,
      safety: true,
      message: `fire suppression state ${raw} is not 0-3`,
    });
    // Shown as a fault; on fire the unit still sends the trigger when the cabinet is configured with suppression.
    suppression = 'fault';
  }
  const slotWords = answers.slice(1).flat();
  const slots: SlotReading[] = [];
  for (let s = 1; s <= slotCount; s++) slots.push(decodeSlotFields(slotWords.slice((s - 1) * SLOT.stride, s * SLOT.stride), s, faults));
  return { status: { ...base, suppression }, slots, faults };
}
