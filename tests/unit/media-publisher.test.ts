/**
 * MediaPublisher against a scripted transport: oldest first, a bounded window, removal from
 * the queue only on success, retry after a failure and after a reconnect, and a PUBACK that
 * never comes given up after ackTimeoutMs (ManualClock, no real waiting).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { MediaStore } from '../../gateway/cameras/media-store.js';
import { MediaPublisher, type MediaTransport } from '../../gateway/cameras/media-publisher.js';

let dir: string;
let clock: ManualClock;
let outbox: Outbox;
let store: MediaStore;

const pic = (seed: number) => Buffer.from([0xff, 0xd8, 0xff, 0xe0, seed, 0xff, 0xd9]);
const tick = () => new Promise((r) => setImmediate(r));

/** A transport whose publishes wait until the test settles them. */
function scripted() {
  const calls: { topic: string; payload: Buffer; resolve: () => void; reject: (e: Error) => void }[] = [];
  const transport: MediaTransport = {
    publish: (topic, payload) => new Promise<void>((resolve, reject) => calls.push({ topic, payload, resolve, reject })),
  };
  return { transport, calls };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-mediapub-'));
  clock = new ManualClock();
  outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
  store = new MediaStore({ dataDir: dir, outbox, clock, log: silentLogger() });
});

afterEach(() => {
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

it('sends oldest first within the window and dequeues only on success', async () => {
  const ids = [
    await store.put('cam', undefined, pic(1)),
    await store.put('cam', undefined, pic(2)),
    await store.put('cam', undefined, pic(3)),
  ];
  const pub = new MediaPublisher({ store, root: 'gatehouse/v1/c/g', log: silentLogger(), timers: clock, window: 2 });
  const { transport, calls } = scripted();
  pub.attach(transport);
  expect(calls.map((c) => c.topic)).toEqual([`gatehouse/v1/c/g/media/${ids[0]}`, `gatehouse/v1/c/g/media/${ids[1]}`]);
  expect(calls[0]!.payload.equals(pic(1))).toBe(true);
  calls[0]!.resolve();
  await tick();
  expect(store.pending()).toEqual([ids[1], ids[2]]);
  expect(calls).toHaveLength(3); // the window moved on
  calls[1]!.reject(new Error('connection closed'));
  await tick();
  expect(store.pending()).toEqual([ids[1], ids[2]]);
  expect(calls).toHaveLength(3); // backing off, not spinning
  clock.advance(2000);
  expect(calls).toHaveLength(4);
  expect(calls[3]!.topic.endsWith(ids[1]!)).toBe(true);
  pub.close();
});

it('a reconnect re-sends what was in flight; a lost PUBACK is given up after ackTimeoutMs', async () => {
  const id = await store.put('cam', undefined, pic(1));
  const pub = new MediaPublisher({ store, root: 'r', log: silentLogger(), timers: clock, ackTimeoutMs: 5000 });
  const first = scripted();
  pub.attach(first.transport);
  expect(first.calls).toHaveLength(1);
  pub.detach();
  first.calls[0]!.resolve(); // an answer from the dead connection counts for nothing
  await tick();
  expect(store.pending()).toEqual([id]);
  const second = scripted();
  pub.attach(second.transport);
  expect(second.calls).toHaveLength(1);
  clock.advance(5000); // the broker never acknowledges
  await tick();
  expect(pub.failures).toBe(1);
  clock.advance(2000);
  expect(second.calls).toHaveLength(2);
  second.calls[1]!.resolve();
  await tick();
  expect(store.pending()).toEqual([]);
  expect(pub.published).toBe(1);
  pub.close();
});

it('new snapshots are sent as they are stored while attached', async () => {
  const pub = new MediaPublisher({ store, root: 'r', log: silentLogger(), timers: clock });
  const { transport, calls } = scripted();
  pub.attach(transport);
  expect(calls).toHaveLength(0);
  const id = await store.put('cam', undefined, pic(7));
  expect(calls.map((c) => c.topic)).toEqual([`r/media/${id}`]);
  pub.close();
});
