/**
 * The uplink certificate's expiry (issue 15.5) on an injected clock, with real certificates
 * made by openssl: state/gateway at start, a `system` event 30 days before, the alarm at 7
 * days (critical once expired), cleared when a renewed certificate is installed; and the
 * validity dates `gatehouse cert install` refuses.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { CertificateExpiry } from '../../gateway/uplink/cert-expiry.js';
import { checkCertificate, identityPaths } from '../../gateway/uplink/box-identity.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'gh-cert-expiry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl is needed for this test and could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '900', '-subj', '/CN=district-ca']);
writeFileSync(join(dir, 'box.cnf'), '[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nO = Gatehouse\nOU = mc\nCN = mc/gw-1\n');
openssl(['req', ...EC, '-keyout', 'box.key', '-out', 'box.csr', '-config', 'box.cnf']);

/** A certificate for box.key valid `days` from now. */
function boxCert(name: string, days: number): string {
  openssl(['x509', '-req', '-in', 'box.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', name, '-days', String(days)]);
  return join(dir, name);
}

function rig(certFile: string) {
  const clock = new ManualClock(Date.now());
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const states: Record<string, unknown>[] = [];
  const alarms = new FakeAlarmSink();
  const watch = new CertificateExpiry({
    certFile,
    outbox: {
      record: (e) => {
        events.push({ type: e.type, data: e.data });
        return Promise.resolve({} as never);
      },
      setState: (device, s) => {
        expect(device).toBe('gateway');
        states.push(s);
        return Promise.resolve();
      },
    },
    alarms,
    clock,
    timers: clock,
    log: silentLogger(),
  });
  return { clock, events, states, alarms, watch };
}

describe('uplink certificate expiry', () => {
  it('reports in state/gateway, warns 30 days before, raises the alarm at 7 days, escalates at expiry, clears on renewal', () => {
    const installed = join(dir, 'installed.crt');
    copyFileSync(boxCert('forty.crt', 40), installed);
    const { clock, events, states, alarms, watch } = rig(installed);
    watch.start();
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ certificate: { file: installed, subject: 'O=Gatehouse, OU=mc, CN=mc/gw-1', stage: 'ok' } });
    expect(events).toEqual([]);
    expect(alarms.raises()).toEqual([]);
    expect(watch.secondsLeft()).toBeGreaterThan(39 * 86_400);

    clock.advance(9 * DAY); // 31 days left: still ok
    expect(events).toEqual([]);
    clock.advance(2 * DAY); // 29 days left (seen by the hourly check as it crossed 30)
    expect(events.map((e) => `${e.type} ${String(e.data.stage)} ${String(e.data.daysLeft)}`)).toEqual([
      'uplink.certificate_expiring soon 29',
    ]);
    expect(alarms.raises()).toEqual([]);
    expect(states.at(-1)).toMatchObject({ certificate: { stage: 'soon' } });

    clock.advance(20 * DAY); // 9 days left: no second event, no alarm
    expect(events).toHaveLength(1);
    expect(alarms.raises()).toEqual([]);
    clock.advance(3 * DAY); // 6 days left
    expect(events.at(-1)?.data.stage).toBe('alarm');
    expect(alarms.raises('uplink.certificate_expiring', 'gateway').map((c) => c.priority)).toEqual(['high']);

    clock.advance(7 * DAY); // expired
    expect(events.at(-1)?.data.stage).toBe('expired');
    expect(alarms.raises('uplink.certificate_expiring').map((c) => c.priority)).toEqual(['high', 'critical']);
    expect(watch.secondsLeft()).toBeLessThan(0);

    // The renewed certificate, installed while the daemon runs: read again within the hour.
    copyFileSync(boxCert('renewed.crt', 400), installed);
    clock.advance(3600_000);
    expect(alarms.isActive('uplink.certificate_expiring', 'gateway')).toBe(false);
    expect(alarms.log().at(-1)).toBe('clear uplink.certificate_expiring gateway');
    expect(states.at(-1)).toMatchObject({ certificate: { stage: 'ok' } });
    watch.stop();
  });

  it('says certificate: null when the certificate file cannot be read', () => {
    const { states, watch } = rig(join(dir, 'missing.crt'));
    watch.start();
    expect(states).toEqual([{ certificate: null }]);
    watch.stop();
  });

  it('cert install refuses a certificate outside its validity dates (by the box clock)', () => {
    const data = join(dir, 'data');
    mkdirSync(join(data, 'uplink'), { recursive: true });
    const paths = identityPaths(undefined, data);
    copyFileSync(join(dir, 'box.key'), paths.keyFile);
    const pem = readFileSync(boxCert('ten.crt', 10), 'utf8');
    const input = {
      file: 'ten.crt',
      ids: { compound: 'mc', gateway: 'gw-1' },
      paths,
      caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      caFile: 'ca.crt',
    };
    expect(checkCertificate(pem, { ...input, now: Date.now() })).toMatchObject({
      key: 'current',
      subject: 'O=Gatehouse, OU=mc, CN=mc/gw-1',
    });
    expect(() => checkCertificate(pem, { ...input, now: Date.now() + 11 * DAY })).toThrow(/ten\.crt expired on /);
    expect(() => checkCertificate(pem, { ...input, now: Date.now() - DAY })).toThrow(/ten\.crt is valid only from .*check its time/);
  });
});
