/**
 * SIA DC-09 framing (ANSI/SIA DC-09-2013/2021, section 5):
 *
 *   <LF><crc:4 hex><0LLL:4 hex>"<id>"<seq:4 digits>[R<rcvr>]L<pref>[#<acct>][<data>][<x-data>]...[_HH:MM:SS,MM-DD-YYYY]<CR>
 *
 * The CRC and the length both cover the span from the opening quote of the id to the end
 * of the timestamp. An id with a leading '*' means that everything after the '[' that opens
 * the data is AES-CBC ciphertext, hex-encoded (see cipher.ts).
 *
 * Pure string codec: no I/O, no clock. Parsing never throws; it returns a result with an
 * error kind the receiver maps to NAK (framing, crc, length, format, timestamp) or DUH.
 */
import { dc09CrcHex } from './crc.js';

export const LF = '\n';
export const CR = '\r';
/** The length field is "0LLL": three hex digits of body. */
export const MAX_BODY_LENGTH = 0xfff;
/** LF + CRC + length + body + CR. */
export const MAX_MESSAGE_LENGTH = 1 + 4 + 4 + MAX_BODY_LENGTH + 1;

export interface Dc09Header {
  /** The id token without the '*': SIA-DCS, ADM-CID, NULL, ACK, NAK, DUH... */
  token: string;
  encrypted: boolean;
  /** Sequence number as sent (4 digits); the ACK echoes it. */
  seq: string;
  receiver?: string;
  line?: string;
  /** Account from `#acct` (or `A0` in a NAK). */
  account?: string;
}

export interface Dc09Frame extends Dc09Header {
  crc: string;
  length: number;
  /** Everything after the '[' that opens the data: plain data + x-data + timestamp, or hex ciphertext. */
  rest: string;
}

export interface Dc09Content {
  /** Between '[' and ']' (e.g. `#1234|Nri1/BA001`). */
  data: string;
  /** Extended data blocks without their brackets, e.g. `X001E02.1`, `M0026B9E4268B`. */
  extended: string[];
  /** Epoch ms (UTC: DC-09 timestamps are GMT). */
  timestamp?: number;
}

export type Dc09ErrorKind = 'framing' | 'crc' | 'length' | 'format' | 'timestamp' | 'decrypt' | 'token';
export type Dc09Result<T> = { ok: true; value: T } | { ok: false; error: Dc09ErrorKind; detail: string };

export const fail = <T>(error: Dc09ErrorKind, detail: string): Dc09Result<T> => ({ ok: false, error, detail });

const HEADER = /^"(\*?)([A-Z0-9-]{1,16})"(\d{4})(?:R([0-9A-F]{1,6}))?(?:L([0-9A-F]{1,6}?))?(?:#([0-9A-F]{3,16})|A(0))?\[/i;
// L is lazy so that the NAK's fixed `L0A0` reads as line 0, account 0 (the only place an
// account is written with A instead of #). Any other message is read with HEADER_NOT_NAK:
// there `L0A0` is line 0A0, and an account is only ever `#acct`.
const HEADER_NOT_NAK = /^"(\*?)([A-Z0-9-]{1,16})"(\d{4})(?:R([0-9A-F]{1,6}))?(?:L([0-9A-F]{1,6}))?(?:#([0-9A-F]{3,16}))?\[/i;
const HEX4 = /^[0-9A-F]{4}$/i;

/** Parses one message, with or without its LF/CR. Checks length and CRC; does not decrypt. */
export function parseFrame(message: string): Dc09Result<Dc09Frame> {
  let s = message;
  if (s.startsWith(LF)) s = s.slice(1);
  if (s.endsWith(CR)) s = s.slice(0, -1);
  if (s.length < 8 + 2 || s.length > MAX_MESSAGE_LENGTH) return fail('framing', `message of ${s.length} characters`);
  const crc = s.slice(0, 4);
  const len = s.slice(4, 8);
  if (!HEX4.test(crc) || !HEX4.test(len)) return fail('framing', 'CRC or length field is not 4 hex digits');
  const body = s.slice(8);
  const length = parseInt(len, 16);
  if (length !== body.length) return fail('length', `length field says ${length}, body has ${body.length}`);
  const computed = dc09CrcHex(body);
  if (computed !== crc.toUpperCase()) return fail('crc', `CRC field ${crc}, computed ${computed}`);
  let m = HEADER.exec(body);
  if (m && m[7] !== undefined && m[2]!.toUpperCase() !== 'NAK') m = HEADER_NOT_NAK.exec(body);
  if (!m) return fail('format', 'header does not match "id"seq[Rrcvr][Lpref][#acct][');
  const frame: Dc09Frame = {
    crc: crc.toUpperCase(),
    length,
    token: m[2]!.toUpperCase(),
    encrypted: m[1] === '*',
    seq: m[3]!,
    rest: body.slice(m[0].length),
  };
  if (m[4] !== undefined) frame.receiver = m[4].toUpperCase();
  if (m[5] !== undefined) frame.line = m[5].toUpperCase();
  const account = m[6] ?? m[7];
  if (account !== undefined) frame.account = account.toUpperCase();
  return { ok: true, value: frame };
}

/** Splits plain content (what follows the '[') into data, extended data and timestamp. */
export function parseContent(rest: string): Dc09Result<Dc09Content> {
  const close = rest.indexOf(']');
  if (close < 0) return fail('format', 'data is not closed by ]');
  const data = rest.slice(0, close);
  if (data.includes('[')) return fail('format', 'data contains [');
  const extended: string[] = [];
  let i = close + 1;
  while (rest[i] === '[') {
    const end = rest.indexOf(']', i + 1);
    if (end < 0) return fail('format', 'extended data is not closed by ]');
    const block = rest.slice(i + 1, end);
    if (block.includes('[')) return fail('format', 'extended data contains [');
    extended.push(block);
    i = end + 1;
  }
  const content: Dc09Content = { data, extended };
  const tail = rest.slice(i);
  if (tail.length > 0) {
    const ts = parseTimestamp(tail);
    if (ts === undefined) return fail('timestamp', `not a timestamp: ${JSON.stringify(tail.slice(0, 32))}`);
    content.timestamp = ts;
  }
  return { ok: true, value: content };
}

const TS = /^_(\d\d):(\d\d):(\d\d),(\d\d)-(\d\d)-(\d{4})$/;

/** `_HH:MM:SS,MM-DD-YYYY` (GMT) to epoch ms; undefined when malformed or not a real date. */
export function parseTimestamp(text: string): number | undefined {
  const m = TS.exec(text);
  if (!m) return undefined;
  const [h, mi, s, mo, d, y] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  // Not Date.UTC: it reads years 0-99 as 1900-1999, so "0020" would come back as 1920.
  const back = new Date(0);
  back.setUTCFullYear(y, mo - 1, d);
  back.setUTCHours(h, mi, s, 0);
  // Dates roll 02-30 over into March; a panel that sends it has a broken clock.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    return undefined;
  return back.getTime();
}

export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `_${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())},${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${String(d.getUTCFullYear()).padStart(4, '0')}`;
}

/** The header part of the body, up to and including the '[' that opens the data. */
export function formatHeader(h: Dc09Header): string {
  const r = h.receiver !== undefined ? `R${h.receiver}` : '';
  const l = h.line !== undefined ? `L${h.line}` : '';
  const a = h.account !== undefined ? (h.token === 'NAK' ? `A${h.account}` : `#${h.account}`) : '';
  return `"${h.encrypted ? '*' : ''}${h.token}"${h.seq}${r}${l}${a}[`;
}

/** Plain content back to text: `data]` + `[x]`... + timestamp. */
export function formatContent(c: Dc09Content): string {
  return `${c.data}]${c.extended.map((x) => `[${x}]`).join('')}${c.timestamp !== undefined ? formatTimestamp(c.timestamp) : ''}`;
}

/** Wraps a body (header + rest) into LF crc length body CR. */
export function wrapBody(body: string): string {
  if (body.length > MAX_BODY_LENGTH) throw new RangeError(`DC-09 body of ${body.length} characters exceeds ${MAX_BODY_LENGTH}`);
  return `${LF}${dc09CrcHex(body)}${body.length.toString(16).toUpperCase().padStart(4, '0')}${body}${CR}`;
}

export function formatSeq(n: number): string {
  return String(((n % 10000) + 10000) % 10000).padStart(4, '0');
}
