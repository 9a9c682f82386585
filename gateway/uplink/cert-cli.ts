/**
 * `gatehouse cert request|install` (issue 15.5): the box's own certificate for the uplink.
 *
 *   gatehouse cert request --config FILE [--data DIR]          new key on the box + CSR on stdout
 *   gatehouse cert install CERT --config FILE [--data DIR]     check CERT and put it in place
 *
 * Exit status: 0 done, 1 refused (the certificate does not fit, openssl failed), 2 bad usage
 * or configuration.
 */
import { chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadCompoundFile, type LoadedConfig } from '../../config/load.js';
import { isGatehouseError } from '../core/errors.js';
import { checkCertificate, identityPaths, installCertificate, requestCertificate, type IdentityPaths } from './box-identity.js';

/**
 * Run with sudo, the files would belong to root and the service could not read its own key:
 * like `gatehouse user add`, give them to the data directory's owner (the service user). The
 * `{data}/uplink` directory too, never a directory outside the data dir.
 */
function giveToServiceUser(dataDir: string, paths: IdentityPaths): void {
  if (process.getuid?.() !== 0 || !existsSync(dataDir)) return;
  const owner = statSync(dataDir);
  if (owner.uid === 0) return;
  const dirs = [dirname(paths.keyFile), dirname(paths.certFile)].filter((d) => d === resolve(dataDir, 'uplink'));
  for (const p of [...new Set(dirs), paths.keyFile, paths.pendingKeyFile, paths.csrFile, paths.certFile])
    if (existsSync(p)) chownSync(p, owner.uid, owner.gid);
}

const USAGE = `Usage:
  gatehouse cert request --config FILE [--data DIR]
      makes a new private key on this box (0600, never leaves it) and prints a certificate
      signing request (CN={compound}/{gateway}) to send to the district's CA
  gatehouse cert install CERT --config FILE [--data DIR]
      checks CERT against the key, uplink.caFile, the compound and gateway ids and its dates,
      then installs it where uplink.certFile points (default {data}/uplink/box.crt)
`;

export async function runCertCli(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  let parsed: { values: { config?: string; data?: string }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, data: { type: 'string', short: 'd' } },
    });
  } catch (err) {
    process.stderr.write(`gatehouse cert: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { config: file, data = '/var/lib/gatehouse' } = parsed.values;
  if ((verb !== 'request' && verb !== 'install') || !file || parsed.positionals.length !== (verb === 'install' ? 1 : 0)) {
    process.stderr.write(USAGE);
    return 2;
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadCompoundFile(file);
  } catch (err) {
    if (err instanceof ConfigError || isGatehouseError(err, 'CONFIG_UNREADABLE')) {
      process.stderr.write(`gatehouse cert: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
  const { config } = loaded;
  const ids = { compound: config.compound.id, gateway: config.gateway.id };
  const paths = identityPaths(config.uplink, resolve(data));
  try {
    if (verb === 'request') {
      const r = await requestCertificate(ids, paths);
      giveToServiceUser(resolve(data), paths);
      process.stderr.write(
        `new private key ${r.keyFile} (0600; it stays on this box)\n` +
          `certificate signing request ${r.csrFile} for ${r.subject}:\n` +
          `send it to the district's CA, then run: gatehouse cert install CERT --config ${file}${parsed.values.data ? ` --data ${data}` : ''}\n`,
      );
      process.stdout.write(r.csr);
      return 0;
    }
    const certPath = parsed.positionals[0]!;
    const caFile = config.uplink?.caFile;
    if (!caFile) {
      process.stderr.write(
        `gatehouse cert: ${loaded.file}: uplink.caFile is not set: name the district CA's certificate there, so the box's certificate can be checked against it\n`,
      );
      return 2;
    }
    let pem: string;
    let caPem: string;
    try {
      pem = readFileSync(certPath, 'utf8');
      caPem = readFileSync(caFile, 'utf8');
    } catch (err) {
      process.stderr.write(`gatehouse cert: cannot read ${(err as NodeJS.ErrnoException).path ?? certPath}: ${(err as Error).message}\n`);
      return 1;
    }
    const check = checkCertificate(pem, { file: certPath, ids, paths, caPem, caFile, now: Date.now() });
    try {
      installCertificate(pem, check, paths);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(
        `gatehouse cert install: cannot write ${e.path ?? paths.certFile}: ${e.code ?? e.message} (run it as the service user or with sudo)\n`,
      );
      return 1;
    }
    giveToServiceUser(resolve(data), paths);
    process.stdout.write(
      `installed ${paths.certFile} (${check.subject}, valid until ${check.notAfter.toISOString()}) with the key ${paths.keyFile}; ` +
        `the uplink uses it from its next connection (systemctl restart gatehouse to connect with it now)\n`,
    );
    return 0;
  } catch (err) {
    if (isGatehouseError(err, 'CERT_INVALID')) {
      process.stderr.write(`gatehouse cert ${verb}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code !== 'string' || !e.path) throw err;
    // A directory or file this user may not write: one line saying which, not a stack trace.
    process.stderr.write(`gatehouse cert ${verb}: cannot write ${e.path}: ${e.code} (run it as the service user or with sudo)\n`);
    return 1;
  }
}
