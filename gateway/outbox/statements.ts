/** The outbox's prepared statements over its own tables (events, states, replies, meta). */
import type { Database as Db } from 'better-sqlite3';

export function prepareStatements(db: Db) {
  return {
    insertEvent: db.prepare('INSERT INTO events (seq, class, recorded_at, synced, pinned, body) VALUES (?, ?, ?, ?, ?, ?)'),
    upsertState: db.prepare(
      'INSERT INTO states (device, body, updated_at) VALUES (?, ?, ?) ON CONFLICT(device) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
    ),
    insertReply: db.prepare('INSERT INTO replies (topic, body, created_at) VALUES (?, ?, ?)'),
    setNextSeq: db.prepare("INSERT INTO meta (k, v) VALUES ('next_seq', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v"),
    readEvents: db.prepare('SELECT seq, class, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
    readReplies: db.prepare('SELECT id, topic, body FROM replies WHERE id > ? ORDER BY id LIMIT ?'),
    deleteEvent: db.prepare('DELETE FROM events WHERE seq = ?'),
    deleteReply: db.prepare('DELETE FROM replies WHERE id = ?'),
    recentPinnedSystem: db.prepare(
      "SELECT seq, body FROM events WHERE class = 'system' AND pinned = 1 AND seq > ? ORDER BY seq DESC LIMIT 20",
    ),
    rewriteBody: db.prepare('UPDATE events SET body = ? WHERE seq = ?'),
  };
}

export type OutboxStatements = ReturnType<typeof prepareStatements>;
