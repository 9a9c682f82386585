/**
 * Validates a compound file received from the platform with the rules `gatehouse run` and
 * `gatehouse check` apply: the YAML, the composed schema with every family's checks
 * (parseCompound), then the secrets every configured family reads. Every problem comes back
 * with its key path and line, all at once, so the platform fixes the file in one pass.
 *
 * Rules only a remote file has: it may not change the compound or gateway id (the box would
 * answer under another topic root, out of the platform's reach) nor the secrets file it reads
 * (a remote file naming another file on the box would make the daemon read it; secrets.set
 * is the way to change secrets).
 */
import { dirname, resolve } from 'node:path';
import { ConfigError, loadSecretsFile, parseCompound, secretsFrom, type ConfigProblem, type Secrets } from '../../config/load.js';
import type { CompoundConfig } from '../../config/schema.js';
import { FAMILIES } from '../families/registry.js';
import { secretsOf } from '../families/boot.js';
import { readerKeySecret } from '../../config/access-schema.js';

export interface Problem {
  path: string;
  line: number;
  message: string;
}

/** The seed's secrets file (resolved beside the seed compound file) with the platform's secrets over it. */
export function layeredSecrets(
  config: CompoundConfig,
  seedFile: string | undefined,
  remote: Record<string, string>,
  warnings: string[] = [],
): Secrets {
  let seed: Secrets | undefined;
  if (config.secretsFile && seedFile) seed = loadSecretsFile(resolve(dirname(seedFile), config.secretsFile), warnings);
  return {
    get: (n) => remote[n] ?? seed?.get(n),
    has: (n) => n in remote || (seed?.has(n) ?? false),
  };
}

export async function validateRemote(
  text: string,
  running: CompoundConfig,
  secretsFor: (config: CompoundConfig) => Secrets,
  dataDir: string,
): Promise<{ ok: true; config: CompoundConfig } | { ok: false; problems: Problem[] }> {
  let config: CompoundConfig;
  try {
    config = parseCompound(text, 'compound.yaml');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, problems: err.problems.map(toProblem) };
  }
  const problems: Problem[] = [];
  if (config.compound.id !== running.compound.id)
    problems.push({ path: 'compound.id', line: 0, message: `must stay "${running.compound.id}": the platform addresses this box by it` });
  if (config.gateway.id !== running.gateway.id)
    problems.push({ path: 'gateway.id', line: 0, message: `must stay "${running.gateway.id}": the platform addresses this box by it` });
  if (config.secretsFile !== running.secretsFile)
    problems.push({
      path: 'secretsFile',
      line: 0,
      message: `must stay ${running.secretsFile === undefined ? 'unset' : `"${running.secretsFile}"`}; change secrets with secrets.set`,
    });
  let secrets: Secrets = secretsFrom({});
  try {
    secrets = secretsFor(config);
  } catch (err) {
    problems.push({ path: 'secretsFile', line: 0, message: (err as Error).message });
  }
  if (config.uplink?.passwordSecret && !secrets.has(config.uplink.passwordSecret))
    problems.push({
      path: 'uplink.passwordSecret',
      line: 0,
      message: `secret "${config.uplink.passwordSecret}" is not set: send it with secrets.set first`,
    });
  for (const ref of secretsOf(FAMILIES, config))
    if (ref.required && !secrets.has(ref.name))
      problems.push({
        path: formatPath(ref.path),
        line: 0,
        message: `${ref.what} has no ${ref.kind ?? 'password'} secret "${ref.name}": send it with secrets.set first`,
      });
  problems.push(...(await familySecretProblems(config, secrets, dataDir)));
  return problems.length ? { ok: false, problems } : { ok: true, config };
}

/**
 * What `gatehouse check` adds to a secret's presence (gateway/cli.ts checkFamilySecrets): a
 * reader's key may be installed in the data directory instead, and a DC-09 key must be
 * AES-sized hex. The reader key store is imported only when readers are configured (a
 * locks-only compound never loads access code).
 */
async function familySecretProblems(config: CompoundConfig, secrets: Secrets, dataDir: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  const secured = config.readers.map((r, i) => ({ r, i })).filter(({ r }) => r.secure !== 'off' && r.secure !== 'install');
  if (secured.length) {
    try {
      const { ReaderKeyStore } = await import('../access/keys.js');
      const keys = new ReaderKeyStore(dataDir, secrets, { readOnly: true });
      for (const { r, i } of secured)
        if (!keys.keyFor(r))
          problems.push({
            path: `readers[${i}].secure`,
            line: 0,
            message: `reader ${r.id} needs a secure channel key: send "${readerKeySecret(r)}" (32 hex digits) with secrets.set first, or set secure: install`,
          });
    } catch (err) {
      problems.push({ path: 'readers', line: 0, message: (err as Error).message });
    }
  }
  config.alarmPanels.forEach((panel, i) => {
    const key = panel.keySecret === undefined ? undefined : secrets.get(panel.keySecret);
    if (key !== undefined && !/^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(key))
      problems.push({
        path: `alarmPanels[${i}].keySecret`,
        line: 0,
        message: `secret "${panel.keySecret}" must be 32, 48 or 64 hex digits (AES-128/192/256)`,
      });
  });
  return problems;
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

function toProblem(p: ConfigProblem): Problem {
  return { path: p.path, line: p.line, message: p.message };
}
