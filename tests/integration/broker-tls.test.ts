/**
 * The embedded broker's TLS listener through a real Gateway: a lock (MQTT.js over TLS,
 * trusting the generated certificate as its CA) gets the same credential push as over
 * plain MQTT; mutual TLS binds a device to its own certificate; `gatehouse check` prints
 * the fingerprint lock vendors pin. openssl generates the certificates (a missing openssl
 * fails loudly).
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import type { LocksInstance } from '../../gateway/locks/create-locks.js';

const SECRETS = { 'devices.flat-1': 'lock-pass-flat-1', 'devices.flat-2': 'lock-pass-flat-2' };
const PUSH = { lock: 'flat-1', credentialId: 'tenant-1-pin', kind: 'pin', value: '482915' };

/** A lock as a vendor would write it: answers every command on its cmd topic with ok. */
async function tlsLock(
  port: number,
  id: 'flat-1' | 'flat-2',
  tls: mqtt.IClientOptions,
): Promise<{ client: MqttClient; commands: Record<string, unknown>[] }> {
  const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
    clientId: id,
    username: id,
    password: SECRETS[`devices.${id}`],
    reconnectPeriod: 0,
    protocolVersion: 4,
    connectTimeout: 5000,
    ...tls,
  });
  const commands: Record<string, unknown>[] = [];
  client.on('message', (_t, p) => {
    const cmd = JSON.parse(p.toString()) as Record<string, unknown>;
    commands.push(cmd);
    client.publishAsync(`lan/v1/lock/${id}/cmd/res`, JSON.stringify({ cid: cmd.cid, ok: true }), { qos: 1 }).catch(() => undefined);
  });
  await client.publishAsync(`lan/v1/lock/${id}/status`, '{"state":"online"}', { qos: 1, retain: true });
  await client.publishAsync(`lan/v1/lock/${id}/state`, '{"locked":true,"door":"closed","battery":90,"tamper":false}', {
    qos: 1,
    retain: true,
  });
  await client.subscribeAsync(`lan/v1/lock/${id}/cmd`, { qos: 1 });
  return { client, commands };
}

describe('embedded broker over TLS', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function startGateway(
    tls: Record<string, unknown>,
    dataDir = mkdtempSync(join(tmpdir(), 'gh-tls-')),
  ): Promise<{ gateway: Gateway; dataDir: string }> {
    const config = CompoundConfig.parse({
      compound: { id: 'tls-court' },
      gateway: { id: 'gw-tls' },
      console: { enabled: false },
      clock: { force: 'synced' },
      broker: { port: 0, tls: { port: 0, ...tls } },
      locks: [{ id: 'flat-1' }, { id: 'flat-2' }],
      log: { level: 'warn' },
    });
    const gateway = new Gateway({
      config,
      secrets: secretsFrom(SECRETS),
      dataDir,
      logs: createLoggerFactory(config.log, { destination: process.stderr }),
    });
    await gateway.start();
    cleanup.push(() => gateway.stop());
    return { gateway, dataDir };
  }

  const push = (gateway: Gateway, id: string) =>
    gateway.router.execute('lock.credential.set', { id, args: PUSH }, { via: 'cli', role: 'admin', principal: 'installer' });

  it('a lock trusting the generated certificate gets the credential push; the key is 0600; plain MQTT is closed with only: true', async () => {
    const { gateway, dataDir } = await startGateway({ only: true });
    expect(gateway.brokerPort).toBe(0);
    const certPem = readFileSync(join(dataDir, 'broker-cert.pem'));
    expect(statSync(join(dataDir, 'broker-key.pem')).mode & 0o777).toBe(0o600);
    expect(gateway.broker.tls?.fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);

    const lock = await tlsLock(gateway.broker.tlsPort, 'flat-1', { ca: certPem, rejectUnauthorized: true });
    cleanup.push(() => lock.client.endAsync(true));
    await waitFor(() => gateway.family<LocksInstance>('locks').service.states()['flat-1']?.online, 'the lock online');
    const reply = await push(gateway, 'tls-push-1');
    expect(reply).toMatchObject({ ok: true, result: { lock: 'flat-1', credentialId: 'tenant-1-pin' } });
    expect(lock.commands).toEqual([
      expect.objectContaining({ op: 'credential.set', credentialId: 'tenant-1-pin', kind: 'pin', value: '482915' }),
    ]);

    // A client that does not trust the certificate is refused by its own TLS check.
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${gateway.broker.tlsPort}`, {
        clientId: 'flat-2',
        username: 'flat-2',
        password: SECRETS['devices.flat-2'],
        reconnectPeriod: 0,
        connectTimeout: 3000,
      }),
    ).rejects.toThrow(/self-signed|certificate/i);
  });

  it('mutual TLS: a device needs a certificate from the CA naming it', async () => {
    const pki = mkdtempSync(join(tmpdir(), 'gh-pki-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=compound-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    );
    for (const id of ['flat-1', 'flat-2']) {
      ssl(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        `/CN=${id}`,
        '-keyout',
        `${id}.key`,
        '-out',
        `${id}.csr`,
      );
      ssl('x509', '-req', '-in', `${id}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${id}.pem`);
    }
    const { gateway, dataDir } = await startGateway({ caFile: join(pki, 'ca.pem') });
    const ca = readFileSync(join(dataDir, 'broker-cert.pem'));
    const certOf = (id: string) => ({ ca, cert: readFileSync(join(pki, `${id}.pem`)), key: readFileSync(join(pki, `${id}.key`)) });

    const lock = await tlsLock(gateway.broker.tlsPort, 'flat-1', certOf('flat-1'));
    cleanup.push(() => lock.client.endAsync(true));
    await waitFor(() => gateway.family<LocksInstance>('locks').service.states()['flat-1']?.online, 'the lock online');
    expect(await push(gateway, 'mtls-push-1')).toMatchObject({ ok: true });
    expect(lock.commands).toEqual([expect.objectContaining({ op: 'credential.set', value: '482915' })]);

    // flat-2's password with flat-1's certificate: refused after the handshake.
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${gateway.broker.tlsPort}`, {
        clientId: 'flat-2',
        username: 'flat-2',
        password: SECRETS['devices.flat-2'],
        reconnectPeriod: 0,
        connectTimeout: 3000,
        ...certOf('flat-1'),
      }),
    ).rejects.toThrow(/Not authorized/i);
    // No client certificate at all: the handshake fails.
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${gateway.broker.tlsPort}`, {
        clientId: 'flat-2',
        username: 'flat-2',
        password: SECRETS['devices.flat-2'],
        reconnectPeriod: 0,
        connectTimeout: 3000,
        ca,
      }),
    ).rejects.toThrow();
    // The plain listener stays open beside TLS unless only: true.
    const plain = netConnect(gateway.brokerPort, '127.0.0.1');
    await new Promise<void>((r, j) => plain.once('connect', () => r()).once('error', j));
    plain.destroy();
  });

  it('gatehouse check prints the SHA-256 fingerprint of the broker certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-tls-check-'));
    writeFileSync(join(dir, 'c.yaml'), 'compound: { id: c }\ngateway: { id: g }\nbroker: { tls: { port: 8883 } }\n');
    const r = runCli(['check', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data')]);
    expect(r.status, r.stderr).toBe(0);
    const fp = new X509Certificate(readFileSync(join(dir, 'data', 'broker-cert.pem'))).fingerprint256;
    expect(r.stdout).toContain(
      `broker TLS on 127.0.0.1:8883: certificate ${join(dir, 'data', 'broker-cert.pem')} (generated now), SHA-256 fingerprint ${fp}`,
    );
    // The same pair on the next check (and the next start): vendors' pins stay valid.
    expect(runCli(['check', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data')]).stdout).toContain(fp);

    // A LAN-facing broker with plain MQTT open to locks gets a warning; tls.only silences it.
    writeFileSync(join(dir, 's.yaml'), 'devices:\n  flat-1: "lock-password"\n', { mode: 0o600 });
    const lan = (tls: string) =>
      `compound: { id: c }\ngateway: { id: g }\nsecretsFile: s.yaml\nlocks: [{ id: flat-1 }]\nbroker: { host: 0.0.0.0${tls} }\n`;
    writeFileSync(join(dir, 'lan.yaml'), lan(''));
    expect(runCli(['check', '--config', join(dir, 'lan.yaml'), '--data', join(dir, 'data')]).stderr).toMatch(
      /warning: .*accepts plain MQTT on 0\.0\.0\.0/,
    );
    writeFileSync(join(dir, 'lan.yaml'), lan(', tls: { only: true }'));
    expect(runCli(['check', '--config', join(dir, 'lan.yaml'), '--data', join(dir, 'data')]).stderr).not.toMatch(/plain MQTT/);
  });
});
