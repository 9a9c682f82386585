/**
 * Issue 17's bound "fire alarm and camera snapshot within one poll + 100 ms", asserted on an
 * injected clock: the whole Gateway runs on a ManualClock (its clock and its timers), the
 * swap cabinet simulator answers on real Modbus TCP, the camera simulator on real HTTP/SOAP,
 * the platform is a real Mosquitto. The test moves the clock itself: one poll interval to the
 * poll that first reads smoke (clock time T), then to T + 99 ms, and holds it there while the
 * real I/O runs. Whatever the gateway does at clock time below T + 100 ms is done then; a fire
 * handling deferred to the next poll (T + 100) or to any timer of 100 ms or more never
 * happens while the clock is held, and the test fails naming what is missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import type { CamerasInstance } from '../../gateway/cameras/create-cameras.js';
import type { SwapInstance } from '../../gateway/swap/create-swap.js';
import type { SimulatedCamera } from '../../sim/camera/index.js';
import type { SimulatedSwapCabinets } from '../../sim/swap/index.js';
import type { Rig } from '../helpers/rig.js';
import { startSwapFireRig } from '../helpers/swap-fire-rig.js';
import { waitFor } from '../helpers/wait.js';

const POLL_MS = 100;
/** The bound after the poll that first reads smoke. */
const BOUND_MS = 100;

let sim: SimulatedSwapCabinets | undefined;
let rig: Rig | undefined;
let camera: SimulatedCamera | undefined;

afterEach(async () => {
  await rig?.stop();
  await camera?.stop();
  await sim?.stop();
  rig = sim = camera = undefined;
});

describe('swap cabinet fire on an injected clock', () => {
  it('power cut, swap.fire and alarm recorded, camera snapshot requested before clock time poll + 100 ms', async () => {
    const clock = new ManualClock(Date.now());
    ({ camera, sim, rig } = await startSwapFireRig('swap-fire-bound', POLL_MS, { clock, timers: clock }));
    const cab = sim.cabinet('swap-1');
    const unit = rig.gateway.family<SwapInstance>('swap').service.unit('swap-1');
    const recorded: { type: string; kind?: unknown }[] = [];
    rig.gateway.outbox.on('recorded', (envs: Envelope[]) => {
      for (const e of envs) recorded.push({ type: e.type, kind: (e.data as { kind?: unknown }).kind });
    });

    /** One poll: the clock moves by the poll interval (the poll timer fires), then the real Modbus reads complete. */
    const poll = async (what: string): Promise<void> => {
      const before = unit.last;
      clock.advance(POLL_MS);
      await waitFor(
        () => unit.last !== before,
        what,
        10_000,
        () => ({ clock: clock.monotonic(), requests: cab.requests }),
      );
    };
    // The first poll was scheduled at start (clock 0): run it, then a few more.
    clock.advance(0);
    await waitFor(() => unit.last, 'the first poll of swap-1');
    for (let i = 0; i < 3; i++) await poll(`steady poll ${i + 1}`);
    expect(unit.online).toBe(true);
    // The camera connects by real I/O at start (no timer involved); the linkage needs it connected.
    const cameras = rig.gateway.family<CamerasInstance>('cameras');
    await waitFor(
      () => cameras.service.status('cam-s')?.online,
      'the camera connected',
      20_000,
      () => cameras.service.status('cam-s'),
    );
    const snapshotsBefore = camera.stats.snapshotSchemes.length;
    expect(cab.accepted.filter((c) => c.kind === 'cabinetPower')).toEqual([]);

    // Smoke rises between two polls; the next poll (clock T) is the first to read it.
    sim.inject({ kind: 'smoke', cabinet: 'swap-1' });
    const T = clock.monotonic() + POLL_MS;
    await poll('the poll that first reads smoke');
    expect(unit.last?.status.smoke).toBe(true);
    expect(clock.monotonic()).toBe(T);
    // Every timer due below T + 100 ms fires; the next poll (T + 100) does not.
    clock.advance(BOUND_MS - 1);
    const seen: Record<string, number> = {};
    const mark = (name: string, happened: boolean): boolean => {
      if (happened && seen[name] === undefined) seen[name] = clock.monotonic();
      return happened;
    };
    const effects = () => ({
      powerCut: mark(
        'powerCut',
        cab.accepted.some((c) => c.kind === 'cabinetPower' && !c.on),
      ),
      suppression: mark(
        'suppression',
        cab.accepted.some((c) => c.kind === 'suppress'),
      ),
      fireRecorded: mark(
        'fireRecorded',
        recorded.some((e) => e.type === 'swap.fire'),
      ),
      alarmRecorded: mark(
        'alarmRecorded',
        recorded.some((e) => e.type === 'alarm.raised' && e.kind === 'swap.fire'),
      ),
      snapshotRequested: mark('snapshotRequested', camera!.stats.snapshotSchemes.length > snapshotsBefore),
    });
    await waitFor(
      () => Object.values(effects()).every(Boolean),
      `the power cut, swap.fire, its alarm and the snapshot request with the clock held at poll + ${BOUND_MS - 1} ms`,
      15_000,
      () => ({ effects: effects(), clock: clock.monotonic() - T, accepted: cab.accepted, recorded: recorded.map((e) => e.type) }),
    );
    expect(clock.monotonic()).toBe(T + BOUND_MS - 1);
    for (const [name, at] of Object.entries(seen)) expect(at - T, `${name} after the smoke poll, clock ms`).toBeLessThan(BOUND_MS);
    expect(cab.powerOn).toBe(false);
    expect(cab.suppression).toBe('discharged');
  }, 60_000);
});
