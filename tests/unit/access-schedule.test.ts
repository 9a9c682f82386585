import { describe, expect, it } from 'vitest';
import { ScheduleConfig } from '../../config/access-schema.js';
import { isOpenAt, localTime } from '../../gateway/access/schedule.js';

const sched = (s: unknown) => ScheduleConfig.parse(s);
const utc = (iso: string) => Date.parse(iso);

describe('isOpenAt', () => {
  const office = sched({ weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] });

  it('windows are [from, to): open at from, closed at to', () => {
    // 2026-11-23 is a Monday; UTC keeps the arithmetic visible.
    expect(isOpenAt(office, [], 'UTC', utc('2026-11-23T07:59:59Z'))).toBe(false);
    expect(isOpenAt(office, [], 'UTC', utc('2026-11-23T08:00:00Z'))).toBe(true);
    expect(isOpenAt(office, [], 'UTC', utc('2026-11-23T17:59:59Z'))).toBe(true);
    expect(isOpenAt(office, [], 'UTC', utc('2026-11-23T18:00:00Z'))).toBe(false);
    expect(isOpenAt(office, [], 'UTC', utc('2026-11-22T12:00:00Z'))).toBe(false); // Sunday
  });

  it('24:00 closes at the end of the day, and the next day is its own', () => {
    const evenings = sched({
      weekly: [
        { days: ['mon'], from: '20:00', to: '24:00' },
        { days: ['tue'], from: '00:00', to: '01:00' },
      ],
    });
    expect(isOpenAt(evenings, [], 'UTC', utc('2026-11-23T23:59:59Z'))).toBe(true);
    expect(isOpenAt(evenings, [], 'UTC', utc('2026-11-24T00:00:00Z'))).toBe(true); // tuesday's own window
    expect(isOpenAt(evenings, [], 'UTC', utc('2026-11-24T01:00:00Z'))).toBe(false);
    const mondayOnly = sched({ weekly: [{ days: ['mon'], from: '00:00', to: '24:00' }] });
    expect(isOpenAt(mondayOnly, [], 'UTC', utc('2026-11-23T00:00:00Z'))).toBe(true);
    expect(isOpenAt(mondayOnly, [], 'UTC', utc('2026-11-22T23:59:59Z'))).toBe(false);
    expect(isOpenAt(mondayOnly, [], 'UTC', utc('2026-11-24T00:00:00Z'))).toBe(false);
  });

  it('uses the local weekday and time: Asia/Shanghai (UTC+8, no DST)', () => {
    // Sunday 23:30 UTC is Monday 07:30 in Shanghai; Monday 10:00 UTC is 18:00 there.
    expect(isOpenAt(office, [], 'Asia/Shanghai', utc('2026-11-22T23:30:00Z'))).toBe(false);
    expect(isOpenAt(office, [], 'Asia/Shanghai', utc('2026-11-23T00:00:00Z'))).toBe(true);
    expect(isOpenAt(office, [], 'Asia/Shanghai', utc('2026-11-23T09:59:00Z'))).toBe(true);
    expect(isOpenAt(office, [], 'Asia/Shanghai', utc('2026-11-23T10:00:00Z'))).toBe(false);
    // Friday 17:00 local = 09:00 UTC; Friday 20:00 UTC is already Saturday 04:00 there.
    expect(isOpenAt(office, [], 'Asia/Shanghai', utc('2026-11-27T09:00:00Z'))).toBe(true);
    expect(isOpenAt(office, [], 'Asia/Shanghai', utc('2026-11-27T20:00:00Z'))).toBe(false);
  });

  it('keeps local hours across the DST change in Europe/Berlin (last Sunday of March 2026)', () => {
    const sunday = sched({ weekly: [{ days: ['sun'], from: '03:00', to: '04:00' }] });
    // 2026-03-22 (CET, UTC+1): 03:00 local = 02:00 UTC. 2026-03-29 (CEST from 01:00 UTC): 03:00 local = 01:00 UTC.
    expect(isOpenAt(sunday, [], 'Europe/Berlin', utc('2026-03-22T01:59:00Z'))).toBe(false);
    expect(isOpenAt(sunday, [], 'Europe/Berlin', utc('2026-03-22T02:00:00Z'))).toBe(true);
    expect(isOpenAt(sunday, [], 'Europe/Berlin', utc('2026-03-29T00:59:00Z'))).toBe(false); // 01:59 CET
    expect(isOpenAt(sunday, [], 'Europe/Berlin', utc('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(isOpenAt(sunday, [], 'Europe/Berlin', utc('2026-03-29T01:59:00Z'))).toBe(true);
    expect(isOpenAt(sunday, [], 'Europe/Berlin', utc('2026-03-29T02:00:00Z'))).toBe(false); // 04:00 CEST
  });

  it('a window inside the skipped hour never opens on the spring-forward day', () => {
    const skipped = sched({ weekly: [{ days: ['sun'], from: '02:00', to: '03:00' }] });
    for (let t = utc('2026-03-28T22:00:00Z'); t < utc('2026-03-29T22:00:00Z'); t += 60_000) {
      expect(isOpenAt(skipped, [], 'Europe/Berlin', t)).toBe(false);
    }
  });

  it('the repeated hour in October counts twice (local time is what the window means)', () => {
    const night = sched({ weekly: [{ days: ['sun'], from: '02:00', to: '03:00' }] });
    // 2026-10-25: 02:00-03:00 local happens at 00:00-01:00 UTC (CEST) and again at 01:00-02:00 UTC (CET).
    expect(isOpenAt(night, [], 'Europe/Berlin', utc('2026-10-25T00:30:00Z'))).toBe(true);
    expect(isOpenAt(night, [], 'Europe/Berlin', utc('2026-10-25T01:30:00Z'))).toBe(true);
    expect(isOpenAt(night, [], 'Europe/Berlin', utc('2026-10-25T02:00:00Z'))).toBe(false);
  });

  it('on a holiday (local date) only the holiday windows apply; none means closed', () => {
    const withHoliday = sched({ weekly: [{ days: ['fri'], from: '08:00', to: '18:00' }], holidays: [{ from: '10:00', to: '12:00' }] });
    const holidays = new Set(['2026-12-25']); // a Friday
    expect(isOpenAt(withHoliday, holidays, 'Asia/Shanghai', utc('2026-12-25T01:00:00Z'))).toBe(false); // 09:00 local
    expect(isOpenAt(withHoliday, holidays, 'Asia/Shanghai', utc('2026-12-25T02:00:00Z'))).toBe(true); // 10:00 local
    expect(isOpenAt(withHoliday, holidays, 'Asia/Shanghai', utc('2026-12-25T04:00:00Z'))).toBe(false); // 12:00 local
    // without holiday windows the office schedule is closed all holiday long
    expect(isOpenAt(office, ['2026-12-25'], 'Asia/Shanghai', utc('2026-12-25T01:00:00Z'))).toBe(false);
    // the day before is a normal Thursday
    expect(isOpenAt(office, ['2026-12-25'], 'Asia/Shanghai', utc('2026-12-24T01:00:00Z'))).toBe(true);
    // in UTC the same instant is still the 24th
    expect(isOpenAt(office, ['2026-12-25'], 'UTC', utc('2026-12-24T23:59:00Z'))).toBe(false);
    expect(isOpenAt(office, ['2026-12-25'], 'UTC', utc('2026-12-24T17:59:00Z'))).toBe(true);
  });

  it('localTime gives weekday, date and minute in the zone', () => {
    expect(localTime('Asia/Shanghai', utc('2026-11-22T16:00:00Z'))).toEqual({ weekday: 'mon', date: '2026-11-23', minute: 0 });
    expect(localTime('Europe/Berlin', utc('2026-11-22T22:59:00Z'))).toEqual({ weekday: 'sun', date: '2026-11-22', minute: 23 * 60 + 59 });
    expect(localTime('UTC', utc('2026-11-23T00:00:30Z'))).toEqual({ weekday: 'mon', date: '2026-11-23', minute: 0 });
  });
});
