/**
 * `sudo gatehouse cert request|install` (issue 15.5): run as root over the service user's data
 * directory, the key, CSR and certificate it writes belong to the service user (the daemon
 * could not read a root-owned 0600 key), with the modes kept (key 0600, certificate 0644).
 * CI runs as root, which this needs: it fails loudly otherwise.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const NOBODY = 65534;
const dir = mkdtempSync(join(tmpdir(), 'gh-cert-root-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl is needed for this test and could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

describe('gatehouse cert run as root', () => {
  it("gives the key, the CSR and the certificate to the data directory's owner", () => {
    if (process.getuid?.() !== 0) throw new Error('this test chowns files and reads them as nobody: run it as root (CI does)');
    const data = join(dir, 'data');
    chmodSync(dir, 0o755); // nobody must reach its data dir, as /var/lib is for the service
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, NOBODY, NOBODY);
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=ca',
    ]);
    const config = join(dir, 'c.yaml');
    writeFileSync(
      config,
      `compound: { id: c }\ngateway: { id: g }\nuplink: { url: 'mqtts://127.0.0.1:8883', caFile: ${join(dir, 'ca.crt')} }\n`,
    );

    const req = runCli(['cert', 'request', '--config', config, '--data', data]);
    expect(req.status, req.stderr).toBe(0);
    for (const f of ['uplink', 'uplink/box.key.pending', 'uplink/box.csr']) expect(statSync(join(data, f)).uid, f).toBe(NOBODY);

    openssl([
      'x509',
      '-req',
      '-in',
      join(data, 'uplink/box.csr'),
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'box.crt',
      '-days',
      '2',
    ]);
    const inst = runCli(['cert', 'install', join(dir, 'box.crt'), '--config', config, '--data', data]);
    expect(inst.status, inst.stderr).toBe(0);
    const key = statSync(join(data, 'uplink/box.key'));
    const crt = statSync(join(data, 'uplink/box.crt'));
    expect([key.uid, key.mode & 0o777]).toEqual([NOBODY, 0o600]);
    expect([crt.uid, crt.mode & 0o777]).toEqual([NOBODY, 0o644]);
    // The service user (here nobody) can read its key.
    const read = spawnSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(join(data, 'uplink/box.key'))})`], {
      uid: NOBODY,
      gid: NOBODY,
      encoding: 'utf8',
    });
    expect(read.status, read.stderr).toBe(0);
  });
});
