/**
 * Reconnect and availability of one camera connection on injected timers: exponential
 * backoff capped at maxMs, offline announced once after offlineAfterMs of failure (not on
 * the first failed attempt), online again on the first good connect, backoff reset after.
 * The camera is real (simulator on loopback); only time is driven by hand.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CameraConfig } from '../../config/camera-schema.js';
import { CameraConnection } from '../../gateway/cameras/camera-connection.js';
import { ManualClock, type Timers } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { SimulatedCamera } from '../../sim/camera/index.js';
import { waitFor } from '../helpers/wait.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('CameraConnection backoff and availability', () => {
  let sim: SimulatedCamera | undefined;
  let conn: CameraConnection | undefined;
  afterEach(async () => {
    await conn?.stop();
    await sim?.stop();
  });

  it('retries after 100, 200, 400, 400 ms, goes offline once at offlineAfterMs, online when the camera appears', async () => {
    const port = await freePort();
    const clock = new ManualClock();
    const delays: number[] = [];
    const timers: Timers = {
      setTimeout: (fn, ms) => (delays.push(ms), clock.setTimeout(fn, ms)),
      setInterval: (fn, ms) => clock.setInterval(fn, ms),
    };
    const failures: number[] = [];
    const log = silentLogger();
    const warn = log.warn.bind(log);
    log.warn = ((obj: { attempt?: number }, ...rest: unknown[]) => {
      if (typeof obj?.attempt === 'number') failures.push(obj.attempt);
      return (warn as (...a: unknown[]) => void)(obj, ...rest);
    }) as typeof log.warn;
    const seen: string[] = [];
    conn = new CameraConnection({
      config: CameraConfig.parse({ id: 'cam', host: '127.0.0.1', port, username: 'admin', events: false, offlineAfterMs: 1000 }),
      password: 'pw',
      clock,
      timers,
      log,
      backoff: { initialMs: 100, maxMs: 400 },
      requestTimeoutMs: 2000,
      maxResponseBytes: 1 << 20,
      probeIntervalMs: 250,
      onOnline: () => seen.push('online'),
      onOffline: (reason) => seen.push(`offline:${reason}`),
      onEvent: () => undefined,
    });
    conn.start();
    const failed = (n: number) => waitFor(() => failures.length >= n, `${n} failed attempts`);
    await failed(1);
    expect(delays).toEqual([1000, 100]);
    clock.advance(99);
    expect(failures.length).toBe(1);
    clock.advance(1);
    await failed(2);
    clock.advance(200);
    await failed(3);
    clock.advance(400);
    await failed(4);
    expect(delays).toEqual([1000, 100, 200, 400, 400]);
    expect(seen).toEqual([]);
    clock.advance(300); // 1000 ms after start
    expect(seen).toEqual(['offline:unreachable']);

    sim = new SimulatedCamera({ id: 'cam', username: 'admin', password: 'pw', port, discovery: false });
    await sim.start();
    clock.advance(100); // the pending 400 ms retry
    await waitFor(() => seen.length === 2, 'online');
    expect(seen).toEqual(['offline:unreachable', 'online']);
    expect(conn.status).toMatchObject({ online: true, profile: 'profile_1' });

    // Backoff starts again from the beginning after a good connection; the probe notices the loss.
    await sim.goOffline();
    delays.length = 0;
    clock.advance(250);
    await failed(5);
    expect(delays).toEqual([1000, 100]);
    await sim.comeBack();
    clock.advance(100);
    await waitFor(() => conn!.status.online, 'online again');
    // Back within offlineAfterMs: no offline/online pair for a blip.
    expect(seen).toEqual(['offline:unreachable', 'online']);
  });
});
