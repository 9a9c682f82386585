/**
 * The 30-day notice of the uplink certificate's expiry is recorded once per certificate,
 * not at every start inside the window (issue 15): two lifetimes of a real Gateway on one
 * data directory (real outbox.db), with a real certificate from openssl that expires in 20
 * days and an unreachable platform, so every recorded event stays in the outbox to count.
 * A renewed certificate that is also inside the window gets its own notice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import { freePort } from '../helpers/mosquitto.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-cert-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl is needed for this test and could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

describe('certificate expiry notice across restarts', () => {
  it('records uplink.certificate_expiring once per certificate, whatever the restarts', async () => {
    openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '900', '-subj', '/CN=district-ca']);
    writeFileSync(join(dir, 'box.cnf'), '[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = cc/gw-1\n');
    openssl(['req', ...EC, '-keyout', 'box.key', '-out', 'box.csr', '-config', 'box.cnf']);
    const issue = (days: number) =>
      openssl([
        'x509',
        '-req',
        '-in',
        'box.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'box.crt',
        '-days',
        String(days),
      ]);
    issue(20);

    const dataDir = join(dir, 'data');
    const config = CompoundConfig.parse({
      compound: { id: 'cc' },
      gateway: { id: 'gw-1' },
      broker: { port: 0 },
      console: { enabled: false },
      uplink: {
        url: `mqtts://127.0.0.1:${await freePort()}`,
        caFile: join(dir, 'ca.crt'),
        certFile: join(dir, 'box.crt'),
        keyFile: join(dir, 'box.key'),
        connectTimeoutMs: 1000,
        backoff: { minMs: 200, maxMs: 1000 },
      },
      log: { level: 'silent' },
    });
    const logs = createLoggerFactory({ level: 'silent' });
    const notices = async (): Promise<{ stage: unknown; notAfter: unknown }[]> => {
      const gw = new Gateway({ config, secrets: secretsFrom({}), dataDir, logs });
      await gw.start();
      // Committed before start() returns? Not necessarily: wait for the outbox's group commit.
      await gw.outbox.record({ class: 'system', type: 'test.marker', source: { device: 'gateway' }, data: {} } as never);
      const rows = gw.outbox
        .readEvents(0, 10_000)
        .map((r) => JSON.parse(r.body) as { type: string; data: { stage: unknown; notAfter: unknown } })
        .filter((e) => e.type === 'uplink.certificate_expiring');
      await gw.stop();
      return rows.map((e) => ({ stage: e.data.stage, notAfter: e.data.notAfter }));
    };

    const first = await notices();
    expect(first).toEqual([{ stage: 'soon', notAfter: expect.any(String) }]);
    // Restarted twice inside the window: the one notice is still the only one.
    expect(await notices()).toEqual(first);
    expect(await notices()).toEqual(first);

    // A renewed certificate still inside the window (another fingerprint): its own notice, once.
    issue(25);
    const renewed = await notices();
    expect(renewed).toHaveLength(2);
    expect(renewed[1]!.notAfter).not.toBe(first[0]!.notAfter);
    expect(await notices()).toEqual(renewed);
  });
});
