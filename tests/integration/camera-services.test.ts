/**
 * Only the ONVIF services a camera advertises are called (issue 13): a simulated camera
 * without Events and PTZ comes online, serves snapshots and refuses PTZ with
 * DEVICE_UNSUPPORTED naming the service; one without GetServices is read through
 * GetCapabilities; and no request ever goes to the literal path "events" or "ptz" that the
 * `onvif` package falls back to. All over real HTTP on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnvifCamera } from '../../drivers/onvif/client.js';
import { startSimulatedCameras, type SimulatedCamera } from '../../sim/camera/index.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { cameraRig, type CameraRig } from '../helpers/camera-rig.js';
import { waitFor } from '../helpers/wait.js';

const ctx = { id: 'c1', caller: { via: 'cli' as const, role: 'admin' as const, principal: 't' }, deadline: Number.MAX_SAFE_INTEGER };
const root = 'gatehouse/v1/maple-court/gw-1';

describe('cameras are asked only for the services they advertise', () => {
  let sims: SimulatedCamera[];
  let rig: CameraRig;
  const byId = (id: string) => sims.find((s) => s.id === id)!;

  beforeAll(async () => {
    const bare = { services: { events: false, ptz: false } };
    sims = [
      ...(await startSimulatedCameras([{ id: 'bare-cam', username: 'admin', password: 'bare-pw' }], { discovery: false, ...bare })),
      ...(await startSimulatedCameras([{ id: 'old-cam', username: 'admin', password: 'old-pw' }], {
        discovery: false,
        getServices: false,
        services: { events: false },
      })),
      ...(await startSimulatedCameras([{ id: 'full-cam', username: 'admin', password: 'full-pw' }], {
        discovery: false,
        maxPullHoldMs: 500,
      })),
    ];
    rig = cameraRig(sims, { 'bare-cam': 'bare-pw', 'old-cam': 'old-pw', 'full-cam': 'full-pw' });
    await rig.cameras.start();
    await waitFor(
      () => ['bare-cam', 'old-cam'].every((id) => rig.cameras.service.status(id)?.online) && rig.cameras.service.status('full-cam')?.events,
      'all three cameras online',
      10_000,
      () => sims.map((s) => rig.cameras.service.status(s.id)),
    );
  });

  afterAll(async () => {
    await rig?.cameras.stop();
    await Promise.all((sims ?? []).map((s) => s.stop()));
  });

  it('a camera without Events and PTZ is online, without a subscription, and lists its services in state', () => {
    const s = rig.cameras.service.status('bare-cam')!;
    expect(s).toMatchObject({ online: true, events: false, services: ['device', 'media'] });
    expect(rig.outbox.types('bare-cam')).toEqual(['device.online']);
    expect(rig.outbox.states.get('bare-cam')).toMatchObject({ online: true, events: false, services: ['device', 'media'] });
    expect(byId('bare-cam').subscriptions).toBe(0);
    expect(rig.outbox.states.get('full-cam')).toMatchObject({ online: true, events: true, services: ['device', 'events', 'media', 'ptz'] });
  });

  it('serves a snapshot and its stream URI (live view), and camera.ptz.goto / camera.ptz.set answer DEVICE_UNSUPPORTED naming PTZ', async () => {
    const cmds = Object.fromEntries(rig.cameras.commands().map((c) => [c.name, c]));
    const snap = await cmds['camera.snapshot']!.handler({ camera: 'bare-cam' }, ctx);
    expect(snap).toMatchObject({ camera: 'bare-cam', media: expect.stringMatching(/^M\d+$/) });
    expect([...rig.store.items.at(-1)!.jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    for (const [name, args] of [
      ['camera.ptz.goto', { camera: 'bare-cam', preset: 'Home' }],
      ['camera.ptz.set', { camera: 'bare-cam', preset: 'Gate' }],
    ] as const) {
      const err = await cmds[name]!.handler(args, ctx).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toMatchObject({
        code: 'DEVICE_UNSUPPORTED',
        details: { camera: 'bare-cam', service: 'PTZ', services: ['device', 'media'] },
      });
      expect((err as Error).message).toMatch(/PTZ service/);
      const reply = { id: 'c1', ok: false, ts: '2026-11-21T21:04:00.000Z', error: (err as { toJSON(): unknown }).toJSON() };
      expect(validateMessage(`${root}/cmd/${name}/res`, JSON.stringify(reply)), name).toEqual({ ok: true, errors: [] });
    }
    // Live view needs only Media: the stream URI is there.
    expect(await rig.cameras.service.streamUri('bare-cam')).toMatch(/^rtsp:\/\/127\.0\.0\.1:8554\/bare-cam\/profile_1$/);
    // Still online: a missing service is no lost connection.
    expect(rig.cameras.service.status('bare-cam')!.online).toBe(true);
  });

  it('a camera without GetServices is read through GetCapabilities', async () => {
    expect(rig.cameras.service.status('old-cam')).toMatchObject({ online: true, events: false, services: ['device', 'media', 'ptz'] });
    await rig.cameras.service.gotoPreset('old-cam', 'Home');
    expect(byId('old-cam').currentPreset).toBe('preset_1');
  });

  it('the driver refuses a call to a service that was not advertised instead of posting to the literal path', async () => {
    const sim = byId('bare-cam');
    const client = new OnvifCamera({
      host: '127.0.0.1',
      port: sim.httpPort,
      path: '/onvif/device_service',
      username: 'admin',
      password: 'bare-pw',
    });
    try {
      await client.connect();
      expect(client.services()).toEqual(['device', 'media']);
      await expect(client.presets('profile_1')).rejects.toMatchObject({ code: 'DEVICE_UNSUPPORTED', details: { service: 'PTZ' } });
      await expect(client.createPullPoint()).rejects.toMatchObject({ code: 'DEVICE_UNSUPPORTED', details: { service: 'Events' } });
    } finally {
      client.close();
    }
    for (const s of sims) expect(s.stats.badPaths, s.id).toEqual([]);
  });

  it('every state recorded follows docs/asyncapi.yaml', () => {
    for (const [device, state] of rig.outbox.states) {
      expect(validateMessage(`${root}/state/${device}`, JSON.stringify({ ...state, ts: '2026-11-21T21:04:00.000Z' })), device).toEqual({
        ok: true,
        errors: [],
      });
    }
  });
});
