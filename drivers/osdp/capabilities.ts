/**
 * What a reader says it can do (osdp_PDCAP, spec 7.4 and annex table "Function codes"),
 * read into named fields, and the rules the control panel's users follow from it: which
 * LED colours, whether a buzzer or a text display exists. Pure: no I/O.
 *
 * Rules for what a capability means for the commands we send (decided here, documented in
 * docs/INTERFACES.md "Doors and readers"):
 * - LED (function 4): compliance 0 or no LEDs = no LED control, osdp_LED is not sent;
 *   1–2 = one colour, the command is sent (the reader shows its one colour whatever is
 *   named: the spec gives a single-colour LED no colour); 3 = bi-colour: off, red, green;
 *   4 = tri-colour: off, red, green, amber. Other colours are not sent. An unknown higher
 *   compliance level is taken as any colour.
 * - Buzzer (function 5): compliance 0 or no annunciator = no osdp_BUZ.
 * - Text (function 6): compliance 0 or no display = no osdp_TEXT.
 * A reader whose PDCAP does not list a function does not have it.
 */
import type { LedColor, PdCapability } from './types.js';

/** Function codes of osdp_PDCAP records. */
export const CapabilityFunction = {
  CONTACT_STATUS: 1,
  OUTPUT_CONTROL: 2,
  CARD_FORMAT: 3,
  READER_LED: 4,
  READER_AUDIBLE: 5,
  READER_TEXT: 6,
  TIME_KEEPING: 7,
  CHECK_CHARACTER: 8,
  COMMUNICATION_SECURITY: 9,
  RECEIVE_BUFFER: 10,
  LARGEST_MESSAGE: 11,
  SMART_CARD: 12,
  READERS: 13,
  BIOMETRICS: 14,
  SECURE_PIN_ENTRY: 15,
  OSDP_VERSION: 16,
} as const;

/** The capability report as published in the reader's state. */
export interface ReaderCapabilities {
  inputs: number;
  outputs: number;
  /** Colours the reader's LED can show (empty: no LED control). */
  ledColors: LedColor[];
  /** LEDs per reader. */
  leds: number;
  buzzer: boolean;
  /** Text displays: rows × columns (compliance 1: 1×16, 2: 2×16, 3: 4×16), or none. */
  text: { displays: number; rows: number; columns: number } | null;
  /** 16-bit CRC supported (else checksum only). */
  crc: boolean;
  secureChannel: boolean;
  /** The install key (SCBK-D) is accepted. */
  defaultKey: boolean;
  /** Receive buffer and largest combined message, bytes (0: not reported). */
  receiveBufferBytes: number;
  largestMessageBytes: number;
  /** 0 unspecified, 1 IEC 60839-11-5, 2 SIA OSDP 2.2. */
  osdpVersion: number;
  /** Every record as received, [function, compliance, count]. */
  raw: [number, number, number][];
}

const LED_COLORS: Record<number, LedColor[]> = {
  3: ['off', 'red', 'green'],
  4: ['off', 'red', 'green', 'amber'],
};
const TEXT_ROWS: Record<number, number> = { 1: 1, 2: 2, 3: 4 };
const ALL_COLORS: LedColor[] = ['off', 'red', 'green', 'amber', 'blue'];

export function summariseCapabilities(records: readonly PdCapability[]): ReaderCapabilities {
  const get = (fn: number) => records.find((r) => r.function === fn);
  const led = get(CapabilityFunction.READER_LED);
  const buz = get(CapabilityFunction.READER_AUDIBLE);
  const text = get(CapabilityFunction.READER_TEXT);
  const sec = get(CapabilityFunction.COMMUNICATION_SECURITY);
  const size = (fn: number) => {
    const r = get(fn);
    return r ? r.compliance + r.count * 256 : 0;
  };
  const ledOn = led !== undefined && led.compliance > 0 && led.count > 0;
  const textRows = text && text.count > 0 ? TEXT_ROWS[text.compliance] : undefined;
  return {
    inputs: get(CapabilityFunction.CONTACT_STATUS)?.count ?? 0,
    outputs: get(CapabilityFunction.OUTPUT_CONTROL)?.count ?? 0,
    ledColors: ledOn ? (LED_COLORS[led.compliance] ?? ALL_COLORS) : [],
    leds: ledOn ? led.count : 0,
    buzzer: buz !== undefined && buz.compliance > 0 && buz.count > 0,
    text: textRows ? { displays: text!.count, rows: textRows, columns: 16 } : null,
    crc: (get(CapabilityFunction.CHECK_CHARACTER)?.compliance ?? 0) === 1,
    secureChannel: ((sec?.compliance ?? 0) & 0x01) === 1,
    defaultKey: ((sec?.count ?? 0) & 0x01) === 1,
    receiveBufferBytes: size(CapabilityFunction.RECEIVE_BUFFER),
    largestMessageBytes: size(CapabilityFunction.LARGEST_MESSAGE),
    osdpVersion: get(CapabilityFunction.OSDP_VERSION)?.compliance ?? 0,
    raw: records.map((r) => [r.function, r.compliance, r.count]),
  };
}

/** Why a command may not be sent to this reader, or undefined when it may (or nothing is known yet). */
export type FeedbackCommand = { led: LedColor } | { buzzer: true } | { text: true };

export function unsupportedBy(caps: ReaderCapabilities | undefined, command: FeedbackCommand): string | undefined {
  if (!caps) return undefined;
  if ('led' in command) {
    if (caps.ledColors.length === 0) return 'the reader reports no LED control';
    if (caps.ledColors.includes(command.led)) return undefined;
    return `the reader's LED cannot show ${command.led} (it shows ${caps.ledColors.join(', ')})`;
  }
  if ('buzzer' in command) return caps.buzzer ? undefined : 'the reader reports no buzzer';
  return caps.text ? undefined : 'the reader reports no text display';
}
