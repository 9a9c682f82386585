/**
 * A swap cabinet with fire suppression (simulator on Modbus TCP, 6 slots, 4 stocked), a
 * simulated ONVIF camera with a "swap" preset, and a rig whose linkage rule turns the camera
 * to that preset and takes a snapshot on `swap.fire`: the set-up of the fire-linkage test
 * (swap-cabinet.test.ts) and of the fire bound on an injected clock (swap-fire-bound.test.ts).
 */
import { startSimulatedCameras, type SimulatedCamera } from '../../sim/camera/index.js';
import { startSimulatedSwapCabinets, type SimulatedSwapCabinets } from '../../sim/swap/index.js';
import { startRig, type Rig, type RigOptions } from './rig.js';

export interface SwapFireRig {
  camera: SimulatedCamera;
  sim: SimulatedSwapCabinets;
  rig: Rig;
}

export async function startSwapFireRig(name: string, pollMs: number, gateway?: RigOptions['gateway']): Promise<SwapFireRig> {
  const camera = (
    await startSimulatedCameras([{ id: 'cam-s', username: 'gatehouse', password: 'cam-secret-123' }], {
      host: '127.0.0.1',
      discovery: false,
    })
  )[0]!;
  camera.presets.set('swap', 'Swap room');
  let sim: SimulatedSwapCabinets | undefined;
  try {
    sim = await startSimulatedSwapCabinets({
      tcp: [{ id: 'swap-1', slots: 6, port: 0, host: '127.0.0.1', suppression: true }],
      tickMs: 0,
      stock: {},
    });
    const rig = await startRig({
      name,
      secrets: { 'cameras.cam-s': 'cam-secret-123' },
      ...(gateway ? { gateway } : {}),
      config: {
        swapCabinets: [
          { id: 'swap-1', bus: { tcp: { host: '127.0.0.1', port: sim.tcpPort('swap-1') } }, slots: 6, pollMs, suppression: true },
        ],
        cameras: [{ id: 'cam-s', host: '127.0.0.1', port: camera.httpPort, username: 'gatehouse' }],
        linkage: [{ when: { kinds: ['swap.fire'] }, do: [{ camera: 'cam-s', snapshot: true, preset: 'swap' }] }],
      },
    });
    return { camera, sim, rig };
  } catch (err) {
    await sim?.stop();
    await camera.stop();
    throw err;
  }
}
