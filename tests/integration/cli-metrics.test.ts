/**
 * `gatehouse check` and the metrics listener (issue 15.7): a listener on a LAN address is the
 * installer's decision, and check says what it exposes; the default (loopback) says nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-cli-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(metrics: string) {
  const file = join(dir, 'c.yaml');
  writeFileSync(file, `compound: { id: c }\ngateway: { id: g }\nmetrics: ${metrics}\n`);
  return runCli(['check', '--config', file]);
}

describe('gatehouse check: metrics', () => {
  it('warns when the metrics listener is on a LAN address', () => {
    const r = check('{ enabled: true, host: 0.0.0.0, port: 9464 }');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('metrics.host is 0.0.0.0: /metrics and /healthz answer anyone who reaches it, without a login');
  });

  it('says nothing on loopback (the default), and refuses an unknown key with its path', () => {
    const ok = check('{ enabled: true }');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('metrics');
    const bad = check('{ enabled: true, colour: blue }');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/metrics.*colour|colour.*metrics/);
  });
});
