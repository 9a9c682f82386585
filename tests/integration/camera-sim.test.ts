/**
 * The camera simulator checked by two ONVIF clients that are not our driver: the `onvif`
 * package's Cam used directly, and `node-onvif`, an independent implementation (its own
 * SOAP building, WS-Security digest, time offset and HTTP Digest code). If both talk to the
 * simulator, it is not merely shaped to whatever our driver happens to send.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedCameras, type SimulatedCamera } from '../../sim/camera/index.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { Cam } = require('onvif') as { Cam: any };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const NodeOnvif = require('node-onvif') as any;

function camConnect(cam: SimulatedCamera, password: string, extra: Record<string, unknown> = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const c = new Cam({
      hostname: '127.0.0.1',
      port: cam.httpPort,
      username: 'admin',
      password,
      timeout: 5000,
      autoconnect: false,
      ...extra,
    });
    c.connect((err: Error | null) => (err ? reject(err) : resolve(c)));
  });
}

const call = <T>(c: any, method: string, ...args: unknown[]): Promise<T> =>
  new Promise((resolve, reject) => c[method](...args, (err: Error | null, data: T) => (err ? reject(err) : resolve(data))));

describe('camera simulator', () => {
  let cams: SimulatedCamera[];
  beforeAll(async () => {
    cams = await startSimulatedCameras(
      [
        { id: 'cam-a', username: 'admin', password: 'pw-a', rtspUrl: 'rtsp://127.0.0.1:8554/cam-a' },
        { id: 'cam-b', username: 'admin', password: 'pw-b', skewMs: -5 * 60_000 },
      ],
      { discovery: false, maxPullHoldMs: 500 },
    );
  });
  afterAll(async () => {
    await Promise.all(cams.map((c) => c.stop()));
  });

  it('onvif Cam: connects, reads info, profiles, stream and snapshot URIs', async () => {
    const c = await camConnect(cams[0]!, 'pw-a');
    expect(c.profiles.length).toBe(2);
    expect(c.activeSource.profileToken).toBe('profile_1');
    const info = await call<Record<string, unknown>>(c, 'getDeviceInformation');
    expect(info.model).toBe('SimCam 2000');
    const stream = await call<{ uri: string }>(c, 'getStreamUri', { protocol: 'RTSP' });
    expect(stream.uri).toBe('rtsp://127.0.0.1:8554/cam-a');
    const snap = await call<{ uri: string }>(c, 'getSnapshotUri', {});
    expect(snap.uri).toBe(`http://127.0.0.1:${cams[0]!.httpPort}/onvif/snapshot/profile_1.jpg`);
  });

  it('onvif Cam: a wrong password is refused with ter:NotAuthorized', async () => {
    const before = cams[0]!.stats.authFailures;
    await expect(camConnect(cams[0]!, 'wrong')).rejects.toThrow(/not Authorized/i);
    expect(cams[0]!.stats.authFailures).toBeGreaterThan(before);
  });

  it('onvif Cam: a camera five minutes slow still authenticates (time shift from GetSystemDateAndTime)', async () => {
    const c = await camConnect(cams[1]!, 'pw-b');
    expect(Math.abs(c.timeShift - (Date.now() - 5 * 60_000 - process.uptime() * 1000))).toBeLessThan(2000);
    // Without the time shift the same credentials are stale on this camera's clock.
    c.timeShift = Date.now() - process.uptime() * 1000;
    await expect(call(c, 'getDeviceInformation')).rejects.toThrow(/not Authorized/i);
  });

  it('onvif Cam: PTZ presets are kept and the current one is readable', async () => {
    const c = await camConnect(cams[0]!, 'pw-a');
    await call(c, 'setPreset', { presetName: 'Gate' });
    const presets = await call<Record<string, { $: { token: string } }>>(c, 'getPresets', {});
    expect(Object.keys(presets).sort()).toEqual(['Gate', 'Home']);
    await call(c, 'gotoPreset', { preset: presets.Home!.$.token });
    expect(cams[0]!.currentPreset).toBe(presets.Home!.$.token);
    await expect(call(c, 'gotoPreset', { preset: 'nope' })).rejects.toThrow(/No such preset/);
  });

  it('onvif Cam: PullPoint subscription delivers initial state and motion, renews and unsubscribes', async () => {
    const c = await camConnect(cams[0]!, 'pw-a');
    const sub = await call<{ currentTime: Date; terminationTime: Date }>(c, 'createPullPointSubscription');
    expect(sub.terminationTime.getTime() - sub.currentTime.getTime()).toBe(120_000);
    const first = await call<{ notificationMessage: unknown[] }>(c, 'pullMessages', { messageLimit: 10 });
    expect(first.notificationMessage.length).toBe(4);
    setTimeout(() => cams[0]!.motion(true), 50);
    const next = await call<{
      notificationMessage: {
        topic: { _: string };
        message: { message: { data: { simpleItem: { $: { Name: string; Value: unknown } } } } };
      };
    }>(c, 'pullMessages', { messageLimit: 10 });
    expect(next.notificationMessage.topic._).toBe('tns1:RuleEngine/CellMotionDetector/Motion');
    expect(next.notificationMessage.message.message.data.simpleItem.$).toEqual({ Name: 'IsMotion', Value: true });
    await call(c, 'renew', {});
    expect(cams[0]!.subscriptions).toBeGreaterThan(0);
    const subs = cams[0]!.subscriptions;
    await call(c, 'unsubscribe');
    expect(cams[0]!.subscriptions).toBe(subs - 1);
    cams[0]!.motion(false);
  });

  it('node-onvif (independent client): init, profiles, stream URI and a digest-protected snapshot', async () => {
    const dev = new NodeOnvif.OnvifDevice({ xaddr: cams[1]!.xaddr, user: 'admin', pass: 'pw-b' });
    const info = await dev.init();
    expect(info.Model).toBe('SimCam 2000');
    const profile = dev.getCurrentProfile();
    expect(profile.token).toBe('profile_1');
    expect(profile.stream.rtsp).toBe(`rtsp://127.0.0.1:8554/cam-b/profile_1`);
    expect(dev.getProfileList().length).toBe(2);
    const snap = await dev.fetchSnapshot();
    expect(snap.headers['content-type']).toBe('image/jpeg');
    expect(snap.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    // node-onvif sends Basic unasked; the camera refuses it and the Digest answer gets the picture.
    expect(cams[1]!.stats.snapshotSchemes.slice(-2)).toEqual(['basic', 'digest']);
  });

  it('node-onvif: wrong password fails', async () => {
    const dev = new NodeOnvif.OnvifDevice({ xaddr: cams[0]!.xaddr, user: 'admin', pass: 'nope' });
    await expect(dev.init()).rejects.toThrow();
  });
});
