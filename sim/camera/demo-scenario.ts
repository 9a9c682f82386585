/**
 * The camera part of `gatehouse demo`: one ONVIF camera (camera 2 of the compound, else its
 * first) whose RTSP stream is a local ffmpeg test picture, with a fresh password. When the
 * perimeter scenario reports the beam of the third zone crossed, the intruder also moves in
 * front of this camera (issue 6): its motion event goes on for 2 s.
 *
 * Also `startCamerasOf`, for `gatehouse sim --config FILE`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { CompoundConfig } from '../../config/schema.js';
import { simulating, type DemoScenario } from '../scenarios.js';
import { startSimulatedCameras, type SimulatedCamera } from './index.js';
import { FFMPEG } from './jpeg.js';
import { startTestStream, type TestStream } from './rtsp.js';
import { cameraPasswordSecret } from '../../config/camera-schema.js';

/** In the test stream's ffmpeg command line, so `pgrep -f` finds a leftover. */
export const DEMO_RTSP_TAG = 'gatehouse-demo-rtsp';
/** "An intruder on zone 3 also moves in front of camera 2" (issue 6). */
const ZONE_3_CAMERA = 'cam-2';

export const scenario: DemoScenario = {
  family: 'cameras',
  order: 60,
  async prepare(config, say, story) {
    const camCfg = config.cameras.find((c) => c.id === ZONE_3_CAMERA) ?? config.cameras[0];
    if (!camCfg) return undefined;
    let camera: SimulatedCamera | undefined;
    let stream: TestStream | undefined;
    const secrets: Record<string, string> = {};
    if (!existsSync(FFMPEG)) say(`  (camera skipped: ${FFMPEG} not found; install ffmpeg for the camera and its RTSP stream)`);
    else {
      try {
        const password = randomBytes(12).toString('base64url');
        secrets[cameraPasswordSecret(camCfg)] = password;
        stream = await startTestStream({ path: `/${camCfg.id}`, size: '640x360', fps: 10, ffmpegPath: FFMPEG, tag: DEMO_RTSP_TAG });
        camera = (
          await startSimulatedCameras([{ id: camCfg.id, username: camCfg.username, password, rtspUrl: stream.url }], {
            host: '127.0.0.1',
            discovery: false,
          })
        )[0]!;
        camera.presets.set('north-wall', 'North wall');
      } catch (err) {
        await stream?.stop();
        throw err;
      }
    }
    const cameras = camera ? [{ ...camCfg, host: '127.0.0.1', port: camera.httpPort }] : [];
    const cameraIds = new Set(cameras.map((c) => c.id));
    let stopping = false;
    const zone3 = config.zones[2];
    const cam = camera;
    const motionEnds = new Set<NodeJS.Timeout>();
    if (cam && zone3) {
      story.on('zone-tripped', (zone) => {
        if (zone !== zone3.id || stopping) return;
        cam.motion(true);
        const t = setTimeout(() => {
          motionEnds.delete(t);
          cam.motion(false);
        }, 2000);
        motionEnds.add(t);
      });
    }
    // A pending end of motion would keep the process up after the demo stopped.
    const halt = () => {
      stopping = true;
      for (const t of motionEnds) clearTimeout(t);
      motionEnds.clear();
    };
    return {
      secrets,
      config: {
        cameras,
        // Without the camera, its linkage actions go too (the rest of the rule still holds).
        linkage: config.linkage
          .map((r) => ({ ...r, do: r.do.filter((a) => !('camera' in a) || cameraIds.has(a.camera)) }))
          .filter((r) => r.do.length > 0),
      },
      banner: (pub) =>
        camera
          ? [
              `  camera ${camera.id} (ONVIF, RTSP test picture ${stream?.url}): a beam alarm turns it to the wall for a snapshot. Take one now:`,
              `    ${pub('camera.snapshot', { camera: camera.id })}`,
            ]
          : [],
      halt,
      async stop() {
        halt();
        await camera?.stop();
        await stream?.stop();
      },
    };
  },
  async simulate(config, bench) {
    if (config.cameras.length === 0) return undefined;
    return simulating('cameras', () => startCamerasOf(config, (n) => bench.secret(n)));
  },
};

/**
 * `gatehouse sim --config FILE`: the cameras of FILE, each serving ONVIF on its configured
 * host:port with the password from the secrets, and (with ffmpeg) an RTSP test picture as its stream.
 */
export async function startCamerasOf(
  config: CompoundConfig,
  secretOf: (name: string) => string | undefined,
): Promise<{ lines: string[]; stop(): Promise<void> }> {
  const lines: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const haveFfmpeg = existsSync(FFMPEG);
    if (config.cameras.length && !haveFfmpeg) lines.push(`cameras without an RTSP stream: ${FFMPEG} not found`);
    for (const c of config.cameras) {
      const secret = cameraPasswordSecret(c);
      const password = secretOf(secret);
      if (!password) throw new Error(`no password secret "${secret}" for camera ${c.id}; add it to the secrets file`);
      let rtspUrl: string | undefined;
      if (haveFfmpeg) {
        const stream = await startTestStream({ path: `/${c.id}`, ffmpegPath: FFMPEG, tag: `gatehouse-sim-rtsp-${c.id}` });
        stops.push(() => stream.stop());
        rtspUrl = stream.url;
      }
      const [cam] = await startSimulatedCameras([{ id: c.id, username: c.username, password, ...(rtspUrl ? { rtspUrl } : {}) }], {
        host: c.host,
        port: c.port,
        discovery: false,
      });
      stops.push(() => cam!.stop());
      lines.push(`simulating camera ${c.id} (ONVIF) on http://${c.host}:${c.port}${c.path}${rtspUrl ? `, RTSP ${rtspUrl}` : ''}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { lines, stop };
}
