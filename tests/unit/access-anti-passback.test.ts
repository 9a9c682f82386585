import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AntiPassbackConfig } from '../../config/access-schema.js';
import { AntiPassback } from '../../gateway/access/anti-passback.js';
import { creds, makeDecider, SAT_NOON } from './access-fixtures.js';
import { migratedDb, scoped } from '../helpers/store.js';

const area = (over: Record<string, unknown> = {}) => AntiPassbackConfig.parse({ id: 'compound', doors: ['gate', 'side'], ...over });
const MIN = 60_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('AntiPassback', () => {
  it('hard: in while inside and out while outside are violations; unknown state may go either way', () => {
    const apb = new AntiPassback({ db: scoped(migratedDb(), 'access'), areas: [area({ mode: 'hard' })] });
    const t = SAT_NOON;
    expect(apb.check('a', 'gate', 'in', t)).toEqual({ ok: true });
    expect(apb.check('a', 'gate', 'out', t)).toEqual({ ok: true });
    apb.commit('a', 'gate', 'in', t);
    expect(apb.check('a', 'gate', 'in', t + 1)).toEqual({ ok: false, area: 'compound', mode: 'hard' });
    // another door of the same area counts as the same area
    expect(apb.check('a', 'side', 'in', t + 1)).toEqual({ ok: false, area: 'compound', mode: 'hard' });
    expect(apb.check('a', 'side', 'out', t + 1)).toEqual({ ok: true });
    apb.commit('a', 'side', 'out', t + 2);
    expect(apb.check('a', 'gate', 'out', t + 3)).toEqual({ ok: false, area: 'compound', mode: 'hard' });
    expect(apb.check('a', 'gate', 'in', t + 3)).toEqual({ ok: true });
    // other credentials and doors outside any area are not affected
    expect(apb.check('b', 'gate', 'in', t + 3)).toEqual({ ok: true });
    expect(apb.check('a', 'lobby', 'in', t + 3)).toEqual({ ok: true });
    expect(apb.guards('lobby')).toBe(false);
  });

  it('soft: reported as a soft violation', () => {
    const apb = new AntiPassback({ db: scoped(migratedDb(), 'access'), areas: [area({ mode: 'soft' })] });
    apb.commit('a', 'gate', 'in', SAT_NOON);
    expect(apb.check('a', 'gate', 'in', SAT_NOON + 1)).toEqual({ ok: false, area: 'compound', mode: 'soft' });
  });

  it('a hard area wins over a soft one sharing the door', () => {
    const apb = new AntiPassback({
      db: scoped(migratedDb(), 'access'),
      areas: [area({ id: 'outer', mode: 'soft' }), area({ id: 'inner', mode: 'hard', doors: ['gate'] })],
    });
    apb.commit('a', 'gate', 'in', SAT_NOON);
    expect(apb.check('a', 'gate', 'in', SAT_NOON + 1)).toEqual({ ok: false, area: 'inner', mode: 'hard' });
  });

  it('forgets the state after resetAfterMin without a move, and never when it is 0', () => {
    const apb = new AntiPassback({
      db: scoped(migratedDb(), 'access'),
      areas: [area({ resetAfterMin: 30 }), area({ id: 'forever', doors: ['vault'], resetAfterMin: 0 })],
    });
    apb.commit('a', 'gate', 'in', SAT_NOON);
    apb.commit('a', 'vault', 'in', SAT_NOON);
    expect(apb.check('a', 'gate', 'in', SAT_NOON + 30 * MIN - 1).ok).toBe(false);
    expect(apb.check('a', 'gate', 'in', SAT_NOON + 30 * MIN).ok).toBe(true);
    expect(apb.check('a', 'vault', 'in', SAT_NOON + 365 * 24 * 60 * MIN).ok).toBe(false);
  });

  it('a guard can forget a credential', () => {
    const apb = new AntiPassback({ db: scoped(migratedDb(), 'access'), areas: [area()] });
    apb.commit('a', 'gate', 'in', SAT_NOON);
    apb.forget('a');
    expect(apb.check('a', 'gate', 'in', SAT_NOON + 1).ok).toBe(true);
  });

  it('survives closing and reopening the SQLite file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-apb-'));
    dirs.push(dir);
    const file = join(dir, 'outbox.db');
    let db = migratedDb(file);
    new AntiPassback({ db: scoped(db, 'access'), areas: [area()] }).commit('a', 'gate', 'in', SAT_NOON);
    db.close();
    db = migratedDb(file);
    const apb = new AntiPassback({ db: scoped(db, 'access'), areas: [area()] });
    expect(apb.check('a', 'gate', 'in', SAT_NOON + MIN)).toEqual({ ok: false, area: 'compound', mode: 'hard' });
    db.close();
  });

  it('through the decider, the state survives a reopen of the database file too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-apb-'));
    dirs.push(dir);
    const file = join(dir, 'outbox.db');
    let db = migratedDb(file);
    const first = makeDecider({ db, credentials: [creds.alice] });
    expect(first.decider.decide({ door: 'gate', direction: 'in', card: creds.alice.card }).reason).toBe('granted');
    first.decider.commitPassage({ credentialId: 'alice', door: 'gate', direction: 'in' });
    db.close();
    db = migratedDb(file);
    const second = makeDecider({ db });
    expect(second.decider.decide({ door: 'gate', direction: 'in', card: creds.alice.card }).reason).toBe('anti_passback');
    // resetAfterMin is 60 in the fixture config
    expect(second.decider.decide({ door: 'gate', direction: 'in', card: creds.alice.card, now: SAT_NOON + 60 * MIN }).reason).toBe(
      'granted',
    );
    db.close();
  });
});
