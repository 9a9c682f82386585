/**
 * Every device family reports to the gateway's one presence policy: a Gateway with a lock,
 * a charging cabinet, an OSDP reader, an input module, a DC-09 panel and an ONVIF camera
 * (all pointing at loopback ports where nothing answers) registers each of them with its
 * family. (What the policy then does is tested per family and end to end elsewhere.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { CompoundConfig } from '../../config/schema.js';
import { Gateway } from '../../gateway/app.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { freePort } from '../helpers/mosquitto.js';

describe('presence wiring', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('registers the devices of all six families with the shared policy', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-presence-wiring-'));
    const [cabinetPort, modulePort, cameraPort] = [await freePort(), await freePort(), await freePort()];
    const config = CompoundConfig.parse({
      compound: { id: 'wiring' },
      gateway: { id: 'gw' },
      broker: { port: 0 },
      console: { enabled: false },
      log: { level: 'silent' },
      locks: [{ id: 'flat-1' }],
      cabinets: [{ id: 'cab-a', bus: { tcp: { host: '127.0.0.1', port: cabinetPort } }, ports: 4 }],
      osdpBuses: [{ id: 'rs485-1', path: join(dir, 'no-such-adapter') }],
      readers: [{ id: 'gate-in', bus: 'rs485-1', address: 1, secure: 'off' }],
      inputModules: [{ id: 'wall-north', bus: { tcp: { host: '127.0.0.1', port: modulePort } }, channels: 8 }],
      perimeter: { dc09: { host: '127.0.0.1', tcpPort: 0, udpPort: 0 } },
      alarmPanels: [{ id: 'panel-1', account: '1234' }],
      cameras: [{ id: 'cam-gate', host: '127.0.0.1', port: cameraPort, username: 'admin' }],
    });
    const secrets = secretsFrom({ 'devices.flat-1': 'pw-flat-1-xyz', 'cameras.cam-gate': 'camera-pw' });
    const gateway = new Gateway({
      config,
      secrets,
      dataDir: dir,
      logs: createLoggerFactory({ level: 'silent' }, { destination: process.stderr }),
    });
    await gateway.start();
    try {
      expect(
        gateway.presence
          .tracked()
          .map((t) => [t.device, t.family])
          .sort(),
      ).toEqual([
        ['cab-a', 'cabinet'],
        ['cam-gate', 'camera'],
        ['flat-1', 'lock'],
        ['gate-in', 'reader'],
        ['panel-1', 'panel'],
        ['wall-north', 'module'],
      ]);
      expect(gateway.status().presence).toEqual({ flapping: [] });
    } finally {
      await gateway.stop();
    }
  });
});
