/**
 * Payloads of the CP -> PD commands we use (spec section 6). The CP encodes them, the
 * simulated PD decodes them; each decoder validates the length of hostile input.
 */
import type { BuzzerControl, LedControl, OutputControl } from './types.js';
import { checkByte, checkBytes, expectLength, expectRecords, invalidArgument, protocolError, toTenths } from './messages-common.js';

const EMPTY = new Uint8Array(0);

/** osdp_POLL, osdp_LSTAT, osdp_ISTAT, osdp_OSTAT carry no data (6.1, 6.5-6.7). */
export function encodeEmptyCommand(): Uint8Array {
  return EMPTY;
}
export function decodeEmptyCommand(name: string, data: Uint8Array): void {
  expectLength(name, data, 0);
}

/** osdp_ID and osdp_CAP carry one "reply type" byte, 0x00 = standard (6.2, 6.3). */
export function encodeIdRequest(): Uint8Array {
  return Uint8Array.of(0x00);
}
export function decodeIdRequest(data: Uint8Array): number {
  expectLength('osdp_ID', data, 1);
  return data[0] as number;
}
export function encodeCapRequest(): Uint8Array {
  return Uint8Array.of(0x00);
}
export function decodeCapRequest(data: Uint8Array): number {
  expectLength('osdp_CAP', data, 1);
  return data[0] as number;
}

// --- osdp_OUT (6.8) -------------------------------------------------------------------

/** Output control codes of spec 6.8. */
export const OutCode = {
  NOP: 0,
  PERMANENT_OFF_ABORT_TIMED: 1,
  PERMANENT_ON_ABORT_TIMED: 2,
  PERMANENT_OFF_ALLOW_TIMED: 3,
  PERMANENT_ON_ALLOW_TIMED: 4,
  TEMPORARY_ON_RESUME: 5,
  TEMPORARY_OFF_RESUME: 6,
} as const;

/** One 4-byte record: output number, control code, timer in 100 ms units (u16 LE). */
export interface OutRecord {
  output: number;
  code: number;
  timer: number;
}

export function outputControlToRecord(c: OutputControl): OutRecord {
  const output = checkByte('osdp_OUT', 'output number', c.output);
  switch (c.action) {
    // "off"/"on" are permanent and must cancel a running pulse, hence the "abort timed" codes.
    case 'off':
      return { output, code: OutCode.PERMANENT_OFF_ABORT_TIMED, timer: 0 };
    case 'on':
      return { output, code: OutCode.PERMANENT_ON_ABORT_TIMED, timer: 0 };
    case 'pulse-on':
      // A zero timer would mean "no timer"; a pulse is at least one tick.
      return { output, code: OutCode.TEMPORARY_ON_RESUME, timer: toTenths('osdp_OUT', 'pulse', c.ms, 1, 0xffff) };
  }
}

/** What the PD should do with a record, or undefined for codes our OutputControl cannot express (NOP, temporary off). */
export function outRecordToControl(r: OutRecord): OutputControl | undefined {
  switch (r.code) {
    case OutCode.PERMANENT_OFF_ABORT_TIMED:
    case OutCode.PERMANENT_OFF_ALLOW_TIMED:
      return { output: r.output, action: 'off' };
    case OutCode.PERMANENT_ON_ABORT_TIMED:
    case OutCode.PERMANENT_ON_ALLOW_TIMED:
      return { output: r.output, action: 'on' };
    case OutCode.TEMPORARY_ON_RESUME:
      return { output: r.output, action: 'pulse-on', ms: r.timer * 100 };
    default:
      return undefined;
  }
}

export function encodeOut(controls: readonly OutputControl[]): Uint8Array {
  return encodeOutRecords(controls.map(outputControlToRecord));
}

export function encodeOutRecords(records: readonly OutRecord[]): Uint8Array {
  if (records.length === 0) throw invalidArgument('osdp_OUT', 'at least one output record is required');
  const out = new Uint8Array(records.length * 4);
  records.forEach((r, i) => {
    out[i * 4] = checkByte('osdp_OUT', 'output number', r.output);
    out[i * 4 + 1] = checkByte('osdp_OUT', 'control code', r.code);
    if (!Number.isInteger(r.timer) || r.timer < 0 || r.timer > 0xffff) throw invalidArgument('osdp_OUT', `timer ${r.timer} out of range`);
    out[i * 4 + 2] = r.timer & 0xff;
    out[i * 4 + 3] = r.timer >> 8;
  });
  return out;
}

export function decodeOut(data: Uint8Array): OutRecord[] {
  const count = expectRecords('osdp_OUT', data, 4);
  if (count === 0) throw protocolError('osdp_OUT', 'no output records');
  const records: OutRecord[] = [];
  for (let i = 0; i < count; i++) {
    const code = data[i * 4 + 1] as number;
    if (code > OutCode.TEMPORARY_OFF_RESUME) throw protocolError('osdp_OUT', `record ${i}: unknown control code ${code}`);
    records.push({ output: data[i * 4] as number, code, timer: (data[i * 4 + 2] as number) | ((data[i * 4 + 3] as number) << 8) });
  }
  return records;
}

// --- osdp_LED (6.10) ------------------------------------------------------------------

/** LED colour codes of spec 6.10. */
export const LedColorCode = { off: 0, red: 1, green: 2, amber: 3, blue: 4, magenta: 5, cyan: 6, white: 7 } as const;
const COLOR_NAMES = ['off', 'red', 'green', 'amber', 'blue'] as const;

/** One 14-byte record; times in 100 ms units, colours as LedColorCode. */
export interface LedRecord {
  reader: number;
  led: number;
  /** 0 = no change, 1 = cancel temporary and show permanent, 2 = set temporary and start timer. */
  tempCode: number;
  tempOn: number;
  tempOff: number;
  tempOnColor: number;
  tempOffColor: number;
  /** Duration of the temporary state, 100 ms units (u16 LE). */
  tempTimer: number;
  /** 0 = no change, 1 = set permanent state. */
  permCode: number;
  permOn: number;
  permOff: number;
  permOnColor: number;
  permOffColor: number;
}

export function ledControlToRecord(c: LedControl, reader = 0): LedRecord {
  const color = LedColorCode[c.color];
  // Steady light: on for one tick, never off (off time 0 = no off phase, spec 6.10).
  const on = c.blink ? toTenths('osdp_LED', 'blink on', c.blink.onMs, 1, 0xff) : 1;
  const off = c.blink ? toTenths('osdp_LED', 'blink off', c.blink.offMs, 1, 0xff) : 0;
  const base = { reader: checkByte('osdp_LED', 'reader', reader), led: checkByte('osdp_LED', 'LED number', c.led) };
  if (c.ms !== undefined) {
    return {
      ...base,
      tempCode: 2,
      tempOn: on,
      tempOff: off,
      tempOnColor: color,
      tempOffColor: LedColorCode.off,
      tempTimer: toTenths('osdp_LED', 'temporary duration', c.ms, 1, 0xffff),
      permCode: 0,
      permOn: 0,
      permOff: 0,
      permOnColor: 0,
      permOffColor: 0,
    };
  }
  return {
    ...base,
    tempCode: 0,
    tempOn: 0,
    tempOff: 0,
    tempOnColor: 0,
    tempOffColor: 0,
    tempTimer: 0,
    permCode: 1,
    permOn: on,
    permOff: off,
    permOnColor: color,
    permOffColor: LedColorCode.off,
  };
}

/** The LedControl a record asks for, or undefined when it changes nothing or uses a colour LedControl lacks. */
export function ledRecordToControl(r: LedRecord): LedControl | undefined {
  const temporary = r.tempCode === 2;
  if (!temporary && r.permCode !== 1) return undefined;
  const onColor = temporary ? r.tempOnColor : r.permOnColor;
  const [on, off] = temporary ? [r.tempOn, r.tempOff] : [r.permOn, r.permOff];
  const color = COLOR_NAMES[onColor];
  if (color === undefined) return undefined;
  const control: LedControl = { led: r.led, color };
  if (temporary) control.ms = r.tempTimer * 100;
  if (off > 0) control.blink = { onMs: on * 100, offMs: off * 100 };
  return control;
}

export function encodeLed(controls: readonly LedControl[], reader = 0): Uint8Array {
  return encodeLedRecords(controls.map((c) => ledControlToRecord(c, reader)));
}

const LED_FIELDS = ['reader', 'led', 'tempCode', 'tempOn', 'tempOff', 'tempOnColor', 'tempOffColor'] as const;
const LED_PERM_FIELDS = ['permCode', 'permOn', 'permOff', 'permOnColor', 'permOffColor'] as const;

export function encodeLedRecords(records: readonly LedRecord[]): Uint8Array {
  if (records.length === 0) throw invalidArgument('osdp_LED', 'at least one LED record is required');
  const out = new Uint8Array(records.length * 14);
  records.forEach((r, i) => {
    const at = i * 14;
    LED_FIELDS.forEach((field, k) => (out[at + k] = checkByte('osdp_LED', field, r[field])));
    if (!Number.isInteger(r.tempTimer) || r.tempTimer < 0 || r.tempTimer > 0xffff)
      throw invalidArgument('osdp_LED', `timer ${r.tempTimer} out of range`);
    out[at + 7] = r.tempTimer & 0xff;
    out[at + 8] = r.tempTimer >> 8;
    LED_PERM_FIELDS.forEach((field, k) => (out[at + 9 + k] = checkByte('osdp_LED', field, r[field])));
  });
  return out;
}

export function decodeLed(data: Uint8Array): LedRecord[] {
  const count = expectRecords('osdp_LED', data, 14);
  if (count === 0) throw protocolError('osdp_LED', 'no LED records');
  const records: LedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const b = (k: number): number => data[i * 14 + k] as number;
    const record: LedRecord = {
      reader: b(0),
      led: b(1),
      tempCode: b(2),
      tempOn: b(3),
      tempOff: b(4),
      tempOnColor: b(5),
      tempOffColor: b(6),
      tempTimer: b(7) | (b(8) << 8),
      permCode: b(9),
      permOn: b(10),
      permOff: b(11),
      permOnColor: b(12),
      permOffColor: b(13),
    };
    if (record.tempCode > 2) throw protocolError('osdp_LED', `record ${i}: unknown temporary control code ${record.tempCode}`);
    if (record.permCode > 1) throw protocolError('osdp_LED', `record ${i}: unknown permanent control code ${record.permCode}`);
    records.push(record);
  }
  return records;
}

// --- osdp_BUZ (6.11) ------------------------------------------------------------------

/** reader, tone (1 = off, 2 = default tone; 0 is a deprecated "no tone"), on/off in 100 ms units, count (0 = until stopped). */
export interface BuzzerRecord {
  reader: number;
  tone: number;
  on: number;
  off: number;
  count: number;
}

export function encodeBuzzer(c: BuzzerControl, reader = 0): Uint8Array {
  const on = toTenths('osdp_BUZ', 'on time', c.onMs, 0, 0xff);
  const record: BuzzerRecord = {
    reader: checkByte('osdp_BUZ', 'reader', reader),
    tone: on > 0 ? 2 : 1,
    on,
    off: toTenths('osdp_BUZ', 'off time', c.offMs, 0, 0xff),
    count: checkByte('osdp_BUZ', 'count', c.count),
  };
  return encodeBuzzerRecord(record);
}

export function encodeBuzzerRecord(r: BuzzerRecord): Uint8Array {
  return Uint8Array.of(
    checkByte('osdp_BUZ', 'reader', r.reader),
    checkByte('osdp_BUZ', 'tone', r.tone),
    checkByte('osdp_BUZ', 'on', r.on),
    checkByte('osdp_BUZ', 'off', r.off),
    checkByte('osdp_BUZ', 'count', r.count),
  );
}

export function decodeBuzzer(data: Uint8Array): BuzzerRecord {
  expectLength('osdp_BUZ', data, 5);
  const [reader, tone, on, off, count] = data as unknown as [number, number, number, number, number];
  if (tone > 2) throw protocolError('osdp_BUZ', `unknown tone code ${tone}`);
  return { reader, tone, on, off, count };
}

/** The BuzzerControl a record asks for; tone 0/1 (off) is { onMs: 0 }. */
export function buzzerRecordToControl(r: BuzzerRecord): BuzzerControl {
  return r.tone === 2 ? { onMs: r.on * 100, offMs: r.off * 100, count: r.count } : { onMs: 0, offMs: 0, count: 0 };
}

// --- secure channel set-up commands (6.17, 6.18, 6.19) ----------------------------------

/** osdp_KEYSET: key type 1 (SCBK), length 16, key. */
export function encodeKeyset(key: Uint8Array): Uint8Array {
  checkBytes('osdp_KEYSET', 'key', key, 16);
  const out = new Uint8Array(18);
  out[0] = 0x01;
  out[1] = 16;
  out.set(key, 2);
  return out;
}
export function decodeKeyset(data: Uint8Array): Uint8Array {
  expectLength('osdp_KEYSET', data, 18);
  if (data[0] !== 0x01) throw protocolError('osdp_KEYSET', `unsupported key type ${data[0]}`);
  if (data[1] !== 16) throw protocolError('osdp_KEYSET', `key length ${data[1]} is not 16`);
  return data.slice(2);
}

/** osdp_CHLNG: RND.A, the CP's 8-byte random challenge. */
export function encodeChallenge(rndA: Uint8Array): Uint8Array {
  return checkBytes('osdp_CHLNG', 'RND.A', rndA, 8).slice();
}
export function decodeChallenge(data: Uint8Array): Uint8Array {
  expectLength('osdp_CHLNG', data, 8);
  return data.slice();
}

/** osdp_SCRYPT: the 16-byte server cryptogram. */
export function encodeServerCryptogram(cryptogram: Uint8Array): Uint8Array {
  return checkBytes('osdp_SCRYPT', 'server cryptogram', cryptogram, 16).slice();
}
export function decodeServerCryptogram(data: Uint8Array): Uint8Array {
  expectLength('osdp_SCRYPT', data, 16);
  return data.slice();
}
