/**
 * A damaged per-box credential hash key (`access.key`) fails access control only: the
 * gateway starts, reports the component as failed with what to do, refuses credential syncs
 * (they would be hashed under the wrong key), and everything else runs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { CompoundConfig } from '../../config/schema.js';
import { Gateway } from '../../gateway/app.js';
import { createLoggerFactory } from '../../gateway/core/log.js';

let gateway: Gateway | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('access control with a damaged key file', () => {
  it('fails alone, says why, and refuses credential syncs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-access-fail-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'access.key'), 'not 32 bytes');
    // One door, so the access family is configured (a compound without doors or readers never loads it).
    const door = {
      osdpBuses: [{ id: 'bus-1', path: join(dir, 'no-such-tty') }],
      readers: [{ id: 'r-1', bus: 'bus-1', address: 1, secure: 'install' }],
      doors: [{ id: 'd-1', entryReader: 'r-1', lock: { reader: 'r-1', index: 0 } }],
    };
    const config = CompoundConfig.parse({
      compound: { id: 'c' },
      gateway: { id: 'g' },
      broker: { port: 0 },
      console: { enabled: false },
      log: { level: 'silent' },
      ...door,
    });
    gateway = new Gateway({
      config,
      secrets: secretsFrom({}),
      dataDir: join(dir, 'data'),
      logs: createLoggerFactory({ level: 'silent' }, { destination: process.stderr }),
    });
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
  });
});
