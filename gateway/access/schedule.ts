/**
 * Weekly schedules in the compound's time zone. Local weekday, date and minute of day come
 * from Intl.DateTimeFormat, so DST and zone rules are the platform's (ICU's) business, not
 * ours: on the spring-forward day a 02:30 window simply never occurs, and a window keeps its
 * local hours across the change.
 *
 * Windows are [from, to) in local minutes; `24:00` closes at the end of the day. On a
 * holiday date (access.holidays, local calendar date) only the holiday windows apply.
 */
import type { ScheduleConfig } from '../../config/access-schema.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface LocalTime {
  weekday: Weekday;
  /** YYYY-MM-DD in the zone. */
  date: string;
  /** Minutes since local midnight, 0-1439. */
  minute: number;
}

const WEEKDAYS: Record<string, Weekday> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };
const MINUTE_MS = 60_000;

/** Building a formatter costs far more than using one; a gateway has one zone. */
const formatters = new Map<string, Intl.DateTimeFormat>();
/**
 * Decisions come in bursts within the same minute; formatToParts is the costly part of a
 * schedule check, so the last minute's answer is kept per zone. Every zone in use today is
 * offset by whole minutes, so a UTC minute maps to one local minute.
 */
const lastMinute = new Map<string, { minuteIndex: number; local: LocalTime }>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localTime(timeZone: string, epochMs: number): LocalTime {
  const minuteIndex = Math.floor(epochMs / MINUTE_MS);
  const cached = lastMinute.get(timeZone);
  if (cached && cached.minuteIndex === minuteIndex) return cached.local;
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(epochMs)) parts[p.type] = p.value;
  const local: LocalTime = {
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 'mon',
    date: `${parts.year}-${parts.month}-${parts.day}`,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
  lastMinute.set(timeZone, { minuteIndex, local });
  return local;
}

/** `HH:MM` (00:00-24:00, as the config schema allows) to minutes since midnight. */
export function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

const inWindow = (minute: number, w: { from: string; to: string }) => minute >= minutesOf(w.from) && minute < minutesOf(w.to);

export function isOpenAt(
  schedule: ScheduleConfig,
  holidays: ReadonlySet<string> | readonly string[],
  timeZone: string,
  epochMs: number,
): boolean {
  const local = localTime(timeZone, epochMs);
  const isHoliday = holidays instanceof Set ? holidays.has(local.date) : (holidays as readonly string[]).includes(local.date);
  if (isHoliday) return schedule.holidays.some((w) => inWindow(local.minute, w));
  return schedule.weekly.some((w) => w.days.includes(local.weekday) && inWindow(local.minute, w));
}
