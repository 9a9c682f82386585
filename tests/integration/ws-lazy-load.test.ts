/**
 * `ws` and the SOCKS client cost nothing unless used (issue 12, idle RSS of a locks-only
 * box): a gateway whose uplink is mqtt:// or mqtts:// and whose console is on but unwatched
 * imports neither `ws` (nor zlib/https through it) nor `socks` (ip-address, smart-buffer);
 * with a ws:// uplink it does, so the probe sees them when they are there. The live feed
 * loading `ws` on its first connection is covered by console-server.test.ts and the
 * browser test; the TLS uplink by the uplink TLS tests. Same loader-hook probe as
 * metrics-lazy-load.test.ts, plus the CommonJS modules (a package's own `require`s).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuild } from '../helpers/cli.js';
import { Mosquitto } from '../helpers/mosquitto.js';

let dir: string | undefined;
let broker: Mosquitto;

beforeAll(async () => {
  broker = await Mosquitto.start({ tls: true, websockets: true });
});
afterAll(async () => {
  await broker?.dispose();
});
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function loadedModules(uplink: string): string[] {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), 'gh-ws-lazy-'));
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  writeFileSync(
    join(dir, 'c.yaml'),
    `compound: { id: c }\ngateway: { id: g }\nbroker: { port: 0 }\nconsole: { port: 0 }\nuplink: ${uplink}\n`,
  );
  const log = join(dir, 'modules.log');
  const r = spawnSync(
    process.execPath,
    ['--import', resolve(ROOT, 'tests/helpers/module-log-hooks.mjs'), resolve(ROOT, 'dist/tests/helpers/uplink-probe-child.js')],
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
  expect(r.stdout).toMatch(/^connected$/m);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const packages = (modules: string[], names: string[]) =>
  [...new Set(modules.flatMap((u) => names.filter((n) => u.includes(`/node_modules/${n}/`))))].sort();
const LAZY = ['ws', 'socks', 'ip-address', 'smart-buffer'];

describe('lazy loading of ws and socks', () => {
  it('imports none of them with an mqtt:// uplink and the console on', () => {
    const modules = loadedModules(`{ url: "${broker.url}" }`);
    expect(modules.some((u) => u.includes('/node_modules/mqtt/'))).toBe(true);
    expect(packages(modules, LAZY)).toEqual([]);
  });

  it('imports none of them with an mqtts:// uplink', () => {
    expect(packages(loadedModules(`{ url: "${broker.tlsUrl}", caFile: "${broker.certs!.caFile}" }`), LAZY)).toEqual([]);
  });

  it('imports ws for a ws:// uplink', () => {
    expect(packages(loadedModules(`{ url: "${broker.wsUrl}" }`), LAZY)).toContain('ws');
  });
});
