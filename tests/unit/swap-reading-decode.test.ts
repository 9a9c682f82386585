/**
 * Field-by-field decoding of a swap cabinet poll (drivers/swap/reading-decode.ts): one value
 * outside the map invalidates its field only, with its register address and raw word.
 */
import { describe, expect, it } from 'vitest';
import { CABINET } from '../../drivers/cabinet/register-map.js';
import { encodeStatus } from '../../drivers/cabinet/registers.js';
import { SLOT, SUPPRESSION_OFFSET, slotBlockAddress } from '../../drivers/swap/register-map.js';
import { decodeSwapPollFields } from '../../drivers/swap/reading-decode.js';
import { decodeSwapPoll, encodeSlot } from '../../drivers/swap/registers.js';
import type { SlotReading } from '../../drivers/swap/types.js';

const slot = (n: number, over: Partial<SlotReading> = {}): SlotReading => ({
  slot: n,
  doorLocked: true,
  doorOpen: false,
  present: true,
  charger: 'charging',
  faultCode: 0,
  soc: 60 + n,
  voltage: 52.1,
  current: 4.5,
  temperature: 30.5,
  cycles: 12,
  health: 97,
  bmsFaults: 0,
  batteryId: `GH-PACK-${n}`,
  energyWh: 960,
  chargeEnabled: true,
  isolated: false,
  openRemainingS: 0,
  ...over,
});

function answers(edit?: (cabinet: number[], slots: number[][]) => void): number[][] {
  const cabinet = encodeStatus({
    mainsVoltage: 230,
    mainsPresent: true,
    temperature: 24,
    smoke: false,
    doorOpen: false,
    fanOn: false,
    powerOn: true,
    uptimeS: 100,
  });
  cabinet[SUPPRESSION_OFFSET] = 1;
  const slots = [1, 2, 3].map((n) => encodeSlot(slot(n)));
  edit?.(cabinet, slots);
  return [cabinet, slots.flat()];
}

describe('swap poll decoded field by field', () => {
  it('a clean poll decodes as the strict decoder does, without faults', () => {
    const a = answers();
    const d = decodeSwapPollFields(3, a);
    expect(d.faults).toEqual([]);
    expect(d).toMatchObject(decodeSwapPoll(3, a));
  });

  it('an unknown charger state invalidates that slot field only, with its address and raw word', () => {
    const d = decodeSwapPollFields(
      3,
      answers((_, s) => (s[1]![SLOT.charger] = 9)),
    );
    expect(d.faults).toEqual([
      expect.objectContaining({ field: 'slot2.charger', address: slotBlockAddress(2) + SLOT.charger, raw: 9, safety: false }),
    ]);
    expect(d.slots[1]).toMatchObject({ charger: 'unknown', soc: 62, temperature: 30.5, invalid: ['charger'] });
    expect(d.slots[0]!.invalid).toBeUndefined();
  });

  it('safety fields: smoke holding 2, a pack sensor fault value and an unknown suppression state are flagged safety', () => {
    const d = decodeSwapPollFields(
      3,
      answers((c, s) => {
        c[CABINET.smoke] = 2;
        c[SUPPRESSION_OFFSET] = 7;
        s[2]![SLOT.temperature] = 0x8000;
        s[0]![SLOT.soc] = 250;
      }),
    );
    const byField = Object.fromEntries(d.faults.map((f) => [f.field, f]));
    expect(byField.smoke).toMatchObject({ safety: true, raw: 2, address: CABINET.address + CABINET.smoke });
    expect(byField.suppression).toMatchObject({ safety: true, raw: 7 });
    expect(byField['slot3.temperature']).toMatchObject({ safety: true, raw: 0x8000 });
    expect(byField['slot1.soc']).toMatchObject({ safety: false, raw: 250 });
    expect(d.status).toMatchObject({ smoke: false, suppression: 'fault', temperature: 24 });
    expect(Number.isNaN(d.slots[2]!.temperature)).toBe(true);
    // A placeholder state of charge never makes a pack "the fullest".
    expect(d.slots[0]!.soc).toBe(0);
  });

  it('answers of the wrong size are still a DEVICE_PROTOCOL error', () => {
    const a = answers();
    expect(() => decodeSwapPollFields(3, [a[0]!, a[1]!.slice(1)])).toThrow(expect.objectContaining({ code: 'DEVICE_PROTOCOL' }));
  });
});
