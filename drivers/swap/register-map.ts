/**
 * Addresses, strides and codes of the battery-swap part of the cabinet register map v1.1,
 * transcribed from docs/cabinet-register-map.md section 10. The codec, the simulator and
 * the tests take their numbers from here. The identification and cabinet blocks are the
 * v1.0 ones (drivers/cabinet/register-map.ts).
 */
export const SWAP_MAP_VERSION = { major: 1, minor: 1 } as const;
export const MAX_SLOTS = 24;

/** 0x0020: read only when the minor version is 1 or more (a 1.0 cabinet answers exception 02). */
export const KIND_BLOCK = { address: 0x0020, count: 4, kind: 0, slotCount: 1 } as const;
export const CABINET_KIND = { charging: 1, swap: 2 } as const;

/** Offset in the v1.0 cabinet block (0x00F0) of the fire-suppression status. */
export const SUPPRESSION_OFFSET = 9;
export const SUPPRESSION_STATES = ['absent', 'ready', 'discharged', 'fault'] as const;

export const SLOT = {
  base: 0x0400,
  stride: 0x18,
  doorLocked: 0,
  doorOpen: 1,
  present: 2,
  charger: 3,
  faultCode: 4,
  soc: 5,
  voltage: 6,
  current: 7,
  temperature: 8,
  cycles: 9,
  health: 10,
  bmsFaults: 11,
  batteryId: { offset: 12, words: 8 },
  energyWh: 20,
  chargeEnabled: 21,
  isolated: 22,
  openRemaining: 23,
} as const;

/** Charger state code on the wire = index in this list. */
export const CHARGER_STATES = ['idle', 'charging', 'full', 'fault', 'disabled', 'isolated'] as const;

export const SLOT_CONTROL = { base: 0x1400, stride: 4, openTimeout: 0, command: 1 } as const;
export const SLOT_COMMAND = { open: 1, chargeEnable: 2, chargeDisable: 3, isolate: 4, release: 5 } as const;
export const MAX_OPEN_TIMEOUT_S = 600;

/** v1.1 addition to the v1.0 cabinet command register (0x1000): 1 cut and 2 on stay. */
export const CABINET_TRIGGER_SUPPRESSION = 3;

/** Slot blocks per poll request: 5 × 24 = 120 ≤ 125 registers. */
export const SLOTS_PER_READ = 5;

export function slotBlockAddress(slot: number): number {
  return SLOT.base + (slot - 1) * SLOT.stride;
}

export function slotControlAddress(slot: number): number {
  return SLOT_CONTROL.base + (slot - 1) * SLOT_CONTROL.stride;
}
