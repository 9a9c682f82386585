/**
 * The embedded broker's TLS listener (`broker.tls`), so cards and PINs pushed to smart
 * locks do not cross the compound LAN in clear.
 *
 * - Certificate: the installer's PEM pair, or a self-signed P-256 pair generated once with
 *   openssl in the data directory (key 0600) and kept, so locks that pinned it keep
 *   trusting it. `gatehouse check` prints its SHA-256 fingerprint for the lock vendor.
 * - Mutual TLS: with `caFile`, every TLS client must present a certificate that CA signed,
 *   and a device's certificate must name the device (CN = device id), so one lock's
 *   certificate cannot log in as another; the password is still required.
 * - A TLS handshake is held to the same deadline as a CONNECT (connection-guard.ts): the
 *   raw TCP socket is admitted as pending before the handshake starts.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { z } from 'zod';
import type { BrokerTlsConfig } from '../../config/broker-schema.js';
import { GatehouseError } from '../core/errors.js';

export const BROKER_CERT = 'broker-cert.pem';
export const BROKER_KEY = 'broker-key.pem';

export interface BrokerTlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** The CA that signs device certificates (mutual TLS), when configured. */
  ca: Buffer | undefined;
  certFile: string;
  generated: boolean;
  /** `AB:CD:…`, what a lock vendor pins. */
  fingerprint256: string;
}

type TlsConfig = z.infer<typeof BrokerTlsConfig>;

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new GatehouseError(
      'CONFIG_UNREADABLE',
      `broker.tls ${what} ${file} cannot be read: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
}

/** The certificate, key and CA to serve; generates the self-signed pair on first use. */
export function loadBrokerTls(tls: TlsConfig, opts: { dataDir: string | undefined; host: string; openssl?: string }): BrokerTlsMaterial {
  let certFile = tls.certFile;
  let keyFile = tls.keyFile;
  let generated = false;
  if (!certFile || !keyFile) {
    if (!opts.dataDir)
      throw new GatehouseError('INTERNAL', 'broker.tls without certFile/keyFile needs a data directory for the generated pair');
    certFile = join(opts.dataDir, BROKER_CERT);
    keyFile = join(opts.dataDir, BROKER_KEY);
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      generate(certFile, keyFile, opts.host, opts.openssl ?? 'openssl');
      generated = true;
    }
  }
  const cert = read(certFile, 'certFile');
  const key = read(keyFile, 'keyFile');
  let fingerprint256: string;
  try {
    fingerprint256 = new X509Certificate(cert).fingerprint256;
  } catch (err) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `broker.tls certFile ${certFile} is not a PEM certificate: ${(err as Error).message}`,
      { file: certFile },
      { cause: err },
    );
  }
  return { cert, key, ca: tls.caFile ? read(tls.caFile, 'caFile') : undefined, certFile, generated, fingerprint256 };
}

function subjectAltName(host: string): string {
  const names = new Set(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', `DNS:${hostname()}`]);
  if (host && host !== '0.0.0.0' && host !== '::') names.add(isIP(host) ? `IP:${host}` : `DNS:${host}`);
  return [...names].join(',');
}

function generate(certFile: string, keyFile: string, host: string, openssl: string): void {
  mkdirSync(join(certFile, '..'), { recursive: true, mode: 0o700 });
  // Temporary names, renamed at the end: a crash mid-way never leaves half a pair.
  const tmpCert = `${certFile}.tmp`;
  const tmpKey = `${keyFile}.tmp`;
  const r = spawnSync(
    openssl,
    [
      ...[
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '3650',
        '-subj',
        '/CN=gatehouse-broker',
      ],
      ...['-addext', `subjectAltName=${subjectAltName(host)}`, '-keyout', tmpKey, '-out', tmpCert],
    ],
    { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new GatehouseError(
      'INTERNAL',
      'openssl is not installed: the broker cannot generate its TLS certificate (install openssl, or set broker.tls certFile and keyFile)',
    );
  }
  if (r.status !== 0) {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
    throw new GatehouseError(
      'INTERNAL',
      `openssl could not create the broker certificate: ${(r.stderr || r.error?.message || '').trim().slice(0, 500)}`,
    );
  }
  chmodSync(tmpKey, 0o600);
  chmodSync(tmpCert, 0o600);
  renameSync(tmpKey, keyFile);
  renameSync(tmpCert, certFile);
}

/** The common name of a verified client certificate, or undefined. */
export function peerCommonName(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return Array.isArray(cn) ? undefined : cn;
}

/**
 * A TLS server whose raw sockets go through `admit` (false: already refused and destroyed)
 * before the handshake, and whose handshaken sockets go to `accept` with their raw socket.
 */
export function createTlsListener(
  material: BrokerTlsMaterial,
  handshakeTimeoutMs: number,
  admit: (raw: Socket) => boolean,
  accept: (socket: TLSSocket, raw: Socket | undefined) => void,
): Server {
  const raws = new Map<string, Socket>();
  const peer = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string => `${s.remoteAddress}|${s.remotePort}`;
  const server = createServer({
    cert: material.cert,
    key: material.key,
    minVersion: 'TLSv1.2',
    handshakeTimeout: handshakeTimeoutMs,
    ...(material.ca ? { ca: material.ca, requestCert: true, rejectUnauthorized: true } : {}),
  });
  server.on('connection', (raw: Socket) => {
    if (!admit(raw)) return;
    const key = peer(raw);
    raws.set(key, raw);
    raw.once('close', () => raws.get(key) === raw && raws.delete(key));
  });
  server.on('secureConnection', (socket: TLSSocket) => accept(socket, raws.get(peer(socket))));
  // A failed handshake (wrong CA, no client certificate, plain MQTT on the TLS port) closes that socket only.
  server.on('tlsClientError', () => undefined);
  return server;
}
