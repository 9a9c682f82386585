/**
 * Issue 18: a session's meter progress is written in the outbox's group commit, with the
 * meter events of the same poll (one commit and one fsync per event-loop turn), not in a
 * commit of its own per port. Checked on a real outbox.db through a second connection,
 * whose `PRAGMA data_version` moves once per commit made by the gateway's connection. The
 * same for a session's own row: started (a cabinet's sessions adopted at start) and stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { meterEvent, sessionStartedEvent, sessionStoppedEvent } from '../../gateway/charging/cabinet-events.js';
import { ChargingSessions } from '../../gateway/charging/sessions.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { Outbox } from '../../gateway/outbox/outbox.js';

const PORTS = 12;

describe('ChargingSessions progress in the outbox group commit', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let sessions: ChargingSessions;
  let reader: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-sessions-commit-'));
    clock = new ManualClock();
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    sessions = new ChargingSessions({ db: outbox.scope('charging'), clock, meterIntervalMs: 100 });
    reader = new Database(join(dir, 'outbox.db'), { readonly: true });
  });
  afterEach(() => {
    reader.close();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const version = () => reader.pragma('data_version', { simple: true }) as number;
  const row = (id: number) =>
    reader.prepare('SELECT last_meter_wh, energy_wh, elapsed_ms, stop_reason FROM charging_sessions WHERE session_id = ?').get(id) as {
      last_meter_wh: number;
      energy_wh: number;
      elapsed_ms: number;
      stop_reason: string | null;
    };

  it("commits one poll's twelve meter samples and their events in one transaction, progress visible only with the events", async () => {
    for (let p = 1; p <= PORTS; p++) sessions.start({ cabinet: 'cab-1', port: p, sessionId: p, meterStartWh: 1000, startedBy: 'local' });
    // The new rows are written in the next group commit (see the adoption test below): let it run.
    await new Promise<void>((r) => setImmediate(r));
    clock.advance(200);
    const before = version();
    const recorded: Promise<unknown>[] = [];
    for (let p = 1; p <= PORTS; p++) {
      const m = sessions.meter('cab-1', p, 1000 + p);
      expect(m).not.toBeNull();
      recorded.push(outbox.record(meterEvent(m!)));
    }
    // Nothing is on disk before the commit: the progress waits for the events' commit.
    expect(row(1)).toMatchObject({ last_meter_wh: 1000, energy_wh: 0 });
    await Promise.all(recorded);
    expect(version() - before).toBe(1);
    for (let p = 1; p <= PORTS; p++) expect(row(p)).toMatchObject({ last_meter_wh: 1000 + p, energy_wh: p, elapsed_ms: 200 });
    expect(reader.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: PORTS });
  });

  it('a stop in the same turn as a queued sample keeps the stop values', async () => {
    sessions.start({ cabinet: 'cab-1', port: 1, sessionId: 1, meterStartWh: 1000, startedBy: 'local' });
    clock.advance(200);
    const m = sessions.meter('cab-1', 1, 1010);
    const stopped = sessions.stop('cab-1', 1, 1020, 'unplugged');
    await outbox.record(meterEvent(m!));
    expect(stopped).toMatchObject({ energyWh: 20 });
    expect(row(1)).toMatchObject({ last_meter_wh: 1020, energy_wh: 20, stop_reason: 'unplugged' });
  });

  it("adopts a cabinet's twelve running sessions in the commit of their session_started events, not one commit each", async () => {
    const before = version();
    const recorded: Promise<unknown>[] = [];
    for (let p = 1; p <= PORTS; p++) {
      const s = sessions.start({ cabinet: 'cab-1', port: p, sessionId: 100 + p, meterStartWh: 1000, startedBy: 'local' });
      recorded.push(outbox.record(sessionStartedEvent(s)));
    }
    // Queued, not yet on disk; the ids are taken all the same.
    expect(reader.prepare('SELECT COUNT(*) AS n FROM charging_sessions').get()).toEqual({ n: 0 });
    expect(() => sessions.start({ cabinet: 'cab-2', port: 1, sessionId: 101, meterStartWh: 0, startedBy: 'local' })).toThrow(
      /already used/,
    );
    expect(sessions.start({ cabinet: 'cab-2', port: 1, meterStartWh: 0, startedBy: 'local' }).sessionId).toBe(100 + PORTS + 1);
    await Promise.all(recorded);
    expect(version() - before).toBe(1);
    expect(reader.prepare('SELECT COUNT(*) AS n FROM charging_sessions WHERE stopped_at IS NULL').get()).toEqual({ n: PORTS + 1 });
    expect(reader.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: PORTS });
  });

  it('a session started and stopped in one turn is written stopped, and reads as stopped before the commit', async () => {
    sessions.start({ cabinet: 'cab-1', port: 1, sessionId: 9, meterStartWh: 1000, startedBy: 'local' });
    clock.advance(200);
    sessions.meter('cab-1', 1, 1004);
    const stopped = sessions.stop('cab-1', 1, 1006, 'remote');
    expect(sessions.byId(9)).toMatchObject({ stopReason: 'remote', energyWh: 6 });
    await outbox.record(sessionStoppedEvent(stopped));
    expect(row(9)).toMatchObject({ last_meter_wh: 1006, energy_wh: 6, stop_reason: 'remote' });
    expect(sessions.byId(9)).toMatchObject({ stopReason: 'remote', energyWh: 6 });
  });

  it('a queued row the database refuses (not the disk) is dropped and reported; the events of its commit still commit', async () => {
    const errors: string[] = [];
    const guarded = new ChargingSessions({ db: outbox.scope('charging'), clock, onWriteError: (e) => errors.push(e.message) });
    const s = guarded.start({ cabinet: 'cab-9', port: 1, sessionId: 77, meterStartWh: 0, startedBy: 'local' });
    // Another writer takes id 77 before the group commit: the queued INSERT breaks the primary key.
    const other = new Database(join(dir, 'outbox.db'));
    other
      .prepare(
        `INSERT INTO charging_sessions (session_id, cabinet, port, started_at, started_synced, started_via, meter_start_wh, last_meter_wh, energy_wh, elapsed_ms)
         VALUES (77, 'elsewhere', 1, 0, 1, 'local', 0, 0, 0, 0)`,
      )
      .run();
    other.close();
    const env = await outbox.record(sessionStartedEvent(s));
    expect(env.seq).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/UNIQUE|PRIMARY/i);
    expect(reader.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 1 });
  });

  it('writes the progress of a sample recorded without an event too, at the next turn', async () => {
    sessions.start({ cabinet: 'cab-1', port: 1, sessionId: 1, meterStartWh: 1000, startedBy: 'local' });
    clock.advance(200);
    sessions.meter('cab-1', 1, 1005);
    await new Promise<void>((r) => setImmediate(r));
    expect(row(1)).toMatchObject({ last_meter_wh: 1005, energy_wh: 5 });
  });
});

describe('ChargingSessions.activeIds', () => {
  it("maps a cabinet's running sessions by port, only that cabinet's and only running ones", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-sessions-ids-'));
    const clock = new ManualClock();
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    try {
      const sessions = new ChargingSessions({ db: outbox.scope('charging'), clock });
      sessions.start({ cabinet: 'cab-1', port: 2, sessionId: 20, meterStartWh: 0, startedBy: 'local' });
      sessions.start({ cabinet: 'cab-1', port: 24, sessionId: 24, meterStartWh: 0, startedBy: 'local' });
      sessions.start({ cabinet: 'cab-1', port: 5, sessionId: 50, meterStartWh: 0, startedBy: 'local' });
      sessions.start({ cabinet: 'cab-10', port: 3, sessionId: 30, meterStartWh: 0, startedBy: 'local' });
      sessions.stop('cab-1', 5, 0, 'unplugged');
      expect([...sessions.activeIds('cab-1')].sort((a, b) => a[0] - b[0])).toEqual([
        [2, 20],
        [24, 24],
      ]);
      expect(sessions.activeIds('cab-1')).toEqual(new Map(sessions.list('cab-1').map((s) => [s.port, s.sessionId])));
      expect([...sessions.activeIds('cab-10')]).toEqual([[3, 30]]);
    } finally {
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
