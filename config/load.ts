/**
 * Loads a compound file: YAML → schema → typed config, with every problem reported at
 * once as `file:line key.path: message`, so an installer fixes the file in one pass.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { CompoundConfig, SecretsFile } from './schema.js';
import { GatehouseError } from '../gateway/core/errors.js';

export interface ConfigProblem {
  file: string;
  line: number;
  path: string;
  message: string;
}

export class ConfigError extends GatehouseError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super('CONFIG_INVALID', problems.map(formatProblem).join('\n'), { problems });
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line} ${p.path || '(root)'}: ${p.message}`;
}

export interface LoadedConfig {
  config: CompoundConfig;
  file: string;
  secrets: Secrets;
  warnings: string[];
}

/** Secret lookup by dotted name; values are never logged (see gateway/log.ts redaction). */
export interface Secrets {
  get(name: string): string | undefined;
  has(name: string): boolean;
}

export function secretsFrom(values: Record<string, string>): Secrets {
  const map = new Map(Object.entries(values));
  return { get: (n) => map.get(n), has: (n) => map.has(n) };
}

export function parseCompound(text: string, file: string): CompoundConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    problems.push({
      file,
      line: lineCounter.linePos(err.pos[0]).line,
      path: '',
      message: `YAML: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
    });
  }
  if (problems.length) throw new ConfigError(problems);
  const raw = doc.toJS() ?? {};
  const parsed = CompoundConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const path = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
    problems.push({ file, line: lineOf(doc, lineCounter, path), path: formatPath(path), message: describeIssue(issue) });
  }
  problems.sort((a, b) => a.line - b.line);
  throw new ConfigError(problems);
}

export function loadCompoundFile(file: string): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new GatehouseError(
      'CONFIG_UNREADABLE',
      `${file}: cannot read the compound file (${(err as NodeJS.ErrnoException).code ?? err}); check the path given to --config`,
    );
  }
  const config = parseCompound(text, file);
  const warnings: string[] = [];
  let secrets = secretsFrom({});
  if (config.secretsFile) {
    const secretsPath = resolve(dirname(abs), config.secretsFile);
    secrets = loadSecretsFile(secretsPath, warnings);
  }
  return { config, file: abs, secrets, warnings };
}

/** How the installed service reads its secrets: owned by root, group gatehouse, group-readable only. */
const SERVICE_SECRETS_ADVICE = (path: string): string =>
  `for the systemd service run: sudo chown root:gatehouse ${path} && sudo chmod 640 ${path}; ` +
  `when the daemon runs as the file's owner, chmod 600 ${path} is enough`;

/**
 * Accepted modes: 0600 (read by its owner, who runs the daemon) and 0640 owned by root (the
 * service reads it through its group, and cannot change it). Advising only "chmod 600" made
 * a root-owned file unreadable to the service user (EACCES at start).
 */
function secretsModeWarning(path: string, mode: number, ownerUid: number): string | undefined {
  if ((mode & 0o077) === 0) return undefined;
  if ((mode & 0o077) === 0o040 && ownerUid === 0) return undefined;
  const who = mode & 0o007 ? 'others' : (mode & 0o070) === 0o040 ? 'its group while not owned by root' : 'its group with more than read';
  return `${path}: secrets file is readable by ${who} (mode ${mode.toString(8).padStart(4, '0')}); ${SERVICE_SECRETS_ADVICE(path)}`;
}

export function loadSecretsFile(path: string, warnings: string[]): Secrets {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
    const st = statSync(path);
    const warning = secretsModeWarning(path, st.mode & 0o777, st.uid);
    if (warning) warnings.push(warning);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const advice = code === 'EACCES' ? `: the user running gatehouse cannot read it; ${SERVICE_SECRETS_ADVICE(path)}` : '';
    throw new GatehouseError('CONFIG_UNREADABLE', `${path}: cannot read the secrets file (${code ?? err})${advice}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length) {
    // Never echo the YAML error message: it may quote a secret value.
    throw new ConfigError(
      doc.errors.map((e) => ({ file: path, line: e.linePos?.[0]?.line ?? 1, path: '', message: 'secrets file is not valid YAML' })),
    );
  }
  const parsed = SecretsFile.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        file: path,
        line: lineOf(
          doc,
          lineCounter,
          i.path.map((k) => (typeof k === 'number' ? k : String(k))),
        ),
        path: formatPath(i.path.map(String)),
        message: 'must be a string, or a map of strings',
      })),
    );
  }
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.data)) {
    if (typeof v === 'string') flat[k] = v;
    else for (const [k2, v2] of Object.entries(v)) flat[`${k}.${k2}`] = v2;
  }
  return secretsFrom(flat);
}

function formatPath(path: (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

function describeIssue(issue: { code: string; message: string; keys?: string[] }): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return 'required key is missing';
  if (issue.code === 'unrecognized_keys' && issue.keys)
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling against config/README.md)`;
  return issue.message;
}

/** The line of the deepest node of `path` that exists in the document. */
function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number {
  let node: unknown = doc.contents;
  let best = 1;
  const pos = (n: unknown) => {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return r ? lc.linePos(r[0]).line : undefined;
  };
  best = pos(node) ?? 1;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === String(key));
      if (!pair) break;
      best = pos(pair.key) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      best = pos(node) ?? best;
    } else break;
  }
  return best;
}
