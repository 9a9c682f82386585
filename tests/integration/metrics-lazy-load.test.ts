/**
 * Metrics cost nothing unless enabled (issue 15.7 against issue 12's RSS targets): with the
 * default `metrics.enabled: false` the daemon imports neither prom-client nor
 * gateway/metrics/; enabled, it does (so the probe sees what it should). Same loader-hook
 * probe as family-lazy-load.test.ts.
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

function loadedModules(compound: string): string[] {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), 'gh-metrics-lazy-'));
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
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
  expect(r.stdout).toMatch(/^started .*"failed":\{\}/);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const metricsCode = (modules: string[]) => modules.filter((u) => /node_modules\/prom-client\/|\/dist\/gateway\/metrics\//.test(u));
const base = 'compound: { id: c }\ngateway: { id: g }\nbroker: { port: 0 }\nconsole: { enabled: false }\n';

describe('lazy loading of the metrics', () => {
  it('imports neither prom-client nor gateway/metrics/ by default', () => {
    expect(metricsCode(loadedModules(base))).toEqual([]);
  });

  it('imports them when metrics.enabled', () => {
    const loaded = metricsCode(loadedModules(`${base}metrics: { enabled: true, port: 0 }\n`));
    expect(loaded.some((u) => u.includes('/dist/gateway/metrics/gateway-metrics.js'))).toBe(true);
    expect(loaded.some((u) => u.includes('node_modules/prom-client/'))).toBe(true);
  });
});
