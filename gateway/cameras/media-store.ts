/**
 * Snapshots on disk: one JPEG file per snapshot in `{dataDir}/media/`, indexed in outbox.db
 * (tables `media` and `media_queue`), so that the index, the events that name the media and
 * the delivery queue live in one SQLite file with one durability story.
 *
 * - put(): validate (a JPEG, at most media.maxSnapshotBytes), write the file atomically
 *   (temp file, fsync, rename, fsync the directory), then index it and queue it for the
 *   platform in one transaction, then record the `media.snapshot` event (`evt/alarm` when
 *   tied to an alarm) or `camera.snapshot` (`evt/device`) in the outbox. Resolves with the
 *   media id (ULID).
 * - Cap: media.maxBytes on disk. The oldest snapshots go first, except those of an open
 *   alarm; those go only when the store would be over the cap by more than one snapshot
 *   (maxSnapshotBytes), i.e. the cap may be overshot by at most one picture to keep the
 *   evidence of an alarm a guard is still handling.
 * - Delivery: `media_queue` holds the ids not yet acknowledged by the platform broker;
 *   MediaPublisher reads it, publishes `media/{id}` and calls delivered() on PUBACK. The
 *   file stays until the cap removes it (the console still shows it).
 * - Crash safety: a file without an index row (crash between rename and commit) and a
 *   leftover temp file are removed at open; an index row whose file vanished is dropped.
 */
import type { StoreScope } from '../store/scope.js';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { idGenerator } from '../core/ids.js';
import type { MediaConfig } from '../../config/camera-schema.js';
import { MediaConfig as MediaConfigSchema } from '../../config/camera-schema.js';
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { writeFileDurable } from '../durable-file.js';
import { tolerateStorageError } from '../outbox/disk-space.js';

export interface MediaRecord {
  id: string;
  camera: string;
  alarmId: string | null;
  createdAt: number;
  bytes: number;
  sha256: string;
}

export interface MediaStoreOptions {
  /** The gateway's data directory; files go to `{dataDir}/media/`. */
  dataDir: string;
  /** Its database holds the index; its record() carries the metadata events. */
  outbox: Outbox;
  config?: Partial<MediaConfig>;
  clock: Clock;
  log: Logger;
  /** Whether an alarm is still open (AlarmManager); its media are kept first. Default: none are. */
  isAlarmOpen?: (alarmId: string) => boolean;
}

interface MediaStoreEvents {
  /** A snapshot was indexed and queued for the platform. */
  queued: [MediaRecord];
  /** Snapshots removed by the cap, oldest first. */
  evicted: [MediaRecord[]];
}

const JPEG_SOI = Buffer.from([0xff, 0xd8, 0xff]);
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export class MediaStore extends EventEmitter<MediaStoreEvents> {
  readonly dir: string;
  readonly config: MediaConfig;
  private readonly db: StoreScope;
  private readonly ulid = idGenerator();
  private readonly stmts;
  private total: number;

  constructor(private readonly o: MediaStoreOptions) {
    super();
    this.config = MediaConfigSchema.parse(o.config ?? {});
    this.dir = join(o.dataDir, 'media');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.db = o.outbox.scope('media');
    this.stmts = {
      insert: this.db.prepare('INSERT INTO media (id, camera, alarm_id, created_at, bytes, sha256) VALUES (?, ?, ?, ?, ?, ?)'),
      enqueue: this.db.prepare('INSERT OR IGNORE INTO media_queue (id, queued_at) VALUES (?, ?)'),
      get: this.db.prepare('SELECT id, camera, alarm_id AS alarmId, created_at AS createdAt, bytes, sha256 FROM media WHERE id = ?'),
      all: this.db.prepare('SELECT id, camera, alarm_id AS alarmId, created_at AS createdAt, bytes, sha256 FROM media ORDER BY id'),
      remove: this.db.prepare('DELETE FROM media WHERE id = ?'),
      dequeue: this.db.prepare('DELETE FROM media_queue WHERE id = ?'),
      pending: this.db.prepare('SELECT q.id AS id FROM media_queue q ORDER BY q.id LIMIT ?'),
      byAlarm: this.db.prepare('SELECT id FROM media WHERE alarm_id = ? ORDER BY id'),
    };
    this.recover();
    this.total = (this.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS b FROM media').get() as { b: number }).b;
  }

  /** Stores a snapshot and queues it for the platform; resolves with its media id. */
  async put(camera: string, alarmId: string | undefined, jpeg: Buffer): Promise<string> {
    if (jpeg.length > this.config.maxSnapshotBytes) {
      throw new GatehouseError(
        'MEDIA_TOO_LARGE',
        `snapshot of ${camera} is ${jpeg.length} bytes, over media.maxSnapshotBytes (${this.config.maxSnapshotBytes})`,
        { camera, bytes: jpeg.length, max: this.config.maxSnapshotBytes },
      );
    }
    if (jpeg.length < 4 || !jpeg.subarray(0, 3).equals(JPEG_SOI)) {
      throw new GatehouseError('MEDIA_INVALID', `snapshot of ${camera} is not a JPEG (no SOI marker)`, { camera, bytes: jpeg.length });
    }
    // Only a real alarm id (a ULID) ties the picture to an alarm; camera.snapshot on request
    // passes a `cmd-{id}` reference, which is no alarm a guard will ever close.
    if (alarmId !== undefined && !ULID.test(alarmId)) alarmId = undefined;
    const now = this.o.clock.now();
    const rec: MediaRecord = {
      id: this.ulid(now),
      camera,
      alarmId: alarmId ?? null,
      createdAt: now,
      bytes: jpeg.length,
      sha256: createHash('sha256').update(jpeg).digest('hex'),
    };
    this.writeAtomic(rec.id, jpeg);
    try {
      this.db.transaction(() => {
        this.stmts.insert.run(rec.id, rec.camera, rec.alarmId, rec.createdAt, rec.bytes, rec.sha256);
        this.stmts.enqueue.run(rec.id, now);
      })();
    } catch (err) {
      this.unlink(rec.id);
      throw new GatehouseError('INTERNAL', `media index write failed: ${(err as Error).message}`, undefined, { cause: err });
    }
    this.total += rec.bytes;
    this.enforceCap(rec.id);
    const data = { mediaId: rec.id, camera, bytes: rec.bytes, sha256: rec.sha256 };
    await this.o.outbox.record(
      alarmId
        ? { class: 'alarm', type: 'media.snapshot', source: { device: camera }, data: { ...data, alarmId } }
        : { class: 'device', type: 'camera.snapshot', source: { device: camera }, data },
    );
    this.emit('queued', rec);
    return rec.id;
  }

  /** Temp file, fsync, rename, fsync of the directory: a power cut leaves no half picture under its id. */
  private writeAtomic(id: string, data: Buffer): void {
    writeFileDurable(this.file(id), data);
  }

  /** Removes the oldest snapshots until under the cap; see the header for open alarms. */
  private enforceCap(keep: string): void {
    if (this.total <= this.config.maxBytes) return;
    const evicted: MediaRecord[] = [];
    const protectedOnes: MediaRecord[] = [];
    // All rows at once: a few thousand at most (the cap over the size of a snapshot).
    for (const r of this.stmts.all.all() as MediaRecord[]) {
      if (this.total <= this.config.maxBytes) break;
      if (r.id === keep) continue;
      if (r.alarmId && this.o.isAlarmOpen?.(r.alarmId)) {
        protectedOnes.push(r);
        continue;
      }
      this.removeRecord(r);
      evicted.push(r);
    }
    // Over by more than one snapshot even so: the oldest pictures of open alarms go too.
    for (const r of protectedOnes) {
      if (this.total <= this.config.maxBytes + this.config.maxSnapshotBytes) break;
      this.removeRecord(r);
      evicted.push(r);
      this.o.log.warn({ mediaId: r.id, alarmId: r.alarmId }, 'media cap: removed a snapshot of an open alarm (raise media.maxBytes)');
    }
    if (evicted.length) {
      const undelivered = evicted.filter((r) => this.wasQueued.has(r.id)).length;
      this.wasQueued.clear();
      this.o.log.info(
        { count: evicted.length, bytes: evicted.reduce((n, r) => n + r.bytes, 0), undelivered },
        'media cap: removed the oldest snapshots',
      );
      this.emit('evicted', evicted);
    }
  }

  private readonly wasQueued = new Set<string>();

  private removeRecord(r: MediaRecord): void {
    // On a full disk the row stays while the file goes: the start-up reconciliation drops rows without files.
    tolerateStorageError(
      () =>
        this.db.transaction(() => {
          this.stmts.remove.run(r.id);
          if (this.stmts.dequeue.run(r.id).changes) this.wasQueued.add(r.id);
        })(),
      undefined,
      (err) => this.o.log.error({ mediaId: r.id, err: err.message }, 'media index not updated (disk full?)'),
    );
    this.total -= r.bytes;
    this.unlink(r.id);
  }

  private unlink(id: string): void {
    try {
      unlinkSync(this.file(id));
    } catch {
      // Already gone: the index row was what mattered.
    }
  }

  /** Drops files without an index row, temp files, and rows without a file (see header). */
  private recover(): void {
    const files = new Set<string>();
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith('.jpg.tmp')) {
        rmQuiet(join(this.dir, name));
        continue;
      }
      if (name.endsWith('.jpg')) files.add(name.slice(0, -4));
    }
    const rows = this.db.prepare('SELECT id FROM media').all() as { id: string }[];
    const indexed = new Set(rows.map((r) => r.id));
    for (const id of files) if (!indexed.has(id)) rmQuiet(this.file(id));
    for (const id of indexed) {
      if (files.has(id)) continue;
      tolerateStorageError(() => {
        this.stmts.remove.run(id);
        this.stmts.dequeue.run(id);
      }, undefined);
      this.o.log.warn({ mediaId: id }, 'media index named a file that is missing; dropped it');
    }
  }

  file(id: string): string {
    if (!ULID.test(id)) throw new GatehouseError('MEDIA_UNKNOWN', `not a media id: ${id.slice(0, 40)}`);
    return join(this.dir, `${id}.jpg`);
  }

  get(id: string): MediaRecord | undefined {
    return this.stmts.get.get(id) as MediaRecord | undefined;
  }

  /** The JPEG bytes; MEDIA_UNKNOWN when the id is not (or no longer) stored. */
  read(id: string): Buffer {
    if (!this.get(id)) throw new GatehouseError('MEDIA_UNKNOWN', undefined, { mediaId: id });
    try {
      return readFileSync(this.file(id));
    } catch (err) {
      throw new GatehouseError('MEDIA_UNKNOWN', `media ${id} has no file`, { mediaId: id }, { cause: err });
    }
  }

  /** Media ids of one alarm, oldest first. */
  forAlarm(alarmId: string): string[] {
    return (this.stmts.byAlarm.all(alarmId) as { id: string }[]).map((r) => r.id);
  }

  /** Ids waiting for the platform's PUBACK, oldest first. */
  pending(limit = 100): string[] {
    return (this.stmts.pending.all(limit) as { id: string }[]).map((r) => r.id);
  }

  /** The platform broker acknowledged `media/{id}`: no re-send. The file stays. */
  delivered(id: string): void {
    // A dequeue lost to a full disk only means the snapshot is sent again.
    tolerateStorageError(() => this.stmts.dequeue.run(id), undefined);
  }

  stats(): { count: number; bytes: number; maxBytes: number; pending: number } {
    const count = (this.db.prepare('SELECT COUNT(*) AS n FROM media').get() as { n: number }).n;
    const pending = (this.db.prepare('SELECT COUNT(*) AS n FROM media_queue').get() as { n: number }).n;
    return { count, bytes: this.total, maxBytes: this.config.maxBytes, pending };
  }
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}
