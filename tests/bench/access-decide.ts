/**
 * Local access decisions with a compound-sized credential set (100,000) on a real SQLite
 * file: how long a full snapshot takes to apply when it arrives as the platform sends it
 * (64 KB commands), how long a restart takes to load the index, and the cost of one
 * decision against a baseline measured in the same run — a bare Map lookup plus the one
 * HMAC a card lookup needs, which is the floor any hashed store pays.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessConfig } from '../../config/access-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { AccessDecider } from '../../gateway/access/decider.js';
import type { Credential, SnapshotChunk } from '../../gateway/access/credential-types.js';
import { migratedDb, scoped } from '../helpers/store.js';

/** The largest MQTT command the platform sends; the envelope around `credentials` gets 1 KB of it. */
export const COMMAND_MAX_BYTES = 64 * 1024;
const ENVELOPE_BYTES = 1024;

export const BENCH_DOORS = ['gate', 'lobby', 'gym', 'garage', 'bike-room'];
export const BENCH_CONFIG = AccessConfig.parse({
  timezone: 'Asia/Shanghai',
  doorGroups: { residents: ['gate', 'lobby'], sport: ['gym'], parking: ['garage'] },
  schedules: { daytime: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] } },
  antiPassback: [{ id: 'compound', doors: ['gate'], mode: 'soft' }],
});

/** Card value of credential i: 16 hex digits, unique per i, spread over the space. */
export function benchCard(i: number): string {
  return (((i * 2_654_435_761) >>> 0).toString(16).padStart(8, '0') + i.toString(16).padStart(8, '0')).toUpperCase();
}

/** A realistic mix: 80 % card, 10 % PIN-only, 10 % card+PIN; a few with schedules and lease ends. */
export function syntheticCredentials(n: number): Credential[] {
  const out: Credential[] = [];
  for (let i = 0; i < n; i++) {
    const groups = i % 3 === 0 ? ['residents', 'sport'] : i % 3 === 1 ? ['residents'] : ['residents', 'parking'];
    const c: Credential =
      i % 10 === 8
        ? { id: `res-${i}`, pin: String(10_000_000 + i), mode: 'pin', groups }
        : i % 10 === 9
          ? { id: `res-${i}`, card: benchCard(i), pin: String(1000 + (i % 9000)), mode: 'card+pin', groups }
          : { id: `res-${i}`, card: benchCard(i), mode: 'card', groups };
    if (i % 7 === 0) c.schedule = 'daytime';
    if (i % 5 === 0) c.validTo = '2030-01-01T00:00:00+08:00';
    out.push(c);
  }
  return out;
}

/** Splits a snapshot into chunks whose JSON fits one command. */
export function chunkSnapshot(version: number, credentials: Credential[], maxBytes = COMMAND_MAX_BYTES): SnapshotChunk[] {
  const groups: Credential[][] = [];
  let current: Credential[] = [];
  let size = 0;
  for (const c of credentials) {
    const len = Buffer.byteLength(JSON.stringify(c)) + 1;
    if (current.length > 0 && size + len > maxBytes - ENVELOPE_BYTES) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(c);
    size += len;
  }
  if (current.length > 0 || groups.length === 0) groups.push(current);
  return groups.map((credentials, chunk) => ({ version, chunk, chunks: groups.length, credentials }));
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

type Req = { door: string; direction: 'in'; card: string };

/** 60 % granted, 20 % unknown card, 20 % wrong door, in random order. */
function requests(n: number, credentials: number): Req[] {
  const out: Req[] = [];
  for (let k = 0; k < n; k++) {
    let i = Math.floor(Math.random() * credentials);
    while (i % 10 === 8 || i % 10 === 9) i = (i + 1) % credentials; // card-only credentials
    const roll = Math.random();
    if (roll < 0.6) out.push({ door: 'lobby', direction: 'in', card: benchCard(i) });
    else if (roll < 0.8) out.push({ door: 'lobby', direction: 'in', card: randomBytes(8).toString('hex').toUpperCase() });
    else out.push({ door: 'bike-room', direction: 'in', card: benchCard(i) });
  }
  return out;
}

export async function benchAccessDecide(opts: { quick: boolean }): Promise<Record<string, number | string>> {
  const n = opts.quick ? 20_000 : 100_000;
  const decisions = opts.quick ? 20_000 : 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-access-'));
  const file = join(dir, 'outbox.db');
  const hashKey = randomBytes(32);
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 4, 0, 0));
  try {
    const credentials = syntheticCredentials(n);
    // What arrives over MQTT is text: parsing it is part of applying a command.
    const commands = chunkSnapshot(1, credentials).map((c) => JSON.stringify(c));

    let db = migratedDb(file);
    let decider = new AccessDecider({ db: scoped(db, 'access'), hashKey, config: BENCH_CONFIG, doors: BENCH_DOORS, clock });
    let t0 = performance.now();
    for (const text of commands) decider.sync.applySnapshotChunk(JSON.parse(text));
    const snapshotMs = performance.now() - t0;
    if (decider.store.count() !== n) throw new Error(`snapshot applied ${decider.store.count()} of ${n}`);
    db.close();

    // The index's memory is only meaningful when garbage is collected on both sides (node --expose-gc).
    const gc = (globalThis as { gc?: () => void }).gc;
    decider = undefined as unknown as AccessDecider;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    t0 = performance.now();
    db = migratedDb(file);
    decider = new AccessDecider({ db: scoped(db, 'access'), hashKey, config: BENCH_CONFIG, doors: BENCH_DOORS, clock });
    const reopenMs = performance.now() - t0;
    gc?.();
    const indexHeapMb: number = Math.max(0, process.memoryUsage().heapUsed - heapBefore) / 1024 ** 2;

    const reqs = requests(decisions, n);
    // Baseline: the same lookups as a bare Map keyed by the card's HMAC.
    const bare = new Map<string, string>();
    for (const c of credentials)
      if (c.card && c.mode !== 'pin') bare.set(createHmac('sha256', hashKey).update(`card:${c.card}`).digest('hex'), c.id);
    const baseline = new Float64Array(reqs.length);
    const measured = new Float64Array(reqs.length);
    let sink = 0;
    let granted = 0;
    // Warm both paths up so JIT compilation is not in the percentiles.
    for (let k = 0; k < Math.min(5000, reqs.length); k++) {
      sink += bare.get(createHmac('sha256', hashKey).update(`card:${reqs[k]!.card}`).digest('hex'))?.length ?? 0;
      decider.decide(reqs[k]!);
    }
    for (let k = 0; k < reqs.length; k++) {
      const r = reqs[k]!;
      let t = performance.now();
      sink += bare.get(createHmac('sha256', hashKey).update(`card:${r.card}`).digest('hex'))?.length ?? 0;
      baseline[k] = performance.now() - t;
      t = performance.now();
      const d = decider.decide(r);
      measured[k] = performance.now() - t;
      if (d.granted) granted++;
    }
    db.close();
    baseline.sort();
    measured.sort();
    const us = (ms: number) => ms * 1000;
    const result = {
      credentials: n,
      chunks: commands.length,
      snapshotApplyMs: snapshotMs,
      snapshotPerSec: (n / snapshotMs) * 1000,
      reopenMs,
      indexHeapMb: gc ? indexHeapMb : 'run node with --expose-gc',
      dbFileMb: statSync(file).size / 1024 ** 2,
      decisions: reqs.length,
      grantedShare: granted / reqs.length,
      baselineP50Us: us(percentile(baseline, 50)),
      baselineP99Us: us(percentile(baseline, 99)),
      decideP50Us: us(percentile(measured, 50)),
      decideP99Us: us(percentile(measured, 99)),
      ratioP50: percentile(measured, 50) / percentile(baseline, 50),
      ratioP99: percentile(measured, 99) / percentile(baseline, 99),
      baselineLabel: 'Map.get(HMAC-SHA256(card)) per decision',
      sink,
    };
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
