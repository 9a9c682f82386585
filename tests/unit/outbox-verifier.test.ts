/**
 * The platform-side checker that the outbox and uplink tests lean on: if it could not see a
 * lost event, a reordering, a lying duplicate or an inexact eviction report, those tests
 * would prove nothing. Each failure is shown to it on purpose here.
 */
import { describe, expect, it } from 'vitest';
import { EventChecker, envelopeProblem } from '../../sim/verifier.js';

let ids = 0;
const ulid = () => `01JD3M6R9Q8Z4X7V2N5T0B${String(ids++).padStart(4, '0')}`;
const env = (seq: number, extra: Record<string, unknown> = {}) => ({
  v: 1,
  id: ulid(),
  seq,
  ts: '2026-11-21T21:03:11.123Z',
  clock: 'synced',
  type: 'test.tick',
  source: { device: 'd1' },
  data: {},
  ...extra,
});
const buf = (e: unknown) => Buffer.from(JSON.stringify(e));
const evicted = (seq: number, data: Record<string, unknown>) =>
  env(seq, { type: 'outbox.evicted', source: { device: 'gateway' }, data: { reason: 'disk-cap', ...data } });

describe('EventChecker', () => {
  it('accepts a clean stream with duplicates that carry the same bytes', () => {
    const c = new EventChecker();
    const events = [1, 2, 3, 4].map((s) => env(s));
    for (const e of events) c.addEvent('access', buf(e));
    c.addEvent('access', buf(events[1])); // a QoS 1 re-send
    const r = c.report();
    expect(r).toMatchObject({ ok: true, unique: 4, duplicates: 1, messages: 5, missingCount: 0, received: [[1, 4]], evictionsExact: true });
  });

  it('names each envelope defect', () => {
    expect(envelopeProblem(env(1))).toBeUndefined();
    expect(envelopeProblem(env(1, { v: 2 }))).toMatch(/v is/);
    expect(envelopeProblem(env(1, { id: 'nope' }))).toMatch(/ULID/);
    expect(envelopeProblem(env(1.5))).toMatch(/seq/);
    expect(envelopeProblem(env(1, { ts: 'yesterday' }))).toMatch(/ts/);
    expect(envelopeProblem(env(1, { clock: 'maybe' }))).toMatch(/clock/);
    expect(envelopeProblem(env(1, { source: {} }))).toMatch(/source.device/);
    expect(envelopeProblem(env(1, { data: [] }))).toMatch(/data/);
    const c = new EventChecker();
    c.addEvent('access', Buffer.from('{not json'));
    c.addEvent('weather', buf(env(1)));
    expect(c.report().envelopeErrors.map((e) => e.error)).toEqual(['not JSON', 'unknown event class "weather"']);
  });

  it('fails a re-delivery with different content, and an id re-used for another seq', () => {
    const c = new EventChecker();
    const e = env(1);
    c.addEvent('access', buf(e));
    c.addEvent('access', buf({ ...e, data: { changed: true } }));
    c.addEvent('access', buf({ ...env(2), id: e.id }));
    const r = c.report();
    expect(r.ok).toBe(false);
    expect(r.conflictCount).toBe(2);
  });

  it('fails a first delivery that is older than one already seen in its class, not across classes', () => {
    const c = new EventChecker();
    const two = env(2);
    c.addEvent('alarm', buf(two));
    c.addEvent('access', buf(env(1))); // another class: fine
    c.addEvent('alarm', buf(env(3)));
    c.addEvent('alarm', buf(two)); // a re-send: fine
    expect(c.report().ok).toBe(true);
    const d = new EventChecker();
    d.addEvent('alarm', buf(env(3)));
    d.addEvent('alarm', buf(env(2)));
    expect(d.report()).toMatchObject({ ok: false, orderViolationCount: 1, orderViolations: [{ class: 'alarm', seq: 2, afterSeq: 3 }] });
  });

  it('accepts gaps only when eviction reports cover them with exact counts', () => {
    const good = new EventChecker();
    good.addEvent('alarm', buf(env(1)));
    good.addEvent('alarm', buf(env(4)));
    good.addEvent('system', buf(evicted(5, { class: 'device', fromSeq: 2, toSeq: 3, count: 2 })));
    expect(good.report()).toMatchObject({ ok: true, missing: [[2, 3]], evictedCount: 2, evictionsExact: true });

    const uncovered = new EventChecker();
    uncovered.addEvent('alarm', buf(env(1)));
    uncovered.addEvent('alarm', buf(env(4)));
    expect(uncovered.report()).toMatchObject({ ok: false, uncovered: [[2, 3]] });

    const overcount = new EventChecker();
    overcount.addEvent('alarm', buf(env(1)));
    overcount.addEvent('alarm', buf(env(3)));
    overcount.addEvent('system', buf(evicted(4, { class: 'device', fromSeq: 2, toSeq: 2, count: 2 })));
    expect(overcount.report().problems.join()).toMatch(/count 2 event\(s\) but 1/);

    const lied = new EventChecker();
    lied.addEvent('device', buf(env(1)));
    lied.addEvent('system', buf(evicted(2, { class: 'device', fromSeq: 1, toSeq: 1, count: 1 })));
    expect(lied.report()).toMatchObject({ ok: false, deliveredInEvicted: [1] });
  });

  it('counts seqs named only by a report (the newest rows evicted) as existing', () => {
    const c = new EventChecker();
    c.addEvent('system', buf(evicted(1, { class: 'device', fromSeq: 2, toSeq: 5, count: 4 })));
    expect(c.report()).toMatchObject({ ok: true, maxSeq: 5, missingCount: 4, evictedCount: 4 });
  });
});
