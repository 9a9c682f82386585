/**
 * The console's TLS material: the installer's PEM files, or a self-signed P-256 certificate
 * generated once with openssl and kept in the data dir (key 0600) so browsers that were
 * told to trust it keep trusting it across restarts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { GatehouseError } from '../errors.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  generated: boolean;
  certFile: string;
}

export const SELF_SIGNED_CERT = 'console-cert.pem';
export const SELF_SIGNED_KEY = 'console-key.pem';

export function loadTls(opts: { certFile?: string; keyFile?: string; dataDir: string; host: string; openssl?: string }): TlsMaterial {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new GatehouseError('CONFIG_INVALID', 'console.tls needs both certFile and keyFile (or neither, for a self-signed certificate)');
    try {
      return { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile), generated: false, certFile: opts.certFile };
    } catch (err) {
      throw new GatehouseError('CONFIG_UNREADABLE', `console TLS files cannot be read: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
  const certFile = join(opts.dataDir, SELF_SIGNED_CERT);
  const keyFile = join(opts.dataDir, SELF_SIGNED_KEY);
  let generated = false;
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    generate(certFile, keyFile, opts.host, opts.openssl ?? 'openssl');
    generated = true;
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), generated, certFile };
}

function subjectAltName(host: string): string {
  const names = new Set(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', `DNS:${hostname()}`]);
  if (host && host !== '0.0.0.0' && host !== '::') names.add(isIP(host) ? `IP:${host}` : `DNS:${host}`);
  return [...names].join(',');
}

function generate(certFile: string, keyFile: string, host: string, openssl: string): void {
  mkdirSync(join(certFile, '..'), { recursive: true });
  // Written under temporary names and renamed: a crash mid-way never leaves a half pair.
  const tmpCert = `${certFile}.tmp`;
  const tmpKey = `${keyFile}.tmp`;
  const r = spawnSync(
    openssl,
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '825', '-subj', '/CN=gatehouse', '-addext', `subjectAltName=${subjectAltName(host)}`, '-keyout', tmpKey, '-out', tmpCert],
    { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  if (missing) throw new GatehouseError('CONSOLE_OPENSSL_MISSING');
  if (r.status !== 0) {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
    throw new GatehouseError('INTERNAL', `openssl could not create the console certificate: ${(r.stderr || r.error?.message || '').trim().slice(0, 500)}`);
  }
  chmodSync(tmpKey, 0o600);
  renameSync(tmpKey, keyFile);
  renameSync(tmpCert, certFile);
}
