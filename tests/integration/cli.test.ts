import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, spawnCli } from '../helpers/cli.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { Platform } from '../helpers/platform.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { systemClock } from '../../gateway/core/clock.js';
import { ConfigStore, hashOf } from '../../gateway/remote-config/store.js';

describe('gatehouse CLI', () => {
  it('prints usage and exits 2 without a command, 0 with --help', () => {
    expect(runCli([]).status).toBe(2);
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    for (const cmd of ['demo', 'run --config', 'sim --config', 'check --config', 'discover'])
      expect(help.stdout).toContain(`gatehouse ${cmd}`);
  });

  it('exits 2 on unknown commands and options', () => {
    expect(runCli(['launch']).status).toBe(2);
    expect(runCli(['check', '--confg', 'x.yaml']).status).toBe(2);
    expect(runCli(['run']).stderr).toMatch(/--config FILE is required/);
  });

  it('check: valid file exits 0, broken file exits 2 naming file, line and key of every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    const good = runCli(['check', '--config', 'config/examples/maple-court.yaml']);
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/valid/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'compound:\n  id: OK NOT\ngateway:\n  id: gw\noutbox:\n  maxBytes: 12\n  colour: blue\n');
    const r = runCli(['check', '--config', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}:2 compound.id:`);
    expect(r.stderr).toContain(`${bad}:6 outbox.maxBytes:`);
    expect(r.stderr).toMatch(/outbox: unknown key "colour"/);
    expect(r.stderr).toMatch(/nothing was started/);
  });

  it('run: a broken configuration starts nothing and exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'compound: [\n');
    const r = runCli(['run', '--config', bad, '--data', join(dir, 'data')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad.yaml:\d+ .*YAML/);
  });

  it('check: the summary line counts the devices of every configured family, swap cabinets included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    writeFileSync(join(dir, 's.yaml'), 'devices:\n  flat-1: pw-flat-1-xyz\n', { mode: 0o600 });
    writeFileSync(
      join(dir, 'c.yaml'),
      [
        'compound: { id: c }',
        'gateway: { id: g }',
        'secretsFile: s.yaml',
        'locks:',
        '  - id: flat-1',
        'swapCabinets:',
        '  - { id: swap-a, slots: 12, bus: { tcp: { host: 127.0.0.1, port: 1505 } } }',
        '  - { id: swap-b, slots: 8, bus: { tcp: { host: 127.0.0.1, port: 1506 } } }',
        '',
      ].join('\n'),
    );
    const r = runCli(['check', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('valid — compound c, gateway g, 1 lock(s), 2 swap cabinet(s), uplink none');
  });

  it('check: says when the daemon runs a configuration the platform applied, not the seed it checked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    const seedText = 'compound: { id: c }\ngateway: { id: g }\n';
    const seed = join(dir, 'c.yaml');
    writeFileSync(seed, seedText);
    const data = join(dir, 'data');
    const plain = runCli(['check', '--config', seed, '--data', data]);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toBe('');
    // What config.apply leaves in the data directory once the change proved healthy.
    const store = new ConfigStore(data);
    const { state } = store.stage(
      { text: `${seedText}cameras: []\n`, version: 'v7', by: 'platform', at: Date.now(), online: [], seedHash: hashOf(seedText) },
      undefined,
    );
    store.confirm(state);
    const r = runCli(['check', '--config', seed, '--data', data]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${seed}: valid`);
    expect(r.stderr).toContain(
      `note: this checked the seed file ${seed}, but the daemon runs configuration v7 applied by the platform: ${store.fileOf(1)}; ` +
        `check that one with: gatehouse check --config ${store.fileOf(1)} --data ${data}`,
    );
    // The seed edited on site wins at the next start: then the seed is what runs, and nothing is said.
    writeFileSync(seed, `${seedText}# edited on site\n`);
    expect(runCli(['check', '--config', seed, '--data', data]).stderr).toBe('');
  });

  it('check: a lock without a password secret is a configuration error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    writeFileSync(join(dir, 'c.yaml'), 'compound: { id: c }\ngateway: { id: g }\nlocks:\n  - id: flat-1\n');
    const r = runCli(['check', '--config', join(dir, 'c.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/lock flat-1 has no password secret "devices.flat-1"/);
  });

  it('check --devices: after a planned stop a device is reported unknown (gateway stopped), not offline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    writeFileSync(join(dir, 's.yaml'), 'devices:\n  flat-1: pw-flat-1-xyz\n  flat-2: pw-flat-2-xyz\n');
    writeFileSync(
      join(dir, 'c.yaml'),
      'compound: { id: c }\ngateway: { id: g }\nsecretsFile: s.yaml\nlocks:\n  - id: flat-1\n  - id: flat-2\n',
    );
    const outbox = new Outbox({ file: join(dir, 'data', 'outbox.db'), clock: systemClock({ forceState: 'synced' }), config: {} });
    await outbox.setState('flat-1', {
      online: null,
      reason: 'gateway_stopped',
      locked: true,
      door: 'closed',
      battery: 80,
      tamper: false,
      lastSeen: null,
    });
    await outbox.setState('flat-2', { online: false, locked: null, door: 'unknown', battery: null, tamper: false, lastSeen: null });
    outbox.close();
    const r = runCli(['check', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data'), '--devices']);
    expect(r.stdout).toMatch(/lock flat-1\s+UNKNOWN \(gateway stopped\)/);
    expect(r.stdout).toMatch(/lock flat-2\s+OFFLINE/);
    expect(r.status).toBe(1);
  });

  it('check: a reader that must talk securely without a key is a configuration error; one without secure channel is a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    const readers =
      'osdpBuses: [{ id: bus, path: /dev/ttyUSB0 }]\nreaders:\n  - { id: r-1, bus: bus, address: 1 }\n  - { id: r-2, bus: bus, address: 2, secure: "off" }\n  - { id: r-3, bus: bus, address: 3, secure: install }\n';
    writeFileSync(join(dir, 'c.yaml'), `compound: { id: c }\ngateway: { id: g }\n${readers}`);
    const r = runCli(['check', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/reader r-1 needs a secure channel key: add "osdp.r-1"/);
    expect(r.stderr).toMatch(/warning: .*reader r-2 runs without secure channel/);
    expect(r.stderr).not.toMatch(/r-3/);
    writeFileSync(join(dir, 's.yaml'), 'osdp:\n  r-1: "00112233445566778899aabbccddeeff"\n', { mode: 0o600 });
    writeFileSync(join(dir, 'c.yaml'), `compound: { id: c }\ngateway: { id: g }\nsecretsFile: s.yaml\n${readers}`);
    const ok = runCli(['check', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data')]);
    expect(ok.stderr).not.toMatch(/needs a secure channel key/);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/0 door\(s\) with 3 reader\(s\)/);
  });

  it('check: cameras need their password secret, DC-09 keys must be AES-sized hex', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
    writeFileSync(join(dir, 's.yaml'), 'dc09:\n  b7: "abcd"\n', { mode: 0o600 });
    writeFileSync(
      join(dir, 'c.yaml'),
      'compound: { id: c }\ngateway: { id: g }\nsecretsFile: s.yaml\ncameras: [{ id: cam-1, host: 10.0.0.9, username: viewer }]\nperimeter: { dc09: { tcpPort: 9000 } }\nalarmPanels: [{ id: b7, account: "1234", keySecret: dc09.b7 }, { id: b8, account: "1235" }]\n',
    );
    const r = runCli(['check', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/camera cam-1 has no password secret "cameras.cam-1"/);
    expect(r.stderr).toMatch(/alarm panel b7: secret "dc09.b7" must be 32, 48 or 64 hex digits/);
    expect(r.stderr).toMatch(/warning: .*alarm panel b8 has no AES key/);
    // The receiver's default bind is loopback: an installer with panels is told to set the LAN address.
    expect(r.stderr).toMatch(/warning: .*perimeter.dc09 listens on 127.0.0.1 only .*set perimeter.dc09.host/);
    expect(r.stderr).not.toMatch(/abcd/);
  });

  it('demo: runs the simulated compound, prints events, stops cleanly', async () => {
    const child = spawnCli(['demo', '--duration', '8']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(err).not.toMatch(/error/i);
    expect(code).toBe(0);
    expect(out).toMatch(/mosquitto_sub -h 127\.0\.0\.1 -p \d+ -u watch -P '[A-Za-z0-9_-]{16}'/);
    expect(out).toMatch(/evt\/system\s+gateway\.started/);
    expect(out).toMatch(/evt\/(access|device)/);
    expect(out).toMatch(/state\/flat-1-101/);
    expect(out).toMatch(/evt\/charging\s+charging\.(session_started|meter)/);
    expect(out).toMatch(/cmd\/charging\.stop' -m '\{"id":"demo-2","args":\{"cabinet":"cab-a","port":1\}\}'/);
    // Every family's scenario came up: one device of each is heard by the gateway (a scenario
    // that forgot its secrets or its ports shows here as a device that never comes online).
    for (const [device, family] of [
      ['flat-1-101', 'lock'],
      ['cab-a', 'cabinet'],
      ['main-gate-in', 'reader'],
      ['wall-north', 'module'],
      ['panel-b7', 'panel'],
      ['cam-2', 'camera'],
      ['swap-a', 'cabinet'],
    ]) {
      expect(out, `${device} online`).toMatch(new RegExp(`evt/device\\s+device\\.online\\s+${device} \\{"family":"${family}"`));
    }
    // The swap cabinet's scripted rider: authorised as the platform would, a flat pack returned, a full one taken.
    expect(out).toMatch(/evt\/charging\s+swap\.started\s+swap-a/);
    expect(out).toMatch(/evt\/charging\s+swap\.completed\s+swap-a/);
    expect(out).toMatch(/evt\/device\s+panel\.test\s+panel-b7/);
    expect(out).toMatch(/evt\/alarm\s+partition\.armed\s+north \{"partition":"north","by":"demo"/);
    expect(out).toContain('demo stopped cleanly');
  });
  it('demo: honours GATEHOUSE_UPLINK_URL, forwarding the compound to that platform broker', async () => {
    const broker = await startMosquitto({ persistence: false });
    // Every compound the demo runs: the platform listens below gatehouse/v1 (media/{id} is JPEG, not JSON).
    const platform = await Platform.connect(broker.url, 'gatehouse/v1', { clientId: 'platform-demo', reconnectPeriod: 0 });
    const seen = () => platform.json();
    try {
      const child = spawnCli(['demo', '--duration', '6'], { GATEHOUSE_UPLINK_URL: broker.url });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(err).not.toMatch(/error/i);
      expect(code).toBe(0);
      expect(out).toContain(`forwarding to the platform at ${broker.url}`);
      // The feed is still printed (from the outbox), and it is on the platform broker.
      expect(out).toMatch(/evt\/system\s+gateway\.started/);
      expect(out).toMatch(/mosquitto_sub -h 127\.0\.0\.1 -p \d+ -t 'gatehouse\/v1\//);
      expect(seen().some((m) => /\/evt\/system$/.test(m.topic) && m.body.type === 'gateway.started')).toBe(true);
      expect(seen().some((m) => /\/evt\/(access|device|charging)$/.test(m.topic))).toBe(true);
      expect(seen().some((m) => m.topic.endsWith('/status') && m.body.state === 'online')).toBe(true);
    } finally {
      await platform.close();
      await broker.dispose();
    }
  }, 60_000);
});
