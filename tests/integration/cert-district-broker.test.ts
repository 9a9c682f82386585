/**
 * Per-box certificates end to end (issue 15.5), through the real CLI and a real Mosquitto
 * running exactly docs/district-broker/mosquitto.conf and gatehouse.acl (only the paths and
 * the port replaced): `gatehouse cert request` makes the key on the box and a CSR, the
 * district CA (openssl here) signs it, `gatehouse cert install` refuses certificates that do
 * not fit and installs the one that does; the daemon then connects with it and the platform
 * sees its events and answers; another box cannot publish under this box's root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { ROOT, runCli, spawnCli } from '../helpers/cli.js';
import { freePort, requireMosquitto } from '../helpers/mosquitto.js';
import { Platform } from '../helpers/platform.js';
import { waitFor } from '../helpers/wait.js';

const ROOT_GW1 = 'gatehouse/v1/maple-court/gw-1';
const ROOT_GW2 = 'gatehouse/v1/maple-court/gw-2';

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl is needed for this test and could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A CA in `dir` (name.crt, name.key). */
function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '3', '-subj', `/CN=${name}`], dir);
}

/** Signs a CSR with a CA of `dir`. */
function sign(dir: string, ca: string, csr: string, out: string, ext?: string, days = 2): void {
  const extArgs = ext ? ['-extfile', ext] : [];
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      out,
      '-days',
      String(days),
      ...extArgs,
    ],
    dir,
  );
}

/** A key and a certificate with subject `subj`, signed by the CA (for the broker, the platform, the other box). */
function issue(dir: string, ca: string, name: string, subj: string, ext?: string): void {
  const conf = join(dir, `${name}.cnf`);
  // A config file: the CN of a box holds a '/'.
  const rdns = subj.split(', ').map((p) => p.replace('=', ' = '));
  writeFileSync(conf, ['[req]', 'prompt = no', 'distinguished_name = dn', '[dn]', ...rdns, ''].join('\n'));
  openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-config', conf], dir);
  sign(dir, ca, `${name}.csr`, `${name}.crt`, ext);
}

describe('per-box certificates with the district broker configuration', () => {
  let dir: string;
  let pki: string;
  let data: string;
  let config: string;
  let port: number;
  let broker: ChildProcess | undefined;
  let brokerLog = '';
  let daemon: ChildProcess | undefined;
  let daemonLog = '';
  let platform: Platform | undefined;
  let metricsPort: number;

  beforeAll(async () => {
    requireMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'gh-cert-'));
    pki = join(dir, 'pki');
    mkdirSync(pki);
    data = join(dir, 'data');
    makeCa(pki, 'district-ca');
    makeCa(pki, 'other-ca');
    writeFileSync(join(pki, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    issue(pki, 'district-ca', 'broker', 'CN=localhost', join(pki, 'server.ext'));
    issue(pki, 'district-ca', 'platform', 'O=District, CN=platform');
    issue(pki, 'district-ca', 'gw2', 'O=Gatehouse, OU=maple-court, CN=maple-court/gw-2');

    // The documented broker configuration, with this test's paths and port.
    port = await freePort();
    const conf = readFileSync(join(ROOT, 'docs/district-broker/mosquitto.conf'), 'utf8')
      .replace(/^listener 8883$/m, `listener ${port} 127.0.0.1`)
      .replace('/etc/mosquitto/ca/district-ca.crt', join(pki, 'district-ca.crt'))
      .replace('/etc/mosquitto/certs/broker.crt', join(pki, 'broker.crt'))
      .replace('/etc/mosquitto/certs/broker.key', join(pki, 'broker.key'))
      .replace('/etc/mosquitto/gatehouse.acl', join(ROOT, 'docs/district-broker/gatehouse.acl'));
    expect(conf).not.toContain('/etc/mosquitto');
    // Running as root, mosquitto would switch to the `mosquitto` user; and its log for failure messages.
    writeFileSync(join(dir, 'mosquitto.conf'), `user ${userInfo().username}\nlog_dest stderr\nlog_type all\n${conf}`);
    broker = spawn(requireMosquitto(), ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    broker.stderr!.on('data', (b: Buffer) => (brokerLog += b.toString()));
    await waitFor(
      () => brokerLog.includes(`Opening ipv4 listen socket on port ${port}`),
      'mosquitto listening',
      10_000,
      () => brokerLog,
    );

    metricsPort = await freePort();
    config = join(dir, 'compound.yaml');
    writeFileSync(
      config,
      [
        'compound: { id: maple-court }',
        'gateway: { id: gw-1 }',
        'console: { enabled: false }',
        'broker: { port: 0 }',
        `metrics: { enabled: true, port: ${metricsPort} }`,
        'uplink:',
        `  url: mqtts://127.0.0.1:${port}`,
        `  caFile: ${join(pki, 'district-ca.crt')}`,
        '  backoff: { minMs: 100, maxMs: 1000 }',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await platform?.close();
    daemon?.kill('SIGKILL');
    broker?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('cert request makes the key on the box (0600) and a CSR naming compound and gateway', () => {
    const r = runCli(['cert', 'request', '--config', config, '--data', data]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    const pending = join(data, 'uplink', 'box.key.pending');
    expect(statSync(pending).mode & 0o777).toBe(0o600);
    expect(r.stdout).not.toContain('PRIVATE KEY');
    expect(r.stderr).not.toContain('PRIVATE KEY');
    const csr = join(data, 'uplink', 'box.csr');
    expect(readFileSync(csr, 'utf8')).toBe(r.stdout);
    const subject = spawnSync('openssl', ['req', '-in', csr, '-noout', '-subject', '-verify'], { encoding: 'utf8' });
    expect(subject.stdout).toContain('O = Gatehouse, OU = maple-court, CN = maple-court/gw-1');
    expect(subject.stderr).toMatch(/verify OK|Certificate request self-signature verify OK/);
  });

  it('cert install refuses a certificate of another key, another box or another CA, and installs the right one', () => {
    const csr = join(data, 'uplink', 'box.csr');
    // Issued to another key (the other box's CSR), to another CN, by another CA.
    sign(pki, 'district-ca', 'gw2.csr', 'wrong-key.crt');
    issue(pki, 'district-ca', 'wrong-cn', 'O=Gatehouse, OU=maple-court, CN=maple-court/gw-1');
    writeFileSync(join(pki, 'other.cnf'), '[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = maple-court/gw-9\n');
    openssl(['req', '-new', '-key', join(data, 'uplink', 'box.key.pending'), '-config', 'other.cnf', '-out', 'gw9.csr'], pki);
    sign(pki, 'district-ca', 'gw9.csr', 'wrong-cn-own-key.crt');
    sign(pki, 'other-ca', csr, 'wrong-ca.crt');
    const cases: [string, RegExp][] = [
      ['wrong-key.crt', /CERT_INVALID: .*wrong-key\.crt was not issued for this box's key/],
      ['wrong-cn.crt', /CERT_INVALID: .*was not issued for this box's key/],
      ['wrong-cn-own-key.crt', /CERT_INVALID: .*names CN=maple-court\/gw-9, this box is CN=maple-court\/gw-1/],
      ['wrong-ca.crt', /CERT_INVALID: .*wrong-ca\.crt is not signed by the CA in .*district-ca\.crt \(uplink\.caFile\)/],
    ];
    for (const [file, message] of cases) {
      const r = runCli(['cert', 'install', join(pki, file), '--config', config, '--data', data]);
      expect(r.status, `${file}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(data, 'uplink', 'box.crt'))).toBe(false);
    }

    // A year: far from the 30-day warning (a cert-expiry unit test covers the stages).
    sign(pki, 'district-ca', csr, 'box.crt', undefined, 365);
    const ok = runCli(['cert', 'install', join(pki, 'box.crt'), '--config', config, '--data', data]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`installed ${resolve(data, 'uplink', 'box.crt')}`);
    expect(statSync(join(data, 'uplink', 'box.crt')).mode & 0o777).toBe(0o644);
    expect(statSync(join(data, 'uplink', 'box.key')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(data, 'uplink', 'box.key.pending'))).toBe(false);
    expect(readFileSync(join(data, 'uplink', 'box.crt'), 'utf8')).toBe(readFileSync(join(pki, 'box.crt'), 'utf8'));
  });

  it('the box connects with its own certificate: events, state/gateway and commands reach the platform', async () => {
    const tls = (name: string) => ({
      ca: readFileSync(join(pki, 'district-ca.crt')),
      cert: readFileSync(join(pki, `${name}.crt`)),
      key: readFileSync(join(pki, `${name}.key`)),
    });
    platform = await Platform.connect(`mqtts://127.0.0.1:${port}`, ROOT_GW1, { clientId: 'platform-1', ...{ tls: tls('platform') } });
    await platform.client.subscribeAsync(`${ROOT_GW2}/#`, { qos: 1 });

    daemon = spawnCli(['run', '--config', config, '--data', data], { GATEHOUSE_UPLINK_URL: '' });
    daemon.stdout!.on('data', (b: Buffer) => (daemonLog += b.toString()));
    daemon.stderr!.on('data', (b: Buffer) => (daemonLog += b.toString()));
    const detail = () => ({ daemon: daemonLog.slice(-3000), broker: brokerLog.slice(-2000) });
    await waitFor(() => platform!.state('gateway') !== undefined || undefined, 'state/gateway', 20_000, detail);
    await platform.waitEvent({ class: 'system', type: 'gateway.started' }, 'gateway.started from the box', 20_000);
    expect(platform.messages.find((m) => m.sub === 'status')?.body?.state).toBe('online');
    const state = platform.state('gateway')!;
    expect(state.certificate).toMatchObject({
      file: resolve(data, 'uplink', 'box.crt'),
      subject: 'O=Gatehouse, OU=maple-court, CN=maple-court/gw-1',
      stage: 'ok',
    });
    // The broker took the CN as the username.
    expect(brokerLog).toMatch(/New client connected from 127\.0\.0\.1:\d+ as gatehouse-maple-court-gw-1 .*u'maple-court\/gw-1'/);
    const answer = await platform.command('system.ping', {});
    expect(answer.ok, JSON.stringify(answer)).toBe(true);
    expect(platform.invalid({ nonEmpty: true })).toEqual([]);
    // The expiry as a metric too: a year ahead, give or take the test's minutes.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith('gatehouse_uplink_certificate_expiry_seconds{'));
    expect(line).toMatch(/^gatehouse_uplink_certificate_expiry_seconds\{subject="O=Gatehouse, OU=maple-court, CN=maple-court\/gw-1"\} \d+/);
    expect(Number(line!.split(' ').at(-1)) / 86_400).toBeCloseTo(365, 0);
  });

  it("another box cannot publish under this box's root, nor read its commands, even naming it as its username", async () => {
    const intruder = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      clientId: 'intruder',
      username: 'maple-court/gw-1',
      ca: readFileSync(join(pki, 'district-ca.crt')),
      cert: readFileSync(join(pki, 'gw2.crt')),
      key: readFileSync(join(pki, 'gw2.key')),
      reconnectPeriod: 0,
    });
    try {
      // Mosquitto 2.0 grants the subscription (MQTT 3.1.1) but delivers nothing the ACL does not let it read.
      const seen: string[] = [];
      intruder.on('message', (topic) => seen.push(topic));
      await intruder.subscribeAsync(`${ROOT_GW1}/#`, { qos: 1 });
      const answer = await platform!.command('system.ping', {});
      expect(answer.ok).toBe(true);
      expect(seen).toEqual([]);
      const forged = JSON.stringify({ forged: 'evt from gw-2' });
      await intruder.publishAsync(`${ROOT_GW1}/evt/alarm`, forged, { qos: 1 });
      await intruder.publishAsync(`${ROOT_GW1}/state/gateway`, forged, { qos: 1, retain: true });
      // Its own root works: the barrier that proves the forged ones had their chance to arrive.
      await intruder.publishAsync(`${ROOT_GW2}/status`, JSON.stringify({ barrier: true }), { qos: 1 });
      await waitFor(() => platform!.messages.some((m) => m.topic === `${ROOT_GW2}/status`), 'the intruding box on its own root', 10_000);
      expect(platform!.messages.filter((m) => m.raw === forged)).toEqual([]);
      expect(brokerLog).toMatch(/Denied PUBLISH from intruder .*gatehouse\/v1\/maple-court\/gw-1\/evt\/alarm/);
    } finally {
      await intruder.endAsync(true);
    }
  });
});
