/**
 * The console learns each device's family and the family pages from the server (the families'
 * console declarations), over real HTTPS: the browser never guesses a family from a state's
 * keys, and a family the compound does not configure has no page to load, however the path
 * is spelled.
 */
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompoundConfig } from '../../config/schema.js';
import { consoleCatalogue } from '../../gateway/console/catalogue.js';
import { FAMILIES as FAMILY_CONSOLES } from '../../gateway/families/registry.js';
import { ConsoleRig } from '../helpers/console-rig.js';

/** Locks and cabinets only: no doors, zones or cameras. */
const compound = CompoundConfig.parse({
  compound: { id: 'c' },
  gateway: { id: 'gw' },
  uplink: { url: 'mqtt://127.0.0.1:1' },
  locks: [{ id: 'flat-1' }],
  cabinets: [{ id: 'cab-a', bus: { tcp: { host: '127.0.0.1', port: 5020 } }, ports: 4 }],
});

describe('console families from the server', () => {
  let rig: ConsoleRig;
  let cookie = '';

  beforeAll(async () => {
    rig = new ConsoleRig();
    rig.catalogue = consoleCatalogue(FAMILY_CONSOLES, compound);
    await rig.start();
    await rig.console.accounts.add('anna', 'guard', 'correct horse battery');
    cookie = (await rig.login('anna')).cookie;
  });
  afterAll(async () => {
    await rig.stop();
    rig.remove();
  });

  it('lists each configured device with the family and kind its family declares', async () => {
    expect((await rig.call('GET', '/api/families')).status).toBe(401);
    const r = await rig.call('GET', '/api/families', { cookie });
    expect(r.status).toBe(200);
    expect(r.body.devices).toEqual(
      expect.arrayContaining([
        { id: 'flat-1', family: 'locks', kind: 'lock' },
        { id: 'cab-a', family: 'cabinets', kind: 'cabinet' },
        { id: 'alarms', family: 'alarms', kind: 'alarms' },
        { id: 'access', family: 'access', kind: 'access' },
      ]),
    );
    // Pages of the configured families only.
    expect(r.body.views).toEqual([{ family: 'cabinets', route: 'charging', module: 'charging.js', order: 40 }]);
  });

  it("serves the core pages and configured families' pages, and no other family's, however spelled", async () => {
    for (const path of ['/views/alarms.js', '/views/devices.js', '/views/system.js', '/views/users.js', '/views/charging.js']) {
      expect((await rig.call('GET', path)).status, path).toBe(200);
    }
    for (const path of [
      '/views/zones.js',
      '/views/video.js',
      '/views/doors.js',
      '/views//zones.js',
      '/views/%7Aones.js',
      '/views/./zones.js',
      '/%76iews/doors.js',
    ]) {
      const r = await rawGet(rig, path);
      expect(r.split(' ')[1], path).toMatch(/^40[04]$/);
      expect(r, path).not.toContain('export default');
    }
  });

  it('orders family pages as declared and keeps devices of unconfigured families out', () => {
    const all = CompoundConfig.parse({
      ...compound,
      cameras: [{ id: 'cam-1', host: '127.0.0.1', username: 'u' }],
      inputModules: [{ id: 'm-1', bus: { tcp: { host: '127.0.0.1', port: 502 } }, channels: 8 }],
      zones: [{ id: 'z-1', module: 'm-1', channel: 1, type: 'h24' }],
    });
    expect(consoleCatalogue(FAMILY_CONSOLES, all).views.map((v) => v.route)).toEqual(['video', 'zones', 'charging']);
    expect(consoleCatalogue(FAMILY_CONSOLES, compound).devices.map((d) => d.id)).not.toContain('z-1');
  });
});

function rawGet(rig: ConsoleRig, path: string): Promise<string> {
  const u = new URL(rig.url);
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`),
    );
    let out = '';
    s.on('data', (c) => (out += String(c)));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}
