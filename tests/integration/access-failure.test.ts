/**
 * A damaged per-box credential hash key (`access.key`) fails access control only: the
 * gateway starts, reports the component as failed with what to do, refuses credential syncs
 * (they would be hashed under the wrong key), and everything else runs, the uplink to the
 * platform included (on the shared rig: a real Mosquitto and the platform subscriber).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe('access control with a damaged key file', () => {
  it('fails alone, says why, and refuses credential syncs', async () => {
    // One door, so the access family is configured (a compound without doors or readers never loads it).
    rig = await startRig({
      name: 'access-fail',
      start: false,
      config: {
        compound: { id: 'c' },
        gateway: { id: 'g' },
        osdpBuses: [{ id: 'bus-1', path: '/nonexistent/no-such-tty' }],
        readers: [{ id: 'r-1', bus: 'bus-1', address: 1, secure: 'install' }],
        doors: [{ id: 'd-1', entryReader: 'r-1', lock: { reader: 'r-1', index: 0 } }],
      },
    });
    writeFileSync(join(rig.dir, 'access.key'), 'not 32 bytes');
    const gateway = rig.gateway;
    await gateway.start();
    const status = gateway.status() as { failedComponents: Record<string, string> };
    expect(Object.keys(status.failedComponents)).toEqual(['access']);
    expect(status.failedComponents.access).toMatch(
      /access\.key is damaged: 12 bytes, expected 32; no usable backup .*: restore .*access\.key from a backup of the box/,
    );
    expect(gateway.brokerPort).toBeGreaterThan(0); // the rest runs
    const reply = await gateway.router.execute(
      'access.credentials.snapshot',
      { id: 'sync-1', args: { version: 1, chunk: 0, chunks: 1, credentials: [] } },
      { via: 'cli', role: 'admin', principal: 'test' },
    );
    expect(reply).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
    // The platform, through the uplink, gets the same refusal (once the uplink is up and subscribed).
    await waitFor(() => rig!.platform.messages.some((m) => m.sub === 'status' && m.body?.state === 'online'), 'the gateway online');
    const remote = await rig.platform.command('access.credentials.snapshot', { version: 1, chunk: 0, chunks: 1, credentials: [] });
    expect(remote).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
  });
});
