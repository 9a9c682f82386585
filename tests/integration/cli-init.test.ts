/**
 * `gatehouse init` through the real CLI: the files it writes pass `gatehouse check`, the
 * secrets file is 0600 (0640 with --group) and holds exactly the secrets the families
 * declare, what to set on each device is printed, and nothing is overwritten without --force.
 * The dialogue is driven through a real pseudo-terminal (util-linux `script`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BIN, ROOT, runCli } from '../helpers/cli.js';
import { loadCompoundFile } from '../../config/load.js';
import { secretsOf } from '../../gateway/families/boot.js';
import { FAMILIES } from '../../gateway/families/registry.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tmp(): string {
  dir = mkdtempSync(join(tmpdir(), 'gh-init-'));
  return dir;
}

const ALL = 'locks:2,access:2,cameras,perimeter,dc09,cabinets,swap';

describe('gatehouse init (non-interactive)', () => {
  it('writes a compound file that check accepts and a 0600 secrets file with every declared secret', () => {
    const d = tmp();
    const out = join(d, 'maple.yaml');
    const r = runCli([
      'init',
      '--compound',
      'maple-court',
      '--gateway',
      'gw-1',
      '--timezone',
      'Asia/Shanghai',
      '--families',
      ALL,
      '--reader-keys',
      'generate',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const secretsPath = join(d, 'maple.secrets.yaml');
    expect(statSync(secretsPath).mode & 0o777).toBe(0o600);

    const check = runCli(['check', '--config', out, '--data', join(d, 'data')]);
    // Every family the file configures is counted, in the registry's order (swap cabinets too).
    expect(check.stdout).toContain(
      'valid — compound maple-court, gateway gw-1, 2 lock(s), 2 door(s) with 2 reader(s), 1 camera(s), ' +
        '1 input module(s) with 0 zone(s) in 0 partition(s), 1 alarm panel(s), 1 cabinet(s), 1 swap cabinet(s), uplink none',
    );
    expect(check.status).toBe(0);

    // Exactly the secrets the families declare for this file, each fresh and of the right shape.
    const loaded = loadCompoundFile(out);
    const refs = secretsOf(FAMILIES, loaded.config);
    expect(refs.map((s) => s.name).sort()).toEqual([
      'cameras.camera-1',
      'dc09.panel-1',
      'devices.lock-1',
      'devices.lock-2',
      'osdp.reader-1',
      'osdp.reader-2',
    ]);
    const flat = parseYaml(readFileSync(secretsPath, 'utf8')) as Record<string, Record<string, string>>;
    const names = Object.entries(flat).flatMap(([g, v]) => Object.keys(v).map((k) => `${g}.${k}`));
    expect(names.sort()).toEqual(refs.map((s) => s.name).sort());
    for (const ref of refs) {
      const value = loaded.secrets.get(ref.name)!;
      if (ref.kind === 'key') expect(value).toMatch(/^[0-9a-f]{32}$/);
      else expect(value).toMatch(/^[A-Za-z0-9_-]{24}$/);
      // What to set on the device itself is printed with the very value written.
      expect(r.stdout).toContain(value);
    }
    expect(new Set(refs.map((s) => loaded.secrets.get(s.name))).size).toBe(refs.length);
    expect(r.stdout).toMatch(/lock lock-1: MQTT broker 127\.0\.0\.1:1883, username lock-1, password /);
    expect(r.stdout).toMatch(/reader reader-2: OSDP address 2, 115200 baud on \/dev\/ttyUSB0; secure channel key \(SCBK\) [0-9a-f]{32}/);
    expect(r.stdout).toMatch(/alarm panel panel-1: report SIA DC-09 to 127\.0\.0\.1 port 9000 .*account 1001, AES key [0-9a-f]{32}/);
    expect(r.stdout).toMatch(/cabinet cabinet-1: Modbus unit id 2, 9600 baud 8N1 on \/dev\/ttyUSB1, 12 ports/);
    expect(r.stdout).toMatch(/input module module-1: Modbus unit id 1, 9600 baud 8N1/);
    // Swap cabinets on Modbus TCP: the charging cabinets' RS-485 line cannot carry them too.
    expect(r.stdout).toMatch(/swap cabinet swap-1: Modbus TCP server at 192\.0\.2\.40:502, unit id 1, 12 slots, register map v1\.1 kind 2/);
    expect(loaded.config.swapCabinets).toMatchObject([{ id: 'swap-1', bus: { tcp: { host: '192.0.2.40', port: 502 } }, slots: 12 }]);
    expect(r.stdout).toMatch(/Locks and alarm panels on the LAN cannot reach 127\.0\.0\.1: set broker\.host/);
    // The compound file itself holds no secret.
    const text = readFileSync(out, 'utf8');
    for (const ref of refs) expect(text).not.toContain(loaded.secrets.get(ref.name)!);
    expect(text).toMatch(/^# /m);
  });

  it('readers in install mode get no key (the gateway sets it); check accepts the file', () => {
    const d = tmp();
    const out = join(d, 'c.yaml');
    const r = runCli(['init', '--compound', 'c1', '--gateway', 'gw-1', '--families', 'access:3', '--out', out]);
    expect(r.status).toBe(0);
    expect(readFileSync(join(d, 'c.secrets.yaml'), 'utf8')).not.toMatch(/osdp/);
    expect(r.stdout).toMatch(/reader reader-3: OSDP address 3, .*leave it in install mode/);
    expect(runCli(['check', '--config', out, '--data', join(d, 'data')]).status).toBe(0);
  });

  it('refuses to overwrite without --force, and replaces both files with it', () => {
    const d = tmp();
    const out = join(d, 'c.yaml');
    const args = ['init', '--compound', 'c1', '--gateway', 'gw-1', '--families', 'locks', '--out', out];
    expect(runCli(args).status).toBe(0);
    const before = readFileSync(join(d, 'c.secrets.yaml'), 'utf8');
    const again = runCli(args);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exist.*nothing was written.*--force/);
    expect(readFileSync(join(d, 'c.secrets.yaml'), 'utf8')).toBe(before);
    // Only the secrets file left (the compound file deleted): still refused.
    rmSync(out);
    expect(runCli(args).status).toBe(1);
    expect(existsSync(out)).toBe(false);
    const forced = runCli([...args, '--force']);
    expect(forced.status).toBe(0);
    expect(readFileSync(join(d, 'c.secrets.yaml'), 'utf8')).not.toBe(before);
    expect(statSync(join(d, 'c.secrets.yaml')).mode & 0o777).toBe(0o600);
  });

  it('takes an answers file (devices by id, the uplink) and gives the secrets file to the service group with --group', () => {
    const d = tmp();
    const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim();
    const gid = Number(spawnSync('id', ['-g'], { encoding: 'utf8' }).stdout.trim());
    writeFileSync(
      join(d, 'answers.yaml'),
      [
        'compound: birch-row',
        'compoundName: Birch Row',
        'gateway: gw-2',
        'timezone: Europe/Berlin',
        'uplink: mqtts://platform.example:8883',
        'uplinkPassword: from-the-platform-0123',
        'lan: 192.168.50.1',
        'families:',
        '  locks: [b1-flat-101, { id: b1-flat-102, name: "Flat 102" }]',
        '  cameras: [{ id: gate-cam, host: 192.168.50.20 }]',
        '',
      ].join('\n'),
    );
    const out = join(d, 'birch.yaml');
    const r = runCli(['init', '--answers', join(d, 'answers.yaml'), '--out', out, '--group', group]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const st = statSync(join(d, 'birch.secrets.yaml'));
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.gid).toBe(gid);
    const loaded = loadCompoundFile(out);
    expect(loaded.config.uplink).toMatchObject({
      url: 'mqtts://platform.example:8883',
      username: 'birch-row-gw-2',
      passwordSecret: 'uplink.password',
    });
    expect(loaded.secrets.get('uplink.password')).toBe('from-the-platform-0123');
    expect(loaded.config.broker.host).toBe('192.168.50.1');
    expect(loaded.config.locks.map((l) => l.id)).toEqual(['b1-flat-101', 'b1-flat-102']);
    expect(loaded.config.cameras[0]).toMatchObject({ id: 'gate-cam', host: '192.168.50.20' });
    expect(r.stdout).toMatch(/lock b1-flat-102: MQTT broker 192\.168\.50\.1:1883/);
    expect(r.stdout).not.toMatch(/cannot reach/);
    const check = runCli(['check', '--config', out, '--data', join(d, 'data')]);
    expect(check.status).toBe(0);
  });

  it('takes a JSON answers file too, flags overriding it', () => {
    const d = tmp();
    const answers = {
      compound: 'elm-court',
      gateway: 'gw-9',
      families: { dc09: 2, cabinets: [{ id: 'bike-room', ports: 8, address: 5 }] },
    };
    writeFileSync(join(d, 'answers.json'), JSON.stringify(answers));
    const out = join(d, 'elm.yaml');
    const r = runCli(['init', '--answers', join(d, 'answers.json'), '--gateway', 'gw-3', '--lan', '10.0.0.2', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const loaded = loadCompoundFile(out);
    expect(loaded.config.gateway.id).toBe('gw-3');
    expect(loaded.config.alarmPanels.map((p) => [p.id, p.account, p.keySecret])).toEqual([
      ['panel-1', '1001', 'dc09.panel-1'],
      ['panel-2', '1002', 'dc09.panel-2'],
    ]);
    expect(loaded.config.perimeter.dc09).toMatchObject({ host: '10.0.0.2', tcpPort: 9000 });
    expect(loaded.config.cabinets[0]).toMatchObject({ id: 'bike-room', unitId: 5, ports: 8 });
    expect(loaded.secrets.get('dc09.panel-2')).toMatch(/^[0-9a-f]{32}$/);
    expect(runCli(['check', '--config', out, '--data', join(d, 'data')]).status).toBe(0);
  });

  it('swap cabinets from an answers file: address, unit id and slot count as given, next to charging cabinets on RS-485', () => {
    const d = tmp();
    const answers = {
      compound: 'oak-court',
      gateway: 'gw-2',
      families: {
        cabinets: 1,
        swap: [{ id: 'swap-gate', name: 'Swap point, gate', host: '10.0.7.21', address: 3, ports: 24 }, 'swap-yard'],
      },
    };
    writeFileSync(join(d, 'answers.json'), JSON.stringify(answers));
    const out = join(d, 'oak.yaml');
    const r = runCli(['init', '--answers', join(d, 'answers.json'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const loaded = loadCompoundFile(out);
    expect(loaded.config.swapCabinets.map((c) => [c.id, c.name, c.bus, c.unitId, c.slots])).toEqual([
      ['swap-gate', 'Swap point, gate', { tcp: { host: '10.0.7.21', port: 502 } }, 3, 24],
      ['swap-yard', undefined, { tcp: { host: '192.0.2.41', port: 502 } }, 1, 12],
    ]);
    expect(r.stdout).toMatch(/swap cabinet swap-gate: Modbus TCP server at 10\.0\.7\.21:502, unit id 3, 24 slots/);
    expect(readFileSync(out, 'utf8')).toMatch(/^# .*packIdPrefixes/m);
    const check = runCli(['check', '--config', out, '--data', join(d, 'data')]);
    expect(check.stderr).not.toMatch(/swapCabinets/);
    expect(check.status).toBe(0);
  });

  it('without a terminal, says which answers are missing (exit 2) and writes nothing', () => {
    const d = tmp();
    const r = runCli(['init', '--compound', 'c1', '--out', join(d, 'c.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not on a terminal.*--gateway, --families/);
    expect(existsSync(join(d, 'c.yaml'))).toBe(false);
    const bad = runCli(['init', '--compound', 'c1', '--gateway', 'gw-1', '--families', 'locks,teleporters', '--out', join(d, 'c.yaml')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown family teleporters/);
    const nowhere = runCli([
      'init',
      '--compound',
      'c1',
      '--gateway',
      'gw-1',
      '--families',
      'locks',
      '--out',
      join(d, 'no-such-dir', 'c.yaml'),
    ]);
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toMatch(/^gatehouse init: cannot write .*no-such-dir.*\(ENOENT\): does its directory exist/);
    expect(nowhere.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('gatehouse init (dialogue on a terminal)', () => {
  it('asks what is missing and writes files check accepts', () => {
    const d = tmp();
    const out = join(d, 'oak.yaml');
    if (!existsSync('/usr/bin/script'))
      throw new Error('util-linux `script` is missing: it gives the dialogue test a real pseudo-terminal');
    // compound id (a wrong one first, asked again), name, gateway (default), time zone, uplink (none),
    // families (an unknown one first), LAN (default), OSDP line (default)
    const answers = 'Oak Yard\noak-yard\nOak Yard\n\nEurope/Berlin\n\nteleporters\nlocks:1,access:1\n\n\n';
    const r = spawnSync('/usr/bin/script', ['-qec', `${process.execPath} ${BIN} init --out ${out}`, '/dev/null'], {
      cwd: ROOT,
      input: answers,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stdout).toMatch(/Compound id/);
    expect(r.stdout).toMatch(/Gateway id of this box \[gw-1\]/);
    expect(r.stdout).toMatch(/must be 1-64 characters of a-z.*; again:/);
    expect(r.stdout).toMatch(/unknown: teleporters; again:/);
    expect(r.status).toBe(0);
    const loaded = loadCompoundFile(out);
    expect(loaded.config.compound).toEqual({ id: 'oak-yard', name: 'Oak Yard' });
    expect(loaded.config.gateway.id).toBe('gw-1');
    expect(loaded.config.access.timezone).toBe('Europe/Berlin');
    expect(loaded.config.locks.map((l) => l.id)).toEqual(['lock-1']);
    expect(statSync(join(d, 'oak.secrets.yaml')).mode & 0o777).toBe(0o600);
    expect(runCli(['check', '--config', out, '--data', join(d, 'data')]).status).toBe(0);
  });
});
