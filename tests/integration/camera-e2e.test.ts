/**
 * Cameras end to end through the Gateway: an intruder on a perimeter beam raises an alarm;
 * linkage turns the simulated ONVIF camera to its preset and fetches a snapshot (HTTP Digest)
 * which is stored, attached to the alarm and delivered to a real Mosquitto as JPEG bytes on
 * `media/{id}` — the alarm itself is recorded without waiting for the picture. A camera
 * tamper (scene change) is an alarm of its own. Every JSON message is valid against the
 * AsyncAPI document.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedCameras, type SimulatedCamera } from '../../sim/camera/index.js';
import { startTestStream, type TestStream } from '../../sim/camera/rtsp.js';
import { Accounts } from '../../gateway/console/accounts.js';
import WebSocket from 'ws';
import { request as httpsRequest } from 'node:https';
import { startSimulatedInputModules, type SimulatedInputModules } from '../../sim/perimeter/index.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { startRig, type Rig, type RigCompound } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';

const CAMERA_PASSWORD = randomBytes(9).toString('base64url');

describe('cameras end to end', () => {
  let rig: Rig;
  let modules: SimulatedInputModules;
  let camera: SimulatedCamera;
  let stream: TestStream;
  /** What reached the platform with a body (a cleared retained state has none). */
  const messages = () => rig.platform.messages.filter((m) => m.payload.length);
  const events = (type: string) => rig.platform.events({ type });
  const gateway = () => rig.gateway;

  beforeAll(async () => {
    modules = await startSimulatedInputModules({
      tcp: [{ id: 'wall-east', channels: 8, port: 0, host: '127.0.0.1' }],
      zones: [{ id: 'east-beam', module: 'wall-east', channel: 2, contact: 'NC' }],
    });
    stream = await startTestStream({ path: '/cam2', size: '320x180', fps: 10, tag: 'gh-camera-e2e' });
    camera = (
      await startSimulatedCameras([{ id: 'cam-2', username: 'gatehouse', password: CAMERA_PASSWORD, rtspUrl: stream.url }], {
        host: '127.0.0.1',
        discovery: false,
      })
    )[0]!;
    camera.presets.set('gate', 'Gate');
    const config: RigCompound = {
      compound: { id: 'camera-court' },
      uplink: { keepaliveSeconds: 5 },
      inputModules: [
        { id: 'wall-east', bus: { tcp: { host: '127.0.0.1', port: modules.tcpPort('wall-east') } }, channels: 8, pollMs: 100 },
      ],
      zones: [{ id: 'east-beam', module: 'wall-east', channel: 2, type: 'h24', contact: 'NC', debounceMs: 0 }],
      cameras: [{ id: 'cam-2', host: '127.0.0.1', port: camera.httpPort, username: 'gatehouse' }],
      linkage: [{ when: { sources: ['east-beam'] }, do: [{ camera: 'cam-2', snapshot: true, preset: 'gate' }] }],
      // The console is the only way into live video; the simulator's RTSP server speaks UDP only.
      console: { port: 0, tls: { enabled: true } },
      liveView: { rtspTransport: 'udp', width: 320, lingerMs: 0 },
    };
    rig = await startRig({
      name: 'camera-e2e',
      config,
      secrets: { 'cameras.cam-2': CAMERA_PASSWORD },
      platform: { clientId: 'platform-camera' },
    });
    await waitFor(() => events('device.online').some((e) => e.source.device === 'cam-2') || undefined, 'the camera online', 20_000);
  }, 60_000);

  afterAll(async () => {
    await rig?.gateway.stop();
    await camera?.stop();
    await stream?.stop();
    await modules?.stop();
    await rig?.stop();
  });

  it('an alarm turns the camera to its preset and delivers a snapshot attached to the alarm', async () => {
    modules.scenario.beam('east-beam').block();
    const raised = await waitFor(() => events('alarm.raised').find((e) => e.data.kind === 'zone.tamper'), 'alarm.raised for the beam');
    const alarmId = raised.data.alarmId as string;
    const attached = await waitFor(
      () => events('alarm.media').find((e) => e.data.alarmId === alarmId),
      'the snapshot attached to the alarm',
      15_000,
    );
    const mediaId = attached.data.mediaId as string;
    const snapshot = events('media.snapshot').find((e) => e.data.mediaId === mediaId)!;
    expect(snapshot.data).toMatchObject({ camera: 'cam-2', alarmId });
    // The picture itself, as bytes on its own topic: a JPEG (SOI marker), the size announced.
    const jpeg = await waitFor(
      () => messages().find((m) => m.topic === `${gateway().root}/media/${mediaId}`),
      `media/${mediaId} at the platform`,
      15_000,
    );
    expect(jpeg.payload.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(jpeg.payload.length).toBe(snapshot.data.bytes);
    expect(camera.currentPreset).toBe('gate');
    // The alarm was recorded before the picture: its seq is lower than the media event's.
    expect(raised.seq as number).toBeLessThan(snapshot.seq as number);
    expect(gateway().alarms.manager.get(alarmId)?.media).toContain(mediaId);
    modules.scenario.beam('east-beam').restore();
  }, 30_000);

  it('a camera tamper (scene change) is an alarm', async () => {
    camera.tamper();
    const raised = await waitFor(
      () => events('alarm.raised').find((e) => e.data.kind === 'camera.tamper'),
      'alarm.raised for the camera tamper',
      15_000,
    );
    expect(raised).toMatchObject({ source: { device: 'cam-2' }, data: { priority: 'high' } });
  }, 20_000);

  it('live video reaches a logged-in guard through the console as MPEG-TS, and nobody else', async () => {
    const accounts = new Accounts(gateway().outbox.scope('console'), () => Date.now());
    await accounts.add('guard-1', 'guard', 'a long guard passphrase');
    const base = new URL(gateway().consoleUrl!);
    const login = await new Promise<{ cookie: string }>((resolve, reject) => {
      const body = JSON.stringify({ username: 'guard-1', password: 'a long guard passphrase' });
      const req = httpsRequest(
        {
          host: base.hostname,
          port: base.port,
          method: 'POST',
          path: '/api/login',
          rejectUnauthorized: false,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Origin: base.origin },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve({ cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]! })
              : reject(new Error(`login ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const video = (headers: Record<string, string>) =>
      new WebSocket(`wss://${base.host}/api/video/cam-2`, { headers: { Origin: base.origin, ...headers }, rejectUnauthorized: false });
    // Without the session cookie: refused before any stream starts.
    const refused = await new Promise<number>((resolve) => {
      const ws = video({});
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);
    // With it: MPEG-TS packets (sync byte 0x47 every 188 bytes) from ffmpeg transcoding the RTSP stream.
    const ws = video({ Cookie: login.cookie });
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      ws.on('message', (d: Buffer) => {
        chunks.push(d);
        total += d.length;
        if (total >= 188 * 50) resolve(Buffer.concat(chunks));
      });
      ws.on('error', reject);
      setTimeout(() => reject(new Error(`no video within 20 s (${total} bytes)`)), 20_000).unref();
    });
    for (let i = 0; i + 188 <= bytes.length; i += 188) expect(bytes[i]).toBe(0x47);
    const pid = gateway().liveView!.stats().streams[0]?.pid;
    expect(pid).toBeGreaterThan(0);
    ws.close();
    // The stream stops when the last viewer leaves (lingerMs 0): its ffmpeg is gone.
    await waitFor(
      () => gateway().liveView!.stats().streams.length === 0 || undefined,
      'the live stream stopped after the viewer left',
      10_000,
      () => gateway().liveView!.stats(),
    );
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => !alive(pid!) || undefined, `ffmpeg ${pid} to exit`, 5000);
  }, 40_000);

  it('publishes only JSON messages the AsyncAPI document describes', () => {
    const jsonMessages = messages().filter((m) => !m.topic.includes('/media/'));
    const invalid = jsonMessages.map((m) => ({ m, v: validateMessage(m.topic, m.payload) })).filter((x) => !x.v.ok);
    expect(invalid.map((x) => `${x.m.topic}: ${x.m.payload.toString().slice(0, 160)} → ${x.v.errors.slice(0, 2).join('; ')}`)).toEqual([]);
  });
});
