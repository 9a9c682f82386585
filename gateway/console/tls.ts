/**
 * The console's TLS material: the installer's PEM files, or a self-signed P-256 certificate
 * generated once with openssl and kept in the data dir (key 0600) so browsers that were
 * told to trust it keep trusting it across restarts. Both files are written durably with a
 * `.bak` copy (durable-file.ts); a pair found damaged at start is restored from the copies,
 * or, with none, generated anew (browsers then ask to trust the new certificate once).
 *
 * TLS 1.2 is limited to forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305);
 * CBC-SHA1, ARIA, CCM(8) and static-RSA suites are refused. TLS 1.3 keeps its defaults.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { GatehouseError } from '../core/errors.js';
import { readKeyFile, writeFileWithBackup } from '../durable-file.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  generated: boolean;
  certFile: string;
  /** Set when a damaged self-signed pair was restored from its backup or generated anew. */
  repaired?: string;
}

/** TLS 1.2 suites the console accepts (OpenSSL names); 1.3 suites are set apart by Node. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
export const TLS13_CIPHERS = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/** Options for `https.createServer`: 1.2 minimum, AEAD ECDHE suites only, server order. */
export function tlsServerOptions(tls: TlsMaterial): SecureContextOptions & { honorCipherOrder: boolean } {
  return { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', ciphers: `${TLS13_CIPHERS}:${TLS12_CIPHERS}`, honorCipherOrder: true };
}

const parseCert = (b: Buffer): Buffer => (new X509Certificate(b), b);
const parseKey = (b: Buffer): Buffer => (createPrivateKey(b), b);

export const SELF_SIGNED_CERT = 'console-cert.pem';
export const SELF_SIGNED_KEY = 'console-key.pem';

export function loadTls(opts: { certFile?: string; keyFile?: string; dataDir: string; host: string; openssl?: string }): TlsMaterial {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile)
      throw new GatehouseError('CONFIG_INVALID', 'console.tls needs both certFile and keyFile (or neither, for a self-signed certificate)');
    try {
      return { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile), generated: false, certFile: opts.certFile };
    } catch (err) {
      throw new GatehouseError('CONFIG_UNREADABLE', `console TLS files cannot be read: ${(err as Error).message}`, undefined, {
        cause: err,
      });
    }
  }
  const certFile = join(opts.dataDir, SELF_SIGNED_CERT);
  const keyFile = join(opts.dataDir, SELF_SIGNED_KEY);
  const cert = readKeyFile(certFile, parseCert);
  const key = readKeyFile(keyFile, parseKey);
  if (cert?.ok && key?.ok) {
    const repaired = [cert, key]
      .filter((r) => r.recovered)
      .map((r) => (r.recovered ? r.problem : ''))
      .join('; ');
    return { cert: cert.value, key: key.value, generated: false, certFile, ...(repaired ? { repaired } : {}) };
  }
  const problems = [cert, key].flatMap((r) => (r && !r.ok ? [r.problem] : []));
  generate(certFile, keyFile, opts.host, opts.openssl ?? 'openssl');
  const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile), generated: true, certFile };
  return problems.length ? { ...pair, repaired: `${problems.join('; ')}; a new self-signed pair was generated` } : pair;
}

function subjectAltName(host: string): string {
  const names = new Set(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', `DNS:${hostname()}`]);
  if (host && host !== '0.0.0.0' && host !== '::') names.add(isIP(host) ? `IP:${host}` : `DNS:${host}`);
  return [...names].join(',');
}

function generate(certFile: string, keyFile: string, host: string, openssl: string): void {
  mkdirSync(join(certFile, '..'), { recursive: true });
  // Written under temporary names and renamed: a crash mid-way never leaves a half pair.
  const tmpCert = `${certFile}.openssl-tmp`;
  const tmpKey = `${keyFile}.openssl-tmp`;
  const r = spawnSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '825',
      '-subj',
      '/CN=gatehouse',
      '-addext',
      `subjectAltName=${subjectAltName(host)}`,
      '-keyout',
      tmpKey,
      '-out',
      tmpCert,
    ],
    { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  if (missing) throw new GatehouseError('CONSOLE_OPENSSL_MISSING');
  if (r.status !== 0) {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
    throw new GatehouseError(
      'INTERNAL',
      `openssl could not create the console certificate: ${(r.stderr || r.error?.message || '').trim().slice(0, 500)}`,
    );
  }
  try {
    // openssl wrote without fsync: copy both durably (key first, so a cert never outlives its key).
    writeFileWithBackup(keyFile, readFileSync(tmpKey));
    writeFileWithBackup(certFile, readFileSync(tmpCert));
  } finally {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
  }
}
