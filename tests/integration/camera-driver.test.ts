/**
 * The camera family (drivers/onvif on the `onvif` package, gateway/cameras) against the
 * simulated cameras over real HTTP on loopback: connect, info, profiles, URIs, events
 * becoming alarm conditions and device events, PTZ presets, Digest snapshots, clock skew,
 * wrong passwords, and a camera that goes away and comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaStore as StoreBuiltSeparately } from '../../gateway/cameras/media-store.js';
import type { MediaStore } from '../../gateway/cameras/types.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { startSimulatedCameras, type SimulatedCamera } from '../../sim/camera/index.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { cameraRig, type CameraRig } from '../helpers/camera-rig.js';
import { waitFor } from '../helpers/wait.js';

const FIVE_MIN = 5 * 60_000;

// Compile-time: the media store built separately fits the interface the camera family hands snapshots to.
const storeFits = (s: StoreBuiltSeparately): MediaStore => s;
void storeFits;

describe('camera service against simulated cameras', () => {
  let sims: SimulatedCamera[];
  let rig: CameraRig;
  const byId = (id: string) => sims.find((s) => s.id === id)!;

  beforeAll(async () => {
    sims = await startSimulatedCameras(
      [
        { id: 'gate-cam', username: 'admin', password: 'gate-pw', rtspUrl: 'rtsp://127.0.0.1:8554/gate' },
        { id: 'fast-cam', username: 'admin', password: 'fast-pw', skewMs: FIVE_MIN },
        { id: 'slow-cam', username: 'admin', password: 'slow-pw', skewMs: -FIVE_MIN },
        { id: 'bad-pw-cam', username: 'admin', password: 'right-pw' },
      ],
      { discovery: false, maxPullHoldMs: 2000 },
    );
    rig = cameraRig(sims, { 'gate-cam': 'gate-pw', 'fast-cam': 'fast-pw', 'slow-cam': 'slow-pw', 'bad-pw-cam': 'wrong-pw' });
    await rig.cameras.start();
    await waitFor(
      () => ['gate-cam', 'fast-cam', 'slow-cam'].every((id) => rig.cameras.service.status(id)?.events),
      'three cameras online with events',
      10_000,
      () => sims.map((s) => rig.cameras.service.status(s.id)),
    );
  });

  afterAll(async () => {
    await rig?.cameras.stop();
    await Promise.all((sims ?? []).map((s) => s.stop()));
  });

  it('connects and reads device info, profiles and the stream URI', () => {
    const s = rig.cameras.service.status('gate-cam')!;
    expect(s.online).toBe(true);
    expect(s.info).toMatchObject({ manufacturer: 'Gatehouse', model: 'SimCam 2000', serial: 'SIM-gate-cam' });
    expect(s.profiles!.map((p) => p.token)).toEqual(['profile_1', 'profile_2']);
    expect(s.profiles![0]).toMatchObject({ width: 1920, height: 1080, ptz: true });
    expect(s.profile).toBe('profile_1');
    expect(s.streamUri).toBe('rtsp://127.0.0.1:8554/gate');
    expect(rig.outbox.events).toContainEqual({
      class: 'device',
      type: 'device.online',
      source: { device: 'gate-cam' },
      data: { family: 'camera' },
    });
    expect(rig.outbox.states.get('gate-cam')).toMatchObject({ online: true, model: 'SimCam 2000', profile: 'profile_1', events: true });
  });

  it('authenticates with cameras five minutes fast and five minutes slow, and measures their skew', () => {
    for (const [id, skew] of [
      ['fast-cam', FIVE_MIN],
      ['slow-cam', -FIVE_MIN],
    ] as const) {
      const s = rig.cameras.service.status(id)!;
      expect(s.online, id).toBe(true);
      expect(Math.abs(s.skewMs! - skew), id).toBeLessThan(2000);
    }
    expect(byId('fast-cam').stats.authFailures).toBe(0);
  });

  it('a camera whose clock is stepped while connected is re-measured and still answers', async () => {
    const sim = byId('fast-cam');
    sim.setSkew(-FIVE_MIN);
    try {
      expect((await rig.cameras.service.presets('fast-cam')).map((p) => p.name)).toContain('Home');
      expect(sim.stats.authFailures).toBeGreaterThan(0);
    } finally {
      sim.setSkew(FIVE_MIN);
    }
  });

  it('tamper raises and clears the camera.tamper condition through the alarm sink', async () => {
    const sim = byId('gate-cam');
    sim.tamper(true);
    await waitFor(() => rig.sink.calls.find((c) => c.op === 'raise' && c.kind === 'camera.tamper'), 'camera.tamper raised');
    expect(rig.sink.calls.find((c) => c.op === 'raise' && c.kind === 'camera.tamper')).toMatchObject({
      source: { device: 'gate-cam' },
      priority: 'high',
    });
    sim.tamper(false);
    await waitFor(
      () => rig.sink.calls.filter((c) => c.kind === 'camera.tamper' && c.op === 'clear').length >= 2,
      'camera.tamper cleared after the raise',
    );
  });

  it('motion and digital input become camera.motion / camera.input device events; line crossing a momentary alarm', async () => {
    const sim = byId('gate-cam');
    sim.motion(true);
    sim.digitalInput(true);
    sim.lineCrossed(7);
    await waitFor(
      () => rig.outbox.types('gate-cam').includes('camera.input') && rig.sink.calls.some((c) => c.kind === 'camera.line'),
      'input event and line alarm',
    );
    await waitFor(() => rig.outbox.types('gate-cam').includes('camera.motion'), 'motion event');
    const motion = rig.outbox.events.find((e) => e.type === 'camera.motion')!;
    expect(motion).toMatchObject({ class: 'device', source: { device: 'gate-cam' }, data: { camera: 'gate-cam', active: true } });
    expect(Math.abs(Date.parse(String(motion.data.at)) - Date.now())).toBeLessThan(5000);
    expect(rig.outbox.events.find((e) => e.type === 'camera.input')).toMatchObject({
      source: { device: 'gate-cam', point: 'DI_1' },
      data: { active: true },
    });
    expect(rig.sink.calls.find((c) => c.kind === 'camera.line')).toMatchObject({
      op: 'raise',
      momentary: true,
      source: { device: 'gate-cam', point: 'MyLineDetectorRule' },
    });
    // Motion is not an alarm unless configured.
    expect(rig.sink.calls.some((c) => c.kind === 'camera.motion')).toBe(false);
    sim.motion(false);
    await waitFor(() => rig.outbox.events.some((e) => e.type === 'camera.motion' && e.data.active === false), 'motion off event');
  });

  it('events from a skewed camera are dated on our clock', async () => {
    const sim = byId('fast-cam');
    const seen: number[] = [];
    // The previous test stepped this camera's clock: its pull point may be re-created (a fresh
    // subscription) just as the field changes, and then the change arrives as the new
    // subscription's initial state. Either way it is the camera telling us "inside".
    rig.cameras.service.on('event', (cam, ev) => cam === 'fast-cam' && ev.kind === 'field' && ev.active && seen.push(ev.at));
    sim.fieldInside(true);
    await waitFor(
      () => seen.length > 0,
      'field event from fast-cam',
      10_000,
      () => ({
        status: rig.cameras.service.status('fast-cam'),
        subs: sim.subscriptions,
        auth: sim.stats.authFailures,
        events: rig.outbox.types('fast-cam'),
      }),
    );
    expect(Math.abs(seen[0]! - Date.now())).toBeLessThan(5000);
    await waitFor(() => rig.sink.calls.some((c) => c.kind === 'camera.field' && c.op === 'raise'), 'camera.field raised');
  });

  it('PTZ: goto by name and token, set a new preset, unknown preset refused', async () => {
    const svc = rig.cameras.service;
    await svc.gotoPreset('gate-cam', 'Home');
    expect(byId('gate-cam').currentPreset).toBe('preset_1');
    const p = await svc.setPreset('gate-cam', 'Barrier');
    expect(p.name).toBe('Barrier');
    expect(byId('gate-cam').presets.get(p.token)).toBe('Barrier');
    await svc.gotoPreset('gate-cam', 'preset_1');
    await svc.gotoPreset('gate-cam', p.token);
    expect(byId('gate-cam').currentPreset).toBe(p.token);
    const renamed = await svc.setPreset('gate-cam', 'Barrier', 'Barrier arm');
    expect(renamed.token).toBe(p.token);
    expect(byId('gate-cam').presets.get(p.token)).toBe('Barrier arm');
    await expect(svc.gotoPreset('gate-cam', 'Nowhere')).rejects.toMatchObject({ code: 'DEVICE_REFUSED' });
  });

  it('snapshot: a JPEG fetched with HTTP Digest, through the linkage into the media store', async () => {
    const alarm = rig.sink.raise({ kind: 'zone.alarm', source: { device: 'z1' }, priority: 'high' });
    const media = await rig.cameras.linkage.snapshot('gate-cam', alarm);
    expect(media).toBe(`M${rig.store.items.length}`);
    const item = rig.store.items.at(-1)!;
    expect(item).toMatchObject({ camera: 'gate-cam', alarmId: alarm.id });
    expect([...item.jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(byId('gate-cam').stats.snapshotSchemes.slice(-2)).toEqual(['none', 'digest']);
  });

  it('snapshot commands: media id answered; a guard may not set presets', async () => {
    const cmds = Object.fromEntries(rig.cameras.commands().map((c) => [c.name, c]));
    expect(cmds['camera.ptz.set']!.roles).not.toContain('guard');
    expect(cmds['camera.ptz.goto']!.roles).toContain('guard');
    const ctx = { id: 'c1', caller: { via: 'cli' as const, role: 'admin' as const, principal: 't' }, deadline: Number.MAX_SAFE_INTEGER };
    const r = await cmds['camera.snapshot']!.handler({ camera: 'gate-cam' }, ctx);
    expect(r).toMatchObject({ camera: 'gate-cam', media: expect.stringMatching(/^M\d+$/) });
    const root = 'gatehouse/v1/maple-court/gw-1';
    const goto = await cmds['camera.ptz.goto']!.handler({ camera: 'gate-cam', preset: 'Home' }, ctx);
    const set = await cmds['camera.ptz.set']!.handler({ camera: 'gate-cam', preset: 'Home', name: 'Home' }, ctx);
    for (const [name, result] of [
      ['camera.snapshot', r],
      ['camera.ptz.goto', goto],
      ['camera.ptz.set', set],
    ] as const) {
      expect(
        validateMessage(`${root}/cmd/${name}/res`, JSON.stringify({ id: 'c1', ok: true, ts: '2026-11-21T21:04:00.000Z', result })),
        name,
      ).toEqual({ ok: true, errors: [] });
    }
    expect(rig.store.items.at(-1)!.alarmId).toBeUndefined();
    await expect(cmds['camera.snapshot']!.handler({ camera: 'nope' }, ctx)).rejects.toMatchObject({ code: 'DEVICE_UNKNOWN' });
    expect(cmds['camera.ptz.set']!.args.safeParse({ camera: 'gate-cam', preset: '<x>' }).success).toBe(false);
  });

  it('snapshot larger than media.maxSnapshotBytes is refused with MEDIA_TOO_LARGE', async () => {
    const small = cameraRig(
      [byId('gate-cam')],
      { 'gate-cam': 'gate-pw' },
      { configs: { 'gate-cam': { events: false } }, media: { maxSnapshotBytes: 4096 } },
    );
    await small.cameras.start();
    try {
      await waitFor(() => small.cameras.service.status('gate-cam')?.online, 'second service online');
      // The simulator's 320x240 test pattern is about 9 KB.
      await expect(small.cameras.service.snapshot('gate-cam')).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });
    } finally {
      await small.cameras.stop();
    }
  });

  it('wrong password: coded DEVICE_AUTH_FAILED, reported offline with reason auth_failed, no crash', async () => {
    await waitFor(
      () => rig.outbox.events.find((e) => e.type === 'device.offline' && e.source.device === 'bad-pw-cam'),
      'bad-pw-cam offline',
    );
    expect(rig.outbox.events.find((e) => e.type === 'device.offline' && e.source.device === 'bad-pw-cam')!.data).toEqual({
      family: 'camera',
      reason: 'auth_failed',
    });
    expect(rig.cameras.service.status('bad-pw-cam')).toMatchObject({ online: false, lastError: 'DEVICE_AUTH_FAILED' });
    expect(rig.outbox.states.get('bad-pw-cam')).toMatchObject({ online: false, lastError: 'DEVICE_AUTH_FAILED' });
    const err = await rig.cameras.service.snapshot('bad-pw-cam').catch((e: unknown) => e);
    expect(isGatehouseError(err, 'DEVICE_OFFLINE')).toBe(true);
  });

  it('a camera going offline is reported offline after offlineAfterMs, then online again after it comes back', async () => {
    const sim = byId('slow-cam');
    const offlines = () => rig.outbox.events.filter((e) => e.type === 'device.offline' && e.source.device === 'slow-cam').length;
    const onlines = () => rig.outbox.events.filter((e) => e.type === 'device.online' && e.source.device === 'slow-cam').length;
    expect(offlines()).toBe(0);
    const onlinesBefore = onlines();
    const wentAt = Date.now();
    await sim.goOffline();
    await waitFor(() => offlines() === 1, 'device.offline for slow-cam', 5000);
    expect(Date.now() - wentAt).toBeGreaterThanOrEqual(900);
    expect(rig.outbox.events.find((e) => e.type === 'device.offline' && e.source.device === 'slow-cam')!.data).toEqual({
      family: 'camera',
      reason: 'unreachable',
    });
    expect(rig.outbox.states.get('slow-cam')).toMatchObject({ online: false });
    await sim.comeBack();
    await waitFor(() => onlines() === onlinesBefore + 1, 'device.online for slow-cam again', 5000);
    await waitFor(() => rig.cameras.service.status('slow-cam')?.events, 'events resubscribed');
    expect(rig.outbox.states.get('slow-cam')).toMatchObject({ online: true });
    expect(offlines()).toBe(1);
    // Events flow again on the new subscription.
    sim.tamper(true);
    await waitFor(
      () => rig.sink.calls.some((c) => c.kind === 'camera.tamper' && c.op === 'raise' && c.source.device === 'slow-cam'),
      'tamper after reconnect',
    );
  });

  it('every event and retained state recorded follows docs/asyncapi.yaml', () => {
    const root = 'gatehouse/v1/maple-court/gw-1';
    expect(new Set(rig.outbox.events.map((e) => e.type))).toEqual(
      new Set(['device.online', 'device.offline', 'camera.motion', 'camera.input']),
    );
    rig.outbox.events.forEach((e, i) => {
      const envelope = {
        v: 1,
        id: '01JD3M6R9Q8Z4X7V2N5T0B1C3K',
        seq: i + 1,
        ts: '2026-11-21T21:04:00.000Z',
        clock: 'synced',
        type: e.type,
        source: e.source,
        data: e.data,
      };
      expect(validateMessage(`${root}/evt/${e.class}`, JSON.stringify(envelope)), e.type).toEqual({ ok: true, errors: [] });
    });
    for (const [device, state] of rig.outbox.states) {
      expect(validateMessage(`${root}/state/${device}`, JSON.stringify({ ...state, ts: '2026-11-21T21:04:00.000Z' })), device).toEqual({
        ok: true,
        errors: [],
      });
    }
  });
});
