/**
 * MediaStore on a real file system and a real outbox.db: atomic files, the index, the
 * metadata events (validated against docs/asyncapi.yaml), the size limits, the cap with
 * oldest-first eviction that spares open alarms, crash leftovers, and the durable queue.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { MediaStore } from '../../gateway/cameras/media-store.js';
import { validateMessage } from '../helpers/asyncapi.js';

const ROOT = 'gatehouse/v1/maple-court/gw-1';
const MB = 1024 * 1024;
const ALARM_A = '01JD3M6R9Q8Z4X7V2N5T0B1A1A';
const ALARM_B = '01JD3M6R9Q8Z4X7V2N5T0B1B1B';

/** A buffer that starts like a JPEG (SOI + APP0), `size` bytes long, distinct per `seed`. */
function jpeg(size: number, seed = 0): Buffer {
  const b = Buffer.alloc(size, seed & 0xff);
  b.set([0xff, 0xd8, 0xff, 0xe0], 0);
  b.writeUInt32BE(seed, 8);
  b.set([0xff, 0xd9], size - 2);
  return b;
}

let dir: string;
let clock: ManualClock;
let outbox: Outbox;
const open = new Set<string>();

function makeStore(config: Record<string, number> = {}): MediaStore {
  return new MediaStore({ dataDir: dir, outbox, clock, log: silentLogger(), config, isAlarmOpen: (id) => open.has(id) });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-media-'));
  clock = new ManualClock();
  outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
  open.clear();
});

afterEach(() => {
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MediaStore', () => {
  it('stores a JPEG as a file, indexes it, queues it and records a valid event', async () => {
    const store = makeStore();
    const pic = jpeg(20_000, 1);
    const id = await store.put('cam-gate', ALARM_A, pic);
    expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(readdirSync(store.dir)).toEqual([`${id}.jpg`]);
    expect(store.read(id).equals(pic)).toBe(true);
    const sha = createHash('sha256').update(pic).digest('hex');
    expect(store.get(id)).toMatchObject({ id, camera: 'cam-gate', alarmId: ALARM_A, bytes: 20_000, sha256: sha });
    expect(store.pending()).toEqual([id]);
    expect(store.forAlarm(ALARM_A)).toEqual([id]);
    const rows = outbox.readEvents(0, 10);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.class).toBe('alarm');
    expect(JSON.parse(rows[0]!.body)).toMatchObject({
      type: 'media.snapshot',
      source: { device: 'cam-gate' },
      data: { mediaId: id, camera: 'cam-gate', alarmId: ALARM_A, bytes: 20_000, sha256: sha },
    });
    expect(validateMessage(`${ROOT}/evt/alarm`, rows[0]!.body)).toEqual({ ok: true, errors: [] });
  });

  it('a snapshot without an alarm (or with a command reference) is a device event', async () => {
    const store = makeStore();
    const a = await store.put('cam-yard', undefined, jpeg(1000, 1));
    const b = await store.put('cam-yard', 'cmd-c-17', jpeg(1000, 2));
    const rows = outbox.readEvents(0, 10);
    expect(rows.map((r) => r.class)).toEqual(['device', 'device']);
    for (const r of rows) expect(validateMessage(`${ROOT}/evt/device`, r.body)).toEqual({ ok: true, errors: [] });
    expect(JSON.parse(rows[1]!.body).data).not.toHaveProperty('alarmId');
    expect(store.get(a)!.alarmId).toBeNull();
    expect(store.get(b)!.alarmId).toBeNull();
  });

  it('refuses a snapshot over maxSnapshotBytes and one that is not a JPEG, writing nothing', async () => {
    const store = makeStore({ maxSnapshotBytes: 64 * 1024 });
    await expect(store.put('cam-gate', ALARM_A, jpeg(64 * 1024 + 1))).rejects.toSatisfy((e) => isGatehouseError(e, 'MEDIA_TOO_LARGE'));
    await expect(store.put('cam-gate', ALARM_A, Buffer.from('<html>login</html>'))).rejects.toSatisfy((e) =>
      isGatehouseError(e, 'MEDIA_INVALID'),
    );
    expect(readdirSync(store.dir)).toEqual([]);
    expect(store.stats()).toMatchObject({ count: 0, bytes: 0, pending: 0 });
    expect(outbox.readEvents(0, 10)).toEqual([]);
    // Exactly at the limit is fine.
    await store.put('cam-gate', ALARM_A, jpeg(64 * 1024));
  });

  it('keeps the disk under maxBytes, removing the oldest first', async () => {
    const store = makeStore({ maxBytes: MB, maxSnapshotBytes: 300 * 1024 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push(await store.put('cam-gate', undefined, jpeg(200 * 1024, i)));
      clock.advance(1000);
    }
    const onDisk = readdirSync(store.dir)
      .map((f) => f.replace('.jpg', ''))
      .sort();
    expect(onDisk).toEqual(ids.slice(-5));
    const bytes = onDisk.reduce((n, id) => n + statSync(store.file(id)).size, 0);
    expect(bytes).toBeLessThanOrEqual(MB);
    expect(store.stats()).toMatchObject({ count: 5, bytes, maxBytes: MB });
    expect(store.get(ids[0]!)).toBeUndefined();
    expect(() => store.read(ids[0]!)).toThrow(/No stored media/);
    // Evicted ones leave the delivery queue too: nothing to send for a missing file.
    expect(store.pending()).toEqual(ids.slice(-5));
  });

  it('spares the snapshots of open alarms, unless over the cap by more than one snapshot', async () => {
    const store = makeStore({ maxBytes: MB, maxSnapshotBytes: 300 * 1024 });
    open.add(ALARM_A);
    const alarmPics = [
      await store.put('cam-gate', ALARM_A, jpeg(250 * 1024, 1)),
      await store.put('cam-gate', ALARM_A, jpeg(250 * 1024, 2)),
    ];
    const other: string[] = [];
    for (let i = 0; i < 6; i++) other.push(await store.put('cam-yard', ALARM_B, jpeg(250 * 1024, 10 + i)));
    // ALARM_B is closed: its pictures went first, the open alarm's stayed.
    for (const id of alarmPics) expect(store.get(id)).toBeDefined();
    expect(store.stats().bytes).toBeLessThanOrEqual(MB);
    // Now everything stored belongs to the open alarm: the cap may be overshot by one picture, no more.
    const more: string[] = [];
    for (let i = 0; i < 4; i++) more.push(await store.put('cam-gate', ALARM_A, jpeg(250 * 1024, 20 + i)));
    expect(store.stats().bytes).toBeGreaterThan(MB);
    expect(store.stats().bytes).toBeLessThanOrEqual(MB + 300 * 1024);
    expect(store.get(alarmPics[0]!)).toBeUndefined(); // the oldest of the open alarm had to go
    expect(store.get(more[3]!)).toBeDefined(); // never the one just stored
  });

  it('cleans up after a crash: temp files, files without a row, rows without a file', async () => {
    const store = makeStore();
    const kept = await store.put('cam-gate', undefined, jpeg(1000, 1));
    const lost = await store.put('cam-gate', undefined, jpeg(1000, 2));
    rmSync(store.file(lost));
    writeFileSync(join(store.dir, '01JD3M6R9Q8Z4X7V2N5T0B1Z9Z.jpg.tmp'), 'half');
    writeFileSync(join(store.dir, '01JD3M6R9Q8Z4X7V2N5T0B1Z9Y.jpg'), jpeg(500));
    const again = makeStore();
    expect(readdirSync(again.dir).sort()).toEqual([`${kept}.jpg`]);
    expect(again.get(lost)).toBeUndefined();
    expect(again.pending()).toEqual([kept]);
    expect(again.stats()).toMatchObject({ count: 1, bytes: 1000 });
  });

  it('the queue survives a restart and empties only on delivered()', async () => {
    let store = makeStore();
    const a = await store.put('cam-gate', ALARM_A, jpeg(1000, 1));
    const b = await store.put('cam-gate', ALARM_A, jpeg(1000, 2));
    outbox.close();
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    store = makeStore();
    expect(store.pending()).toEqual([a, b]);
    store.delivered(a);
    expect(store.pending()).toEqual([b]);
    // The file stays after delivery: the console still shows it until the cap removes it.
    expect(existsSync(store.file(a))).toBe(true);
  });

  it('refuses ids that are not ULIDs before touching the file system', () => {
    const store = makeStore();
    expect(() => store.file('../../etc/passwd')).toThrow(/not a media id/);
    expect(() => store.read('../outbox.db')).toThrow();
  });
});
