/**
 * Files the gateway writes outside SQLite survive a power cut old or new, never empty
 * (issue 11.2): the helper's call order (fsync before rename, directory fsync after), a
 * simulated power cut on real files that drops whatever was not fsync'd, damaged key files
 * restored from their `.bak` copy, and the console's key pair repaired at start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretsFrom } from '../../config/load.js';
import { loadOrCreateHashKey, ReaderKeyStore } from '../../gateway/access/keys.js';
import { readKeyFile, writeFileDurable, writeFileWithBackup } from '../../gateway/durable-file.js';
import { loadTls } from '../../gateway/console/tls.js';
import { PowerCutFs } from '../helpers/power-cut-fs.js';

let dir: string;
const fresh = () => (dir = mkdtempSync(join(tmpdir(), 'gh-durable-')));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileDurable', () => {
  it('fsyncs the data before the rename and the directory after it', () => {
    fresh();
    const fs = new PowerCutFs(dir);
    writeFileDurable(join(dir, 'a.key'), 'new', { fs });
    const d = dir.split('/').pop();
    const data = ['open a.key.tmp', 'write a.key.tmp', 'fsync a.key.tmp', 'close a.key.tmp'];
    expect(fs.calls).toEqual([...data, 'rename a.key.tmp a.key', `open ${d}`, `fsync ${d}`, `close ${d}`]);
    expect(readFileSync(join(dir, 'a.key'), 'utf8')).toBe('new');
    expect(statSync(join(dir, 'a.key')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'a.key.tmp'))).toBe(false);
  });

  it('the power-cut layer does lose a write made without fsync (the bug it guards against)', () => {
    fresh();
    const fs = new PowerCutFs(dir);
    // What keys.ts did before: temp file + rename, no fsync.
    writeFileSync(join(dir, 'access.key.tmp'), Buffer.alloc(32, 7));
    renameSync(join(dir, 'access.key.tmp'), join(dir, 'access.key'));
    fs.cut();
    expect(readFileSync(join(dir, 'access.key')).length).toBe(0);
  });

  it('a power cut at any step leaves the old or the new content, never an empty file', () => {
    // open tmp, write, fsync, close, rename, open dir, fsync dir, close dir: die before each, then cut the power.
    for (let stop = 0; stop <= 8; stop++) {
      fresh();
      writeFileSync(join(dir, 'f'), 'old');
      const layer = new PowerCutFs(dir);
      let n = 0;
      const dying = new Proxy(layer, {
        get(target, prop, recv) {
          const v = Reflect.get(target, prop, recv) as unknown;
          if (typeof v !== 'function' || prop === 'cut') return v;
          return (...a: unknown[]) => {
            if (prop !== 'rmSync' && prop !== 'fchmodSync' && n++ === stop) throw new Error('power cut');
            return (v as (...x: unknown[]) => unknown).apply(target, a);
          };
        },
      });
      let died = false;
      try {
        writeFileDurable(join(dir, 'f'), 'new', { fs: dying });
      } catch {
        died = true;
      }
      expect(died, `step ${stop}`).toBe(stop < 8);
      layer.cut();
      const after = readFileSync(join(dir, 'f'), 'utf8');
      expect(['old', 'new'], `cut before step ${stop}`).toContain(after);
      if (stop >= 7) expect(after, 'after the directory fsync the new content is durable').toBe('new');
      rmSync(dir, { recursive: true, force: true });
    }
    fresh();
  });
});

describe('key files across power cuts', () => {
  it('access.key and osdp-keys.json written right after first start survive a power cut', () => {
    fresh();
    const fs = new PowerCutFs(dir);
    const key = loadOrCreateHashKey(dir, { fs });
    const store = new ReaderKeyStore(dir, secretsFrom({}), { fs });
    store.remember('gate-1', Buffer.alloc(16, 0xab));
    fs.cut();
    expect(loadOrCreateHashKey(dir).equals(key)).toBe(true);
    expect(new ReaderKeyStore(dir, secretsFrom({})).isInstalled('gate-1')).toBe(true);
    for (const f of ['access.key', 'access.key.bak', 'osdp-keys.json', 'osdp-keys.json.bak'])
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
  });

  it('a damaged access.key is restored from its backup and reported; without a backup it is refused with what to do', () => {
    fresh();
    const key = loadOrCreateHashKey(dir);
    writeFileSync(join(dir, 'access.key'), '');
    const told: string[] = [];
    expect(loadOrCreateHashKey(dir, { onRecovered: (m) => told.push(m) }).equals(key)).toBe(true);
    expect(told).toEqual([expect.stringMatching(/access\.key is damaged: 0 bytes, expected 32; restored from .*access\.key\.bak/)]);
    expect(readFileSync(join(dir, 'access.key')).equals(key)).toBe(true);
    writeFileSync(join(dir, 'access.key'), 'short');
    rmSync(join(dir, 'access.key.bak'));
    expect(() => loadOrCreateHashKey(dir)).toThrow(
      /access\.key is damaged: 5 bytes, expected 32; no usable backup .*: restore .* from a backup of the box/,
    );
  });

  it('a key file from before backups existed gets its backup on the next start; check mode writes nothing', () => {
    fresh();
    writeFileSync(join(dir, 'osdp-keys.json'), JSON.stringify({ r1: 'ab'.repeat(16) }));
    new ReaderKeyStore(dir, secretsFrom({}), { readOnly: true });
    expect(existsSync(join(dir, 'osdp-keys.json.bak'))).toBe(false);
    new ReaderKeyStore(dir, secretsFrom({}));
    expect(JSON.parse(readFileSync(join(dir, 'osdp-keys.json.bak'), 'utf8'))).toEqual({ r1: 'ab'.repeat(16) });
    writeFileSync(join(dir, 'osdp-keys.json'), '{"r1": "ab');
    expect(new ReaderKeyStore(dir, secretsFrom({})).isInstalled('r1')).toBe(true);
  });

  it('readKeyFile: missing file and missing backup means "create it"', () => {
    fresh();
    expect(readKeyFile(join(dir, 'none'), (b) => b)).toBeUndefined();
    writeFileWithBackup(join(dir, 'k'), 'v');
    rmSync(join(dir, 'k'));
    expect(readKeyFile(join(dir, 'k'), (b) => b.toString())).toMatchObject({ ok: true, value: 'v', recovered: true });
  });
});

describe('console key pair', () => {
  it('is written with backups; a damaged key is restored, a damaged pair without backups is generated anew', () => {
    fresh();
    const first = loadTls({ dataDir: dir, host: '127.0.0.1' });
    expect(first.generated).toBe(true);
    for (const f of ['console-key.pem', 'console-key.pem.bak', 'console-cert.pem', 'console-cert.pem.bak']) {
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    }
    writeFileSync(join(dir, 'console-key.pem'), '');
    const again = loadTls({ dataDir: dir, host: '127.0.0.1' });
    expect([again.generated, again.cert.equals(first.cert), again.key.equals(first.key)]).toEqual([false, true, true]);
    expect(again.repaired).toMatch(/console-key\.pem is damaged.*restored from/);
    for (const f of ['console-key.pem', 'console-key.pem.bak']) writeFileSync(join(dir, f), '');
    const regenerated = loadTls({ dataDir: dir, host: '127.0.0.1' });
    expect(regenerated.generated).toBe(true);
    expect(regenerated.cert.equals(first.cert)).toBe(false);
    expect(regenerated.repaired).toMatch(/a new self-signed pair was generated/);
  });
});
