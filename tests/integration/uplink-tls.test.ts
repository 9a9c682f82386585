/**
 * The uplink as a real box connects to a platform: mqtts with a private CA, a per-box
 * client certificate and a username/password from the secrets file. A TLS failure (wrong
 * CA) and refused credentials are outages like any other: the uplink keeps trying, never
 * logs the password, and recovers by itself once the cause is fixed (the PEM files are
 * read again on every attempt).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretsFrom } from '../../config/load.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { silentLogger } from '../../gateway/core/log.js';
import { topicRoot } from '../../gateway/core/topics.js';
import { Uplink } from '../../gateway/uplink/uplink.js';
import { Verifier } from '../../sim/verifier.js';
import { makeTestCerts, Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { makeRig, outboxBacklog, testEvent, testUplinkConfig } from '../helpers/uplink-rig.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'pw-Zq8-uplink-s3cret';

describe('uplink over TLS with a client certificate and a password', () => {
  let broker: Mosquitto;
  let otherCa: string;
  let scratch: string;

  beforeAll(async () => {
    broker = await startMosquitto({ tls: { requireClientCertificate: true }, users: { 'gw-tls': PASSWORD, platform: 'platform-pw' } });
    scratch = mkdtempSync(join(tmpdir(), 'gh-tls-'));
    otherCa = makeTestCerts(scratch, 'Some Other CA').caFile;
  });
  afterAll(async () => {
    await broker?.dispose();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const tlsConfig = (caFile: string, username = 'gw-tls') => ({
    caFile,
    certFile: broker.certs!.clientCertFile,
    keyFile: broker.certs!.clientKeyFile,
    username,
    passwordSecret: 'uplink.password',
  });

  it('delivers over mqtts with CA, client certificate and password, and never logs the password', async () => {
    const root = topicRoot('test-court', 'gw-tls');
    const v = await Verifier.connect({ url: broker.url, root, username: 'platform', password: 'platform-pw', persistentSession: false });
    const r = makeRig({
      url: broker.tlsUrl!,
      root,
      uplink: tlsConfig(broker.certs!.caFile),
      secrets: secretsFrom({ 'uplink.password': PASSWORD }),
    });
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => r.outbox.record(testEvent(i))));
      r.uplink.start();
      await waitFor(
        () => v.unique === 200 && outboxBacklog(r.outbox) === 0,
        'delivery over TLS',
        10_000,
        () => r.uplink.status(),
      );
      expect(v.report().ok).toBe(true);
      expect(v.statuses.some((s) => s.state === 'online')).toBe(true);
    } finally {
      await r.dispose();
      await v.close();
    }
    expect(r.logs.join('\n')).not.toContain(PASSWORD);
  });

  it('keeps retrying through a TLS failure and recovers by itself once the right CA is in place', async () => {
    const root = topicRoot('test-court', 'gw-tls-ca');
    const caFile = join(scratch, 'uplink-ca.pem');
    copyFileSync(otherCa, caFile); // the installer copied the wrong CA
    const v = await Verifier.connect({ url: broker.url, root, username: 'platform', password: 'platform-pw', persistentSession: false });
    const r = makeRig({ url: broker.tlsUrl!, root, uplink: tlsConfig(caFile), secrets: secretsFrom({ 'uplink.password': PASSWORD }) });
    try {
      await r.outbox.record(testEvent(1, 'alarm'));
      r.uplink.start();
      await waitFor(() => r.uplink.status().attempts >= 3, 'several failed attempts', 10_000);
      expect(r.uplink.status().connected).toBe(false);
      expect(r.uplink.status().lastError).toMatch(/certificate|self.signed|verify/i);
      expect(r.uplink.healthy()).toBe(true);
      copyFileSync(broker.certs!.caFile, caFile);
      await waitFor(
        () => v.unique === 1,
        'the alarm after the CA was fixed',
        10_000,
        () => r.uplink.status(),
      );
    } finally {
      await r.dispose();
      await v.close();
    }
  });

  it('treats refused credentials as an outage (keeps trying, says why) and a missing secret as a configuration error', async () => {
    const root = topicRoot('test-court', 'gw-tls-pw');
    const r = makeRig({
      url: broker.tlsUrl!,
      root,
      uplink: tlsConfig(broker.certs!.caFile),
      secrets: secretsFrom({ 'uplink.password': 'wrong' }),
    });
    try {
      r.uplink.start();
      await waitFor(() => r.uplink.status().attempts >= 3, 'several refused attempts', 10_000);
      expect(r.uplink.status().lastError).toMatch(/not authori[sz]ed|bad user ?name or password/i);
      expect(r.logs.join('\n')).not.toContain('"wrong"');
    } finally {
      await r.dispose();
    }
    let err: unknown;
    try {
      new Uplink({
        config: testUplinkConfig(broker.tlsUrl!, { passwordSecret: 'uplink.missing' }),
        secrets: secretsFrom({}),
        outbox: undefined as never,
        clock: undefined as never,
        log: silentLogger(),
        topicRoot: root,
        onCommand: () => undefined,
      });
    } catch (e) {
      err = e;
    }
    expect(isGatehouseError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('uplink.missing');
  });
});
