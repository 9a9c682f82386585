/**
 * Media delivery end to end: snapshots stored while the platform broker (a real Mosquitto)
 * is down are published as raw JPEG bytes on `media/{id}` once the uplink is back, their
 * metadata events arrive on evt/alarm, and the queue empties only on PUBACK.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { silentLogger } from '../../gateway/core/log.js';
import { MediaStore } from '../../gateway/cameras/media-store.js';
import { MediaPublisher, mediaTopic } from '../../gateway/cameras/media-publisher.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { makeRig, type Rig } from '../helpers/uplink-rig.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { waitFor } from '../helpers/wait.js';

const ALARM = '01JD3M6R9Q8Z4X7V2N5T0B1A1A';
let broker: Mosquitto;
let platform: MqttClient;
let rig: Rig;

function jpeg(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size, seed);
  b.set([0xff, 0xd8, 0xff, 0xe0], 0);
  b.set([0xff, 0xd9], size - 2);
  return b;
}

beforeAll(async () => {
  broker = await startMosquitto();
  // The platform side: a persistent session, so nothing published while it reconnects is lost.
  platform = await mqtt.connectAsync(broker.url, { clientId: 'media-platform', clean: false, reconnectPeriod: 100 });
});

afterAll(async () => {
  await rig?.dispose();
  await platform?.endAsync();
  await broker?.dispose();
});

it('JPEGs stored during an outage reach the platform on media/{id} after the uplink returns', async () => {
  rig = makeRig({ url: broker.url });
  const store = new MediaStore({
    dataDir: rig.dir,
    outbox: rig.outbox,
    clock: { now: () => Date.now(), monotonic: () => performance.now(), state: () => 'synced' },
    log: silentLogger(),
  });
  const publisher = new MediaPublisher({ store, root: rig.root, log: silentLogger(), retryMs: 100 });
  rig.uplink.on('connected', () => publisher.attach({ publish: (t, p) => rig.uplink.publishRaw(t, p) }));
  rig.uplink.on('disconnected', () => publisher.detach());

  const got = new Map<string, Buffer>();
  const events: { topic: string; body: string }[] = [];
  platform.on('message', (topic, payload) => {
    if (topic.startsWith(`${rig.root}/media/`)) got.set(topic.slice(`${rig.root}/media/`.length), Buffer.from(payload));
    else events.push({ topic, body: payload.toString() });
  });
  await platform.subscribeAsync([`${rig.root}/media/+`, `${rig.root}/evt/#`], { qos: 1 });

  // The broker is down while the alarm's pictures are taken.
  await broker.stop();
  rig.uplink.start();
  const pics = [jpeg(150_000, 1), jpeg(90_000, 2), jpeg(2_000_000, 3)];
  const ids: string[] = [];
  for (const p of pics) ids.push(await store.put('cam-gate', ALARM, p));
  expect(store.pending()).toEqual(ids);
  // Publishing fails without a link; nothing leaves the queue.
  await expect(rig.uplink.publishRaw(mediaTopic(rig.root, ids[0]!), pics[0]!)).rejects.toThrow(/not connected/);

  await broker.start();
  await waitFor(
    () => got.size === 3,
    'three JPEGs at the platform',
    20_000,
    () => ({ got: [...got.keys()], status: rig.uplink.status(), pending: store.pending() }),
  );
  for (const [i, id] of ids.entries()) {
    const bytes = got.get(id)!;
    expect(bytes.equals(pics[i]!)).toBe(true);
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  }
  await waitFor(() => store.pending().length === 0, 'the queue emptied on PUBACK', 5000);
  expect(publisher.published).toBe(3);
  // The metadata events name the same ids and hashes, and follow the contract.
  await waitFor(() => events.filter((e) => e.topic.endsWith('/evt/alarm')).length === 3, 'three media.snapshot events', 10_000);
  for (const e of events.filter((x) => x.topic.endsWith('/evt/alarm'))) {
    expect(validateMessage(e.topic, e.body)).toEqual({ ok: true, errors: [] });
    const data = JSON.parse(e.body).data as { mediaId: string; sha256: string };
    const i = ids.indexOf(data.mediaId);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(data.sha256).toBe(createHash('sha256').update(pics[i]!).digest('hex'));
  }
  // A picture taken while connected goes straight out.
  const live = await store.put('cam-gate', undefined, jpeg(10_000, 9));
  await waitFor(() => got.has(live), 'the live picture', 10_000);
  publisher.close();
});
