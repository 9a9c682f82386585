/**
 * DC-09 extended data (x-data): the `[Xvalue]` blocks between the data's ']' and the
 * timestamp. Each block is one identifier letter and its value. The identifiers follow the
 * DC-09 list (as tabulated by pysiaalarm's xdata.json): A authentication hash,
 * C supervision category, H time of occurrence, I alarm text, J network path, K encryption
 * key, L location, M MAC address, N network address, O building name, P program data,
 * R room, S site name, T alarm trigger, V verification (audio/video), X longitude,
 * Y latitude, Z altitude.
 *
 * Named fields for what is known, `raw` for every block as sent (so nothing the panel said is
 * lost, unknown identifiers included). One exception: a K block carries a new AES key; it is
 * a secret, so it is reported as `keyChange: true` and its value is kept nowhere.
 */
import { parseTimestamp } from './frame.js';

export interface Dc09ExtendedData {
  /** Every block as sent (`X001E02.1`), K values replaced by `K[redacted]`. */
  raw: string[];
  authenticationHash?: string;
  supervisionCategory?: string;
  /** H: when the event happened, as sent, and as ISO-8601 when it is a DC-09 timestamp. */
  occurredAt?: string;
  occurredAtIso?: string;
  alarmText?: string;
  networkPath?: string;
  /** K: the panel asked for a key change (the key itself is never kept). */
  keyChange?: true;
  location?: string;
  mac?: string;
  networkAddress?: string;
  buildingName?: string;
  program?: string;
  room?: string;
  siteName?: string;
  trigger?: string;
  /** V: verification information as sent; `verificationUrl` when it is an http(s) link. */
  verification?: string;
  verificationUrl?: string;
  /** X/Y/Z as sent; the numbers in decimal degrees (east/north positive) and metres when they parse. */
  longitude?: string;
  latitude?: string;
  altitude?: string;
  longitudeDeg?: number;
  latitudeDeg?: number;
  altitudeM?: number;
}

type TextField =
  | 'authenticationHash'
  | 'supervisionCategory'
  | 'alarmText'
  | 'networkPath'
  | 'location'
  | 'networkAddress'
  | 'buildingName'
  | 'program'
  | 'room'
  | 'siteName'
  | 'trigger'
  | 'longitude'
  | 'latitude'
  | 'altitude';

const TEXT_FIELDS: Readonly<Record<string, TextField>> = {
  A: 'authenticationHash',
  C: 'supervisionCategory',
  I: 'alarmText',
  J: 'networkPath',
  L: 'location',
  N: 'networkAddress',
  O: 'buildingName',
  P: 'program',
  R: 'room',
  S: 'siteName',
  T: 'trigger',
  X: 'longitude',
  Y: 'latitude',
  Z: 'altitude',
};

/** Decimal degrees from `E8.5432`, `-8.5432`, `8.5432W` or `N47.3769` style values; undefined otherwise. */
export function parseCoordinate(value: string, positive: 'E' | 'N', negative: 'W' | 'S'): number | undefined {
  const m = /^([NSEW])?\s*([+-]?\d{1,3}(?:\.\d+)?)\s*([NSEW])?$/i.exec(value.trim());
  if (!m) return undefined;
  const hemi = (m[1] ?? m[3])?.toUpperCase();
  if (hemi !== undefined && hemi !== positive && hemi !== negative) return undefined;
  const n = Number(m[2]) * (hemi === negative ? -1 : 1);
  const limit = positive === 'E' ? 180 : 90;
  return Number.isFinite(n) && Math.abs(n) <= limit ? n : undefined;
}

export function parseExtendedData(blocks: readonly string[]): Dc09ExtendedData {
  const x: Dc09ExtendedData = { raw: [] };
  for (const block of blocks) {
    const id = block.slice(0, 1).toUpperCase();
    const value = block.slice(1);
    if (id === 'K') {
      x.raw.push('K[redacted]');
      x.keyChange = true;
      continue;
    }
    x.raw.push(block);
    const field = TEXT_FIELDS[id];
    if (field) x[field] = value;
    else if (id === 'M') x.mac = value.toUpperCase();
    else if (id === 'H') {
      x.occurredAt = value;
      const t = parseTimestamp(value.startsWith('_') ? value : `_${value}`);
      if (t !== undefined) x.occurredAtIso = new Date(t).toISOString();
    } else if (id === 'V') {
      x.verification = value;
      // Only a plain web link becomes clickable: never javascript:, data: or the like.
      if (/^https?:\/\/[^\s"'<>]+$/i.test(value)) x.verificationUrl = value;
    }
  }
  if (x.longitude !== undefined) setIfDefined(x, 'longitudeDeg', parseCoordinate(x.longitude, 'E', 'W'));
  if (x.latitude !== undefined) setIfDefined(x, 'latitudeDeg', parseCoordinate(x.latitude, 'N', 'S'));
  if (x.altitude !== undefined && /^[+-]?\d+(?:\.\d+)?$/.test(x.altitude.trim())) x.altitudeM = Number(x.altitude.trim());
  return x;
}

function setIfDefined(x: Dc09ExtendedData, key: 'longitudeDeg' | 'latitudeDeg', v: number | undefined): void {
  if (v !== undefined) x[key] = v;
}
