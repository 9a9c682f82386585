/**
 * `gatehouse check` on uplink.url / uplink.urls: a cluster's nodes are counted in the
 * summary, and both keys at once are refused with the file, line and key path (exit 2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('gatehouse check: uplink.urls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-check-urls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, uplink: string) => {
    const f = join(dir, name);
    writeFileSync(f, `compound: { id: c }\ngateway: { id: g }\nuplink:\n${uplink}`);
    return f;
  };

  it('counts the nodes of a cluster', () => {
    const r = runCli(['check', '--config', file('two.yaml', '  urls: [mqtts://n1:8883, mqtts://n2:8883]\n')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('uplink configured (2 broker node(s))');
  });

  it('refuses url and urls together, naming the line and key', () => {
    const f = file('both.yaml', '  url: mqtt://a:1883\n  urls: [mqtt://b:1883]\n');
    const r = runCli(['check', '--config', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${f}:5 uplink.urls: give exactly one of url or urls`);
  });
});
