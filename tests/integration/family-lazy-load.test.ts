/**
 * Deliverable 9 of issue 12: a family the compound file does not configure is never
 * imported. A child node runs the built gateway (dist/) under a loader hook that records
 * every module URL, with a locks-only compound; the locks family's code must be there (so
 * the probe sees what it should) and no other family's code, nor the console, the live view
 * or their packages.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, requireBuild } from '../helpers/cli.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function probe(compound: string, secrets: string): { modules: string[]; stdout: string } {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), 'gh-lazy-'));
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  writeFileSync(join(dir, 's.yaml'), secrets, { mode: 0o600 });
  writeFileSync(join(dir, 'c.yaml'), compound);
  const log = join(dir, 'modules.log');
  const r = spawnSync(
    process.execPath,
    ['--import', resolve(ROOT, 'tests/helpers/module-log-hooks.mjs'), resolve(ROOT, 'dist/tests/helpers/family-probe-child.js')],
    {
      env: {
        ...process.env,
        GATEHOUSE_MODULE_LOG: log,
        GATEHOUSE_PROBE_CONFIG: join(dir, 'c.yaml'),
        GATEHOUSE_PROBE_DATA: join(dir, 'data'),
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return { modules: readFileSync(log, 'utf8').split('\n').filter(Boolean), stdout: r.stdout };
}

const ours = (modules: string[]) => modules.filter((u) => u.includes('/dist/')).map((u) => u.slice(u.indexOf('/dist/') + 6));

describe('lazy loading of families', () => {
  it('a locks-only compound imports the locks family and no other family, console or live view', () => {
    const compound =
      'compound: { id: c }\ngateway: { id: g }\nsecretsFile: s.yaml\nbroker: { port: 0 }\nconsole: { enabled: false }\nlocks:\n  - id: flat-1\n';
    const { modules, stdout } = probe(compound, 'devices:\n  flat-1: pw-flat-1-xyz\n');
    expect(stdout).toMatch(/^started .*"failed":\{\}/);
    const loaded = ours(modules);
    expect(loaded).toEqual(expect.arrayContaining(['gateway/app.js', 'gateway/locks/create-locks.js', 'gateway/locks/lock-service.js']));
    // Every manifest's declarations load (they are the registry); no other family code does. The
    // control socket's user handling is core (gatehouse user), the console server is not.
    const declarations = '(?!family\\.js|dc09-family\\.js|alarm-kinds\\.js|console\\.js|migrations\\.js|state-device\\.js)';
    const foreign = loaded.filter((m) =>
      new RegExp(
        `^gateway\\/(access|charging|perimeter)\\/${declarations}|^gateway\\/console\\/(?!catalogue\\.js|user-control\\.js|accounts\\.js|migrations\\.js)` +
          `|^gateway\\/cameras\\/${declarations}(?!media-store\\.js|media-publisher\\.js|types\\.js)|^drivers\\/(osdp|onvif|modbus|dc09|ffmpeg)\\/`,
      ).test(m),
    );
    expect(foreign).toEqual([]);
    const packages = modules.filter((u) => /node_modules\/(onvif|xml2js|serialport|@serialport|ws)\//.test(u));
    expect(packages).toEqual([]);
  });

  it('a compound with cameras imports the camera family (the probe sees what is configured)', () => {
    const compound =
      'compound: { id: c }\ngateway: { id: g }\nsecretsFile: s.yaml\nbroker: { port: 0 }\nconsole: { enabled: false }\ncameras:\n  - { id: cam-1, host: 127.0.0.1, port: 9, username: viewer }\n';
    const { modules } = probe(compound, 'cameras:\n  cam-1: pw-cam-1-xyz\n');
    const loaded = ours(modules);
    expect(loaded).toEqual(
      expect.arrayContaining(['gateway/cameras/create-cameras.js', 'gateway/cameras/camera-service.js', 'gateway/cameras/live-view.js']),
    );
    expect(loaded.filter((m) => /^gateway\/locks\/(?!family\.js|alarm-kinds\.js|console\.js)/.test(m))).toEqual([]);
  });
});
