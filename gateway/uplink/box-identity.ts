/**
 * The box's own identity towards the district broker (issue 15.5): a private key made on the
 * box and never copied off it, a CSR naming the compound and the gateway, and the checks a
 * signed certificate must pass before it replaces the one the uplink uses.
 *
 * Subject: `O=Gatehouse, OU={compound}, CN={compound}/{gateway}`. The CN is exactly the part
 * of the topic root after `gatehouse/v1/`, so a Mosquitto with `use_identity_as_username`
 * and `pattern write gatehouse/v1/%u/#` lets a box publish under its own root and nowhere
 * else (docs/DISTRICT-BROKER.md).
 *
 * A renewal never breaks the running uplink: `request` writes the new key beside the current
 * one (`{key}.pending`); `install` checks the certificate against the pending key (or the
 * current one, for a re-install) and only then moves key and certificate into place, each by
 * an atomic rename.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { UplinkConfig } from '../../config/schema.js';
import { GatehouseError } from '../core/errors.js';
import { fsyncDir, writeFileDurable } from '../durable-file.js';

const run = promisify(execFile);

export interface IdentityPaths {
  keyFile: string;
  certFile: string;
  /** The CSR of the last request, for the installer to send to the district's CA. */
  csrFile: string;
  /** The key made by the last request, waiting for its certificate. */
  pendingKeyFile: string;
}

/**
 * Where the box's key and certificate live: `uplink.keyFile`/`uplink.certFile` when the
 * compound file names them, else `{data}/uplink/box.key` and `{data}/uplink/box.crt`.
 */
export function identityPaths(uplink: Pick<UplinkConfig, 'keyFile' | 'certFile'> | undefined, dataDir: string): IdentityPaths {
  const keyFile = uplink?.keyFile ?? join(dataDir, 'uplink', 'box.key');
  const certFile = uplink?.certFile ?? join(dataDir, 'uplink', 'box.crt');
  return { keyFile, certFile, csrFile: join(dirname(keyFile), 'box.csr'), pendingKeyFile: `${keyFile}.pending` };
}

/** The certificate's CN for a box: the topic root without its `gatehouse/v1/` prefix. */
export function boxCommonName(compound: string, gateway: string): string {
  return `${compound}/${gateway}`;
}

function refuse(message: string, details: Record<string, unknown> = {}): GatehouseError {
  return new GatehouseError('CERT_INVALID', message, details);
}

export interface RequestResult {
  keyFile: string;
  csrFile: string;
  csr: string;
  subject: string;
}

/**
 * Makes a new EC P-256 key (0600, `{key}.pending`) and a CSR for it with openssl. The key is
 * created under umask 077 by openssl and chmod'ed again; it never passes through our memory
 * as a string we might log.
 */
export async function requestCertificate(
  ids: { compound: string; gateway: string },
  paths: IdentityPaths,
  opts: { openssl?: string } = {},
): Promise<RequestResult> {
  const openssl = opts.openssl ?? 'openssl';
  mkdirSync(dirname(paths.pendingKeyFile), { recursive: true, mode: 0o700 });
  const cn = boxCommonName(ids.compound, ids.gateway);
  // A config file instead of -subj: the CN holds a '/', which -subj would read as a separator.
  const confDir = join(tmpdir(), `gh-csr-${process.pid}-${Date.now()}`);
  mkdirSync(confDir, { mode: 0o700 });
  const conf = join(confDir, 'csr.cnf');
  writeFileSync(
    conf,
    ['[req]', 'prompt = no', 'distinguished_name = dn', '[dn]', 'O = Gatehouse', `OU = ${ids.compound}`, `CN = ${cn}`, ''].join('\n'),
  );
  const tmpKey = `${paths.pendingKeyFile}.tmp`;
  try {
    await run(openssl, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', tmpKey]);
    await run(openssl, ['req', '-new', '-key', tmpKey, '-config', conf, '-out', paths.csrFile]);
    writeFileDurable(paths.pendingKeyFile, readFileSync(tmpKey), { mode: 0o600 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new GatehouseError('CERT_INVALID', `openssl was not found (${openssl}): install it (apt-get install openssl) and run again`);
    throw new GatehouseError('CERT_INVALID', `openssl could not make the key or the CSR: ${(e.stderr ?? e.message).trim()}`);
  } finally {
    rmSync(tmpKey, { force: true });
    rmSync(confDir, { recursive: true, force: true });
  }
  return {
    keyFile: paths.pendingKeyFile,
    csrFile: paths.csrFile,
    csr: readFileSync(paths.csrFile, 'utf8'),
    subject: `O=Gatehouse, OU=${ids.compound}, CN=${cn}`,
  };
}

/** Every PEM certificate in a file, in order. */
export function readCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw refuse(`${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw refuse(`${what} holds a certificate that cannot be read: ${(err as Error).message}`);
    }
  });
}

/** The CN of a subject as node prints it (`CN=...` lines). */
export function commonName(cert: X509Certificate): string | undefined {
  return /^CN=(.*)$/m.exec(cert.subject)?.[1];
}

export interface CertificateCheck {
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** Which key it belongs to: the pending one of the last request, or the current one. */
  key: 'pending' | 'current';
}

/**
 * Checks a certificate for this box: it belongs to the pending (else the current) key, it
 * chains to a certificate of the CA file (intermediates may follow the leaf in `pem`), its
 * CN is `{compound}/{gateway}`, and `now` is inside its validity dates.
 */
export function checkCertificate(
  pem: string,
  input: { file: string; ids: { compound: string; gateway: string }; paths: IdentityPaths; caPem: string; caFile: string; now: number },
): CertificateCheck {
  const [leaf, ...intermediates] = readCertificates(pem, input.file);
  const keys: { which: 'pending' | 'current'; key: KeyObject }[] = [];
  for (const [which, file] of [
    ['pending', input.paths.pendingKeyFile],
    ['current', input.paths.keyFile],
  ] as const) {
    if (!existsSync(file)) continue;
    try {
      keys.push({ which, key: createPrivateKey(readFileSync(file)) });
    } catch (err) {
      throw refuse(`the private key ${file} cannot be read: ${(err as Error).message}`);
    }
  }
  if (!keys.length)
    throw refuse(`no private key at ${input.paths.pendingKeyFile} or ${input.paths.keyFile}: run \`gatehouse cert request\` first`);
  const match = keys.find((k) => leaf!.checkPrivateKey(k.key));
  if (!match)
    throw refuse(
      `${input.file} was not issued for this box's key (${keys.map((k) => k.which).join(' or ')}): send the CSR of the last \`gatehouse cert request\` to the CA`,
    );
  const expected = boxCommonName(input.ids.compound, input.ids.gateway);
  const cn = commonName(leaf!);
  if (cn !== expected) throw refuse(`${input.file} names CN=${cn ?? '(none)'}, this box is CN=${expected}`, { cn, expected });
  const cas = readCertificates(input.caPem, input.caFile);
  let cert = leaf!;
  for (let depth = 0; ; depth++) {
    if (cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) break;
    const next = intermediates.find((i) => cert.checkIssued(i) && cert.verify(i.publicKey));
    if (!next || depth > 8)
      throw refuse(`${input.file} is not signed by the CA in ${input.caFile} (uplink.caFile)`, { issuer: cert.issuer });
    cert = next;
  }
  const notBefore = new Date(leaf!.validFrom);
  const notAfter = new Date(leaf!.validTo);
  if (input.now < notBefore.getTime())
    throw refuse(
      `${input.file} is valid only from ${notBefore.toISOString()} (this box's clock says ${new Date(input.now).toISOString()}: check its time)`,
    );
  if (input.now > notAfter.getTime()) throw refuse(`${input.file} expired on ${notAfter.toISOString()}`);
  return { subject: leaf!.subject.replace(/\n/g, ', '), notBefore, notAfter, key: match.which };
}

/**
 * Moves the checked certificate (0644) and, when it belongs to the pending key, that key
 * (0600) into place. The key goes first: the uplink reads both files on each connection
 * attempt, and the certificate written last is the one that names the key in use.
 */
export function installCertificate(pem: string, check: CertificateCheck, paths: IdentityPaths): void {
  mkdirSync(dirname(paths.certFile), { recursive: true, mode: 0o700 });
  mkdirSync(dirname(paths.keyFile), { recursive: true, mode: 0o700 });
  if (check.key === 'pending') {
    writeFileDurable(paths.keyFile, readFileSync(paths.pendingKeyFile), { mode: 0o600 });
    rmSync(paths.pendingKeyFile, { force: true });
    fsyncDir(dirname(paths.keyFile));
  }
  writeFileDurable(paths.certFile, pem.endsWith('\n') ? pem : `${pem}\n`, { mode: 0o644 });
}

/**
 * The uplink config with the box's installed identity: `uplink.certFile`/`keyFile` as the
 * compound file says, else the default files of `gatehouse cert install` when both exist.
 */
export function withBoxIdentity(uplink: UplinkConfig, dataDir: string): UplinkConfig {
  if (uplink.certFile !== undefined || uplink.keyFile !== undefined) return uplink;
  const p = identityPaths(undefined, dataDir);
  return existsSync(p.certFile) && existsSync(p.keyFile) ? { ...uplink, certFile: p.certFile, keyFile: p.keyFile } : uplink;
}
