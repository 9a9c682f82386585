/**
 * The live check of the cameras (`gatehouse check --devices`): log in over ONVIF (which
 * measures the camera's clock first, as the daemon does), read its identity and media
 * profiles, and fetch one snapshot of the configured profile (HTTP Digest, bounded in size
 * and time), kept for the commissioning report. A camera accepts more than one client, so
 * the check opens its own session whether the daemon runs or not.
 */
import type { CameraConfig, CompoundConfig } from '../../config/schema.js';
import { OnvifCamera } from '../../drivers/onvif/client.js';
import { fetchSnapshot } from '../../drivers/onvif/snapshot.js';
import { toGatehouseError } from '../core/errors.js';
import type { DeviceProbeResult, FamilyProbe, ProbeContext } from '../families/family.js';
import { cameraPasswordSecret } from './family.js';

export const probe: FamilyProbe<CompoundConfig>['probe'] = async (ctx) =>
  Promise.all(
    ctx.config.cameras.map(async (cam) => {
      ctx.progress(`checking camera ${cam.id} (${cam.host}:${cam.port})…`);
      const r = await withDeadline(ctx, cam, probeCamera(ctx, cam));
      ctx.progress(`camera ${cam.id}: ${r.ok ? 'OK' : `FAIL (${r.status})`}`);
      return r;
    }),
  );

/**
 * Login is several ONVIF calls (clock, services, profiles), each bounded by the device
 * timeout; the whole camera is bounded too, at twice that, so one camera that answers
 * slowly to everything cannot hold the check.
 */
async function withDeadline(
  ctx: ProbeContext<CompoundConfig>,
  cam: CameraConfig,
  p: Promise<DeviceProbeResult>,
): Promise<DeviceProbeResult> {
  let timer: { cancel(): void } | undefined;
  const limit = 2 * ctx.deviceTimeoutMs;
  const late = new Promise<DeviceProbeResult>((resolve) => {
    timer = ctx.timers.setTimeout(
      () =>
        resolve({
          id: cam.id,
          kind: 'camera',
          ok: false,
          status: 'TOO SLOW',
          detail: `no complete answer from ${cam.host}:${cam.port} within ${limit} ms`,
          advice: `the camera at ${cam.host}:${cam.port} answers too slowly: check its load, network and firmware`,
        }),
      limit,
    );
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    timer?.cancel();
  }
}

async function probeCamera(ctx: ProbeContext<CompoundConfig>, cam: CameraConfig): Promise<DeviceProbeResult> {
  const base = { id: cam.id, kind: 'camera' };
  const where = `${cam.host}:${cam.port}`;
  const secret = cameraPasswordSecret(cam);
  const password = ctx.secrets.get(secret);
  if (password === undefined)
    return {
      ...base,
      ok: false,
      status: 'NO PASSWORD',
      detail: `secret ${secret} is missing`,
      advice: `add ${secret} to the secrets file`,
    };
  const client = new OnvifCamera({
    host: cam.host,
    port: cam.port,
    path: cam.path,
    username: cam.username,
    password,
    timeoutMs: ctx.deviceTimeoutMs,
  });
  let stage = 'login';
  const identity: Record<string, string> = {};
  try {
    await client.connect();
    const info = await client.deviceInfo();
    Object.assign(identity, { manufacturer: info.manufacturer, model: info.model, firmware: info.firmware, serial: info.serial });
    stage = 'profiles';
    const profiles = client.profiles();
    const token = cam.profile ?? profiles[0]?.token;
    const profile = profiles.find((p) => p.token === token);
    if (!profile)
      return {
        ...base,
        identity,
        ok: false,
        status: 'NO PROFILE',
        detail: `profiles: ${profiles.map((p) => p.token).join(', ') || 'none'}`,
        advice: cam.profile
          ? `the camera has no media profile "${cam.profile}": set cameras[].profile to one it lists, or remove it`
          : 'the camera lists no media profile: create one in its web page',
      };
    stage = 'snapshot';
    const uri = new URL(await client.snapshotUri(profile.token));
    // The picture comes from the camera we configured, whatever address it believes it has (NAT).
    uri.hostname = cam.host;
    const jpeg = await fetchSnapshot(uri.toString(), {
      username: cam.username,
      password,
      maxBytes: ctx.config.media.maxSnapshotBytes,
      timeoutMs: Math.min(ctx.deviceTimeoutMs, ctx.config.media.snapshotTimeoutMs),
      timers: ctx.timers,
    });
    const size = profile.width && profile.height ? ` ${profile.width}x${profile.height}` : '';
    return {
      ...base,
      identity,
      ok: true,
      status: 'online',
      detail: `${info.manufacturer} ${info.model} firmware ${info.firmware}; ${profiles.length} profile(s), using ${profile.token}${size}${profile.encoding ? ` ${profile.encoding}` : ''}; snapshot ${jpeg.length} bytes`,
      snapshot: { mime: 'image/jpeg', base64: jpeg.toString('base64') },
      ...(Math.abs(client.skewMs(ctx.clock.now())) > 60_000
        ? { warnings: [`camera ${cam.id} clock is ${Math.round(client.skewMs(ctx.clock.now()) / 1000)} s off: set its NTP server`] }
        : {}),
    };
  } catch (err) {
    const e = toGatehouseError(err);
    const at = stage === 'login' ? '' : ` (during the ${stage})`;
    if (e.code === 'DEVICE_AUTH_FAILED')
      return {
        ...base,
        identity,
        ok: false,
        status: 'REFUSED',
        detail: `password refused${at}: ${e.message}`,
        advice: `password refused: check user "${cam.username}" on the camera and secret ${secret}; the user needs the ONVIF operator role for snapshots`,
      };
    if (e.code === 'DEVICE_OFFLINE' || e.code === 'CMD_TIMEOUT')
      return {
        ...base,
        identity,
        ok: false,
        status: 'UNREACHABLE',
        detail: `${e.message}${at}`,
        advice: `no answer from ${where}: check the camera's power and network cable, its address, and that ONVIF is enabled on port ${cam.port}`,
      };
    return {
      ...base,
      identity,
      ok: false,
      status: 'PROTOCOL',
      detail: `${e.message}${at}`,
      advice: `the camera at ${where} answers but not as expected${at}: check that ONVIF (Profile S) is enabled and the device path ${cam.path}`,
    };
  } finally {
    client.close();
  }
}
