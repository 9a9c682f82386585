/**
 * The uplink row of `gatehouse check --devices` against a real Mosquitto with TLS and
 * passwords: a good configuration passes with the chain verified and the client
 * certificate's expiry shown; a broker certificate from another CA, a wrong password,
 * nothing listening, and an expired client certificate each fail with their own advice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { UplinkConfig } from '../../config/schema.js';
import { ManualClock, realTimers, systemClock } from '../../gateway/core/clock.js';
import { probeUplink } from '../../gateway/probe/uplink-probe.js';
import type { UplinkStatus } from '../../gateway/uplink/uplink.js';
import { freePort, makeTestCerts, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

const PASSWORD = 'uplink-probe-pw';
let broker: Mosquitto;
let otherCa: string;
let dir: string;

beforeAll(async () => {
  broker = await startMosquitto({ persistence: false, tls: true, users: { 'gw-1': PASSWORD } });
  dir = mkdtempSync(join(tmpdir(), 'gh-uplink-probe-'));
  otherCa = makeTestCerts(dir, 'Some Other CA').caFile;
}, 30_000);

afterAll(async () => {
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function probe(cfg: Record<string, unknown>, opts: { password?: string; clock?: ManualClock } = {}) {
  const config = UplinkConfig.parse({
    url: broker.tlsUrl,
    username: 'gw-1',
    passwordSecret: 'uplink',
    caFile: broker.certs!.caFile,
    certFile: broker.certs!.clientCertFile,
    keyFile: broker.certs!.clientKeyFile,
    ...cfg,
  });
  return probeUplink({
    config,
    url: config.url!,
    secrets: secretsFrom({ uplink: opts.password ?? PASSWORD }),
    clientId: 'gatehouse-c-g',
    clock: opts.clock ?? systemClock({ forceState: 'synced' }),
    timers: realTimers,
    timeoutMs: 3000,
  });
}

describe('uplink probe', () => {
  it('passes with the TLS chain verified, and warns of a client certificate near its expiry', async () => {
    const r = await probe({});
    expect(r).toMatchObject({ ok: true, status: 'online', identity: { certificate: 'CN=gw-test' } });
    expect(r.detail).toMatch(/^connected to mqtts:\/\/127\.0\.0\.1:\d+, TLS chain verified \(Gatehouse Test CA\)$/);
    // The test CA signs for 2 days: inside the 30-day warning.
    expect(r.warnings).toEqual([expect.stringMatching(/^the uplink client certificate expires in [01] day\(s\) .*: renew it$/)]);
  });

  it('a broker certificate from another CA is refused, naming uplink.caFile', async () => {
    const r = await probe({ caFile: otherCa });
    expect(r).toMatchObject({ ok: false, status: 'TLS REFUSED' });
    expect(r.detail).toMatch(/certificate not trusted/);
    expect(r.advice).toMatch(/set uplink\.caFile to the district CA/);
  });

  it('a wrong password is refused by the broker: the credentials are named', async () => {
    const r = await probe({}, { password: 'not-the-password' });
    expect(r).toMatchObject({ ok: false, status: 'OFFLINE' });
    expect(r.advice).toMatch(/refused the credentials: check uplink\.username, the secret in uplink\.passwordSecret/);
  });

  it('nothing listening is unreachable', async () => {
    const port = await freePort();
    const r = await probe({ url: `mqtts://127.0.0.1:${port}` });
    expect(r).toMatchObject({ ok: false, status: 'UNREACHABLE' });
    expect(r.advice).toMatch(new RegExp(`cannot reach mqtts://127\\.0\\.0\\.1:${port}`));
  });

  it('an expired client certificate fails before anything is sent', async () => {
    const clock = new ManualClock(Date.now() + 10 * 86_400_000);
    const r = await probe({}, { clock });
    expect(r).toMatchObject({ ok: false, status: 'CERT EXPIRED' });
    expect(r.advice).toMatch(/request and install a new certificate/);
  });

  it('through the daemon: its own connection state, with the reason it is down', async () => {
    const r = await probeUplink({
      config: UplinkConfig.parse({ url: 'mqtt://127.0.0.1:1' }),
      url: 'mqtt://127.0.0.1:1',
      secrets: secretsFrom({}),
      clientId: 'x',
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      timeoutMs: 1000,
      running: {
        connected: false,
        since: null,
        inflight: 0,
        lastAckAt: null,
        reconnects: 0,
        lastError: 'connect ECONNREFUSED 127.0.0.1:1',
        url: 'mqtt://127.0.0.1:1',
        attempts: 3,
        acked: 0,
      } as UplinkStatus,
    });
    expect(r).toMatchObject({ ok: false, status: 'OFFLINE' });
    expect(r.detail).toBe('the daemon is not connected to mqtt://127.0.0.1:1 after 3 attempt(s): connect ECONNREFUSED 127.0.0.1:1');
  });
});
