/**
 * Durable recording rate: Outbox.record() (synchronous=FULL, group commit, envelope
 * stamping) against raw better-sqlite3 inserts of the same bodies in transactions of the
 * same size (WAL, better-sqlite3's default synchronous=NORMAL) measured in the same run.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { systemClock } from '../../gateway/core/clock.js';
import type { EventInput } from '../../gateway/core/events.js';
import { untyped } from '../helpers/untyped-event.js';

export interface RecordRateResult {
  events: number;
  baselinePerSec: number;
  outboxPerSec: number;
  ratio: number;
}

export function sampleEvent(i: number): EventInput {
  return untyped({
    class: i % 10 === 0 ? 'alarm' : i % 3 === 0 ? 'access' : 'charging',
    type: i % 10 === 0 ? 'alarm.raised' : i % 3 === 0 ? 'access.granted' : 'charging.meter',
    source: { device: `dev-${i % 50}`, point: `p-${i % 12}` },
    data: { n: i, power: 311.5, energyWh: 1234 + i, credential: '****5678' },
  });
}

export async function benchRecordRate(events = 300_000): Promise<RecordRateResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-rec-'));
  try {
    // Baseline: raw inserts, same row shape and body size, 5000 per transaction.
    const db = new Database(join(dir, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, class TEXT, recorded_at INTEGER, synced INTEGER, pinned INTEGER, body TEXT)');
    const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, 1, 0, ?)');
    const bodies = Array.from({ length: 1000 }, (_, i) =>
      JSON.stringify({ v: 1, id: '01JD3M6R9Q8ZABCDEFGHJKMNPQ', seq: i, ts: new Date().toISOString(), clock: 'synced', ...sampleEvent(i) }),
    );
    const tx = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(i + 1, 'charging', Date.now(), bodies[i % 1000]);
    });
    let t0 = performance.now();
    for (let i = 0; i < events; i += 5000) tx(i, Math.min(events, i + 5000));
    const baselineMs = performance.now() - t0;
    db.close();

    const outbox = new Outbox({
      file: join(dir, 'outbox.db'),
      clock: systemClock({ forceState: 'synced' }),
      config: { checkpointIntervalMs: 0, maxBytes: 4 * 1024 ** 3 },
    });
    t0 = performance.now();
    // Producers record in bursts, as drivers do; each burst is one group commit.
    const burst = 5000;
    for (let i = 0; i < events; i += burst) {
      const pending: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(events, i + burst); j++) pending.push(outbox.record(sampleEvent(j)));
      await Promise.all(pending);
    }
    const outboxMs = performance.now() - t0;
    outbox.close();
    const baselinePerSec = (events / baselineMs) * 1000;
    const outboxPerSec = (events / outboxMs) * 1000;
    return { events, baselinePerSec, outboxPerSec, ratio: outboxPerSec / baselinePerSec };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
