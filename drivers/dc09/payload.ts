/**
 * Payload decoders: the data between '[' and ']' of SIA-DCS and ADM-CID messages, into
 * normalised PanelEvents (events.ts).
 *
 * SIA-DCS (SIA DC-03 blocks): `#acct|Nri1/BA001` — optional `#acct`, optional '|', 'N' (new)
 * or 'O' (old) then '/'-separated blocks of lower-case modifiers (`ri` area, `id` user, `pi`,
 * `ti`...) and upper-case two-letter codes with an address and an optional `^text^`.
 *
 * ADM-CID (Contact ID, SIA DC-05): `#acct|QEEE GG CCC` — qualifier 1 new event / opening,
 * 3 restore / closing, 6 previously reported; 3-digit event; 2-digit group (area); 3-digit
 * zone or user.
 */
import { CONTACT_ID_CODES, SIA_CODES, SIA_UNBYPASS, SIA_USER_CODES, type PanelEvent } from './events.js';
import { fail, type Dc09Result } from './frame.js';

/** Removes the `#acct|` (or bare '|') prefix; returns the account if present. */
export function splitAccount(data: string): { account?: string; body: string } {
  const d = data.startsWith('|') ? data.slice(1) : data;
  const m = /^#([0-9A-Fa-f]{3,16})\|/.exec(d);
  if (m) return { account: m[1]!.toUpperCase(), body: d.slice(m[0].length) };
  return { body: d };
}

/**
 * SIA-DCS data: after the optional `#acct|`, '|'-separated blocks. An event block starts with
 * 'N' (new) or 'O' (old) — or directly with its code, as some panels send — and holds
 * '/'-separated modifiers and codes, one event per code (`Nri1/BA001/BA002` is two events).
 * An 'A' block is ASCII text (`#1234|NRR|Atest`, `#1234|AService visit`): it is attached to
 * the events of the message as `panelText`, and a message of text alone is one 'other' event
 * carrying it, never a made-up code. Blocks of other kinds are kept as sent in `blocks`.
 */
export function decodeSiaDcs(data: string): Dc09Result<PanelEvent[]> {
  const { body } = splitAccount(data);
  if (body.length === 0) return fail('format', 'empty SIA-DCS data');
  const events: PanelEvent[] = [];
  const texts: string[] = [];
  const others: string[] = [];
  for (const block of body.split('|')) {
    if (block.length === 0) continue;
    if (isTextBlock(block)) {
      texts.push(block.slice(1).trim());
      continue;
    }
    if (!/^[NO]?[A-Za-z]{2}/.test(block)) {
      others.push(block);
      continue;
    }
    const decoded = decodeEventBlock(block);
    if (!decoded.ok) return decoded;
    events.push(...decoded.value);
  }
  const panelText = texts.filter((t) => t.length > 0).join(' / ');
  if (events.length === 0) {
    if (texts.length === 0) return fail('format', 'SIA-DCS data without an event code or a text block');
    const text = panelText || 'SIA text message';
    events.push({ protocol: 'SIA-DCS', kind: 'other', category: 'other', area: null, zone: null, code: '', text });
  }
  for (const ev of events) {
    if (panelText) ev.panelText = panelText;
    if (others.length) ev.blocks = others;
  }
  return { ok: true, value: events };
}

/**
 * `A` + text, and not an event code that happens to start with A (`AT000` AC trouble,
 * `AR` AC restoral): a code is two capitals followed by digits, '^', '/' or the end.
 */
function isTextBlock(block: string): boolean {
  if (!block.startsWith('A')) return false;
  return !(/^A[A-Z](?:\d|\^|\/|$)/.test(block) && SIA_CODES[block.slice(0, 2)] !== undefined);
}

function decodeEventBlock(block: string): Dc09Result<PanelEvent[]> {
  let body = block;
  // 'N' (new) / 'O' (old) prefix — but OP, OA, OG, OR… are codes themselves: strip the letter
  // only when what follows is a modifier or a known code, or the body is not a code as it stands.
  const startsKnown = (s: string) => /^[a-z]{2}/.test(s) || SIA_CODES[s.slice(0, 2)] !== undefined;
  if (/^[NO][A-Za-z]/.test(body) && (startsKnown(body.slice(1)) || !startsKnown(body))) body = body.slice(1);
  const events: PanelEvent[] = [];
  let area: number | null = null;
  let user: number | undefined;
  for (const part of body.split('/')) {
    let i = 0;
    while (i < part.length) {
      const two = part.slice(i, i + 2);
      if (/^[a-z]{2}$/.test(two)) {
        // Modifier: value runs to the next letter (ti carries "hh:mm").
        const value = /^[0-9:.-]*/.exec(part.slice(i + 2))![0];
        if (two === 'ri' && /^\d+$/.test(value)) area = Number(value);
        if (two === 'id' && /^\d+$/.test(value)) user = Number(value);
        i += 2 + value.length;
      } else if (/^[A-Z]{2}$/.test(two)) {
        const rest = part.slice(i + 2);
        const addr = /^\d*/.exec(rest)![0];
        let note: string | undefined;
        const caret = rest.indexOf('^');
        if (caret >= 0) {
          const end = rest.indexOf('^', caret + 1);
          note = rest.slice(caret + 1, end < 0 ? undefined : end).trim();
        }
        events.push(siaEvent(two, addr === '' ? null : Number(addr), area, user, note));
        // One code per '/' part: trailing characters (e.g. `OP001NM`) are panel-specific
        // annotations we keep nothing of, rather than inventing a second event.
        i = part.length;
      } else {
        return fail('format', `unexpected ${JSON.stringify(two)} in SIA-DCS block ${JSON.stringify(part.slice(0, 40))}`);
      }
    }
  }
  return { ok: true, value: events };
}

function siaEvent(code: string, addr: number | null, area: number | null, user: number | undefined, note: string | undefined): PanelEvent {
  const entry = SIA_CODES[code];
  const ev: PanelEvent = entry
    ? { protocol: 'SIA-DCS', kind: entry[0], category: entry[1], area, zone: addr, code, text: entry[2] }
    : { protocol: 'SIA-DCS', kind: 'other', category: 'other', area, zone: addr, code, text: `SIA ${code}` };
  if (entry?.[3]) ev.restoreOf = entry[3];
  if (SIA_USER_CODES.has(code)) {
    ev.zone = null;
    const u = addr ?? user;
    if (u !== undefined && u !== null) ev.user = u;
  } else if (user !== undefined) ev.user = user;
  if (ev.kind === 'bypass') ev.restored = SIA_UNBYPASS.has(code);
  if (note) ev.note = note;
  return ev;
}

const CID = /^([136])(\d{3}) ?(\d{2}) ?(\d{3})$/;

export function decodeContactId(data: string): Dc09Result<PanelEvent[]> {
  const { body } = splitAccount(data);
  const m = CID.exec(body.trim());
  if (!m) return fail('format', `not Contact ID "QEEE GG CCC": ${JSON.stringify(body.slice(0, 40))}`);
  const [q, code, group, point] = [m[1]!, m[2]!, Number(m[3]), Number(m[4])];
  const entry = CONTACT_ID_CODES[code];
  const qual = q === '1' ? 'E' : q === '3' ? 'R' : 'P';
  const ev: PanelEvent = {
    protocol: 'ADM-CID',
    kind: 'other',
    category: entry?.[1] ?? 'other',
    area: group,
    zone: point,
    code: `${qual}${code}`,
    text: entry?.[2] ?? `Contact ID ${code}`,
  };
  const base = entry?.[0] ?? 'other';
  // Qualifier 6 (previously reported, still present) re-asserts the condition: raising is
  // idempotent downstream, so it is treated like a new event.
  const restore = q === '3';
  switch (base) {
    case 'alarm':
    case 'trouble':
      ev.kind = restore ? 'restore' : base;
      if (restore) ev.restoreOf = base;
      break;
    case 'openclose':
      ev.kind = restore ? 'close' : 'open';
      ev.zone = null;
      ev.user = point;
      break;
    case 'bypass':
      ev.kind = 'bypass';
      ev.restored = restore;
      break;
    case 'test':
      ev.kind = 'test';
      break;
    default:
      ev.kind = 'other';
  }
  return { ok: true, value: [ev] };
}

/** Decodes the data of a message by its id token; NULL (link test) has no events. */
export function decodePayload(token: string, data: string): Dc09Result<PanelEvent[]> {
  switch (token) {
    case 'SIA-DCS':
      return decodeSiaDcs(data);
    case 'ADM-CID':
      return decodeContactId(data);
    case 'NULL':
      return { ok: true, value: [] };
    default:
      return fail('token', `unsupported id token "${token}"`);
  }
}
