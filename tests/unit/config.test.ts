import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, requireBuild } from '../helpers/cli.js';
import { ConfigError, loadCompoundFile, parseCompound } from '../../config/load.js';

const minimal = `compound:\n  id: maple-court\ngateway:\n  id: gw-1\n`;

function problemsOf(text: string) {
  try {
    parseCompound(text, 'compound.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('compound file', () => {
  it('fills safe defaults from the schema', () => {
    const cfg = parseCompound(minimal, 'c.yaml');
    expect(cfg.broker.host).toBe('127.0.0.1');
    expect(cfg.outbox.classes.alarm.ttlDays).toBe(0);
    expect(cfg.outbox.classes.device.evictRank).toBeLessThan(cfg.outbox.classes.access.evictRank);
    expect(cfg.uplink).toBeUndefined();
    expect(cfg.locks).toEqual([]);
  });

  it('reports every problem at once with file, line and key path', () => {
    const text = [
      'compound:',
      '  id: Maple Court', // line 2: bad id
      'gateway:',
      '  id: gw-1',
      'uplink:',
      '  url: http://platform', // line 6: bad scheme
      '  inflightWindow: -3', // line 7
      'locks:',
      '  - id: flat-1',
      '  - id: flat-1', // line 10: duplicate
      '    colour: red', // line 11: unknown key
    ].join('\n');
    const problems = problemsOf(text);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(byPath['compound.id']?.line).toBe(2);
    expect(byPath['uplink.url']?.line).toBe(6);
    expect(byPath['uplink.inflightWindow']?.line).toBe(7);
    expect(byPath['locks[1].id']?.message).toMatch(/duplicate device id "flat-1"/);
    expect(byPath['locks[1].id']?.line).toBe(10);
    const unknown = problems.find((p) => p.message.includes('"colour"'));
    expect(unknown?.path).toBe('locks[1]');
    expect(problems.every((p) => p.file === 'compound.yaml')).toBe(true);
  });

  it('names a missing required key at its parent line', () => {
    const problems = problemsOf('compound:\n  name: x\ngateway:\n  id: gw\n');
    expect(problems).toEqual([expect.objectContaining({ path: 'compound.id', line: 1, message: 'required key is missing' })]);
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf('compound:\n  id: a\n gateway: [\n');
    expect(problems[0]?.message).toMatch(/^YAML:/);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('refuses duplicate keys instead of silently taking the last one', () => {
    expect(problemsOf(`${minimal}gateway:\n  id: gw-2\n`)[0]?.message).toMatch(/YAML/);
  });

  it('loads secrets from a second file and warns when it is readable by others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cfg-'));
    writeFileSync(join(dir, 'c.yaml'), `${minimal}secretsFile: s.yaml\n`);
    writeFileSync(join(dir, 's.yaml'), 'uplink:\n  password: hunter2-long\ndevices:\n  flat-1: abc\n');
    chmodSync(join(dir, 's.yaml'), 0o644);
    const loaded = loadCompoundFile(join(dir, 'c.yaml'));
    expect(loaded.secrets.get('uplink.password')).toBe('hunter2-long');
    expect(loaded.secrets.get('devices.flat-1')).toBe('abc');
    const f = join(dir, 's.yaml');
    expect(loaded.warnings).toEqual([
      `${f}: secrets file is readable by others (mode 0644); for the systemd service run: sudo chown root:gatehouse ${f} && ` +
        `sudo chmod 640 ${f}; when the daemon runs as the file's owner, chmod 600 ${f} is enough`,
    ]);
    chmodSync(join(dir, 's.yaml'), 0o600);
    expect(loadCompoundFile(join(dir, 'c.yaml')).warnings).toEqual([]);
  });

  it('accepts the service layout, 0640 owned by root, and warns for group-readable files not owned by root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cfg-'));
    const secrets = join(dir, 's.yaml');
    writeFileSync(join(dir, 'c.yaml'), `${minimal}secretsFile: s.yaml\n`);
    writeFileSync(secrets, 'uplink:\n  password: hunter2-long\n');
    chmodSync(secrets, 0o640);
    // The tests run as root in CI: the file is root's, as install.sh leaves it.
    chownSync(secrets, 0, 65534);
    expect(loadCompoundFile(join(dir, 'c.yaml')).warnings).toEqual([]);
    chownSync(secrets, 65534, 65534);
    const warning = loadCompoundFile(join(dir, 'c.yaml')).warnings.join();
    expect(warning).toMatch(
      /readable by its group while not owned by root \(mode 0640\); for the systemd service run: sudo chown root:gatehouse/,
    );
    chmodSync(secrets, 0o660);
    expect(loadCompoundFile(join(dir, 'c.yaml')).warnings.join()).toMatch(/readable by its group with more than read \(mode 0660\)/);
  });

  it('says what to run when the daemon user cannot read the secrets file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cfg-'));
    const secrets = join(dir, 's.yaml');
    writeFileSync(join(dir, 'c.yaml'), `${minimal}secretsFile: s.yaml\n`);
    writeFileSync(secrets, 'uplink:\n  password: hunter2-long\n');
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'c.yaml'), 0o644);
    chmodSync(secrets, 0o600);
    // As the service user would see a root-owned 0600 file: a child process running as nobody.
    requireBuild();
    const load = `import('${pathToFileURL(join(ROOT, 'dist/config/load.js')).href}')`;
    const script = `${load}.then((m) => { try { m.loadCompoundFile('${join(dir, 'c.yaml')}'); } catch (e) { console.log(e.message); } })`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    expect(r.stdout).toMatch(
      /cannot read the secrets file \(EACCES\): the user running gatehouse cannot read it; for the systemd service run: sudo chown root:gatehouse .*s\.yaml && sudo chmod 640/,
    );
  });

  it('never echoes a secret when the secrets file is broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cfg-'));
    writeFileSync(join(dir, 'c.yaml'), `${minimal}secretsFile: s.yaml\n`);
    writeFileSync(join(dir, 's.yaml'), 'uplink: { password: "s3cr3t-value\n');
    chmodSync(join(dir, 's.yaml'), 0o600);
    let message = '';
    try {
      loadCompoundFile(join(dir, 'c.yaml'));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not valid YAML/);
    expect(message).not.toContain('s3cr3t');
  });

  it('says which file cannot be read', () => {
    expect(() => loadCompoundFile('/nonexistent/compound.yaml')).toThrow(/\/nonexistent\/compound.yaml: cannot read/);
  });

  it('checks access.timezone against ICU, but not the default UTC (ICU data costs the daemon ~5 MB of RSS)', () => {
    const real = Intl.DateTimeFormat;
    let built = 0;
    Intl.DateTimeFormat = new Proxy(real, {
      construct(target, args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
        built++;
        return new target(...args);
      },
    });
    try {
      expect(parseCompound(minimal, 'c.yaml').access.timezone).toBe('UTC');
      expect(built).toBe(0);
      expect(parseCompound(`${minimal}access:\n  timezone: Asia/Shanghai\n`, 'c.yaml').access.timezone).toBe('Asia/Shanghai');
      expect(built).toBe(1);
      const problems = problemsOf(`${minimal}access:\n  timezone: Mars/Olympus_Mons\n`);
      expect(problems.map((p) => [p.path, p.message])).toEqual([['access.timezone', 'must be an IANA time zone such as Asia/Shanghai']]);
    } finally {
      Intl.DateTimeFormat = real;
    }
  });

  it('accepts the shipped example and demo compounds', () => {
    for (const f of ['config/demo.yaml', 'config/examples/maple-court.yaml']) {
      const loaded = loadCompoundFile(f);
      expect(loaded.config.compound.id).toMatch(/^[a-z]/);
    }
  });
});
