/**
 * Reply payloads as the simulated reader builds them, over the shared codec (messages.ts):
 * the simulator never has its own idea of the byte layout.
 */
import * as m from '../../drivers/osdp/messages.js';
import type { PdIdentity } from '../../drivers/osdp/types.js';

/** PDCAP function codes (spec table 7.4) the simulated reader announces. */
const CAP = {
  CONTACT_STATUS: 1,
  OUTPUT_CONTROL: 2,
  CARD_FORMAT: 3,
  READER_LED: 4,
  READER_AUDIBLE: 5,
  READER_TEXT: 6,
  CHECK_CHARACTER: 8,
  SECURITY: 9,
  RECEIVE_BUFFER: 10,
} as const;

export interface SimCapabilities {
  inputs: number;
  outputs: number;
  secure: boolean;
  buzzer: boolean;
  /** LED compliance: 0 none, 1 on/off, 2 timed, 3 bi-colour (red/green), 4 tri-colour (+ amber). */
  led: 0 | 1 | 2 | 3 | 4;
  /** Text compliance: 0 none, 1 one row, 2 two rows, 3 four rows of 16 characters. */
  text: 0 | 1 | 2 | 3;
}

export const replyId = (id: PdIdentity): Uint8Array => m.encodePdid(id);
export function replyCap(c: SimCapabilities): Uint8Array {
  const caps: m.Capability[] = [
    { function: CAP.CONTACT_STATUS, compliance: 1, count: c.inputs },
    { function: CAP.OUTPUT_CONTROL, compliance: 1, count: c.outputs },
    { function: CAP.CARD_FORMAT, compliance: 1, count: 0 },
    { function: CAP.READER_LED, compliance: c.led, count: c.led ? 1 : 0 },
    { function: CAP.READER_AUDIBLE, compliance: c.buzzer ? 2 : 0, count: c.buzzer ? 1 : 0 },
    { function: CAP.READER_TEXT, compliance: c.text, count: c.text ? 1 : 0 },
    { function: CAP.CHECK_CHARACTER, compliance: 1, count: 0 },
    { function: CAP.SECURITY, compliance: c.secure ? 1 : 0, count: c.secure ? 1 : 0 },
    { function: CAP.RECEIVE_BUFFER, compliance: 0x80, count: 0 },
  ];
  return m.encodePdcap(caps);
}
export const replyInputs = (inputs: readonly boolean[]): Uint8Array => m.encodePointStatus(inputs);
export const replyOutputs = (outputs: readonly boolean[]): Uint8Array => m.encodePointStatus(outputs);
export const replyLocalStatus = (tamper: boolean, power: boolean): Uint8Array => m.encodeLocalStatus({ tamper, power });
/** Format 1 = Wiegand (spec 7.10). */
export const replyRaw = (bits: number, data: Uint8Array): Uint8Array => m.encodeRaw({ reader: 0, format: 1, bits, data });
export const replyKeypad = (keys: string): Uint8Array => m.encodeKeypad({ reader: 0, keys });
export const replyNak = (code: number): Uint8Array => m.encodeNak(code);
