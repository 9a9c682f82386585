/**
 * `gatehouse init`: starts a compound file for a new box. From a short dialogue on a
 * terminal, or from flags / an answers file for scripted rollouts, it writes a commented
 * compound file and its secrets file (0600, or 0640 for the service group with --group),
 * generates every secret the chosen devices need with crypto randomness — exactly the
 * secrets the families declare (`secretsOf`) — and prints, per device, what to set on the
 * device itself. Secrets go to stdout and the 0600 file only, never to a log.
 *
 * Nothing is overwritten without --force: a second run must not silently replace the keys
 * of readers and panels that were already set up with the first.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseCompound } from '../../config/load.js';
import type { CompoundConfig } from '../../config/schema.js';
import { secretsOf } from '../families/boot.js';
import { FAMILIES } from '../families/registry.js';
import type { SecretRef } from '../families/family.js';
import { writeFileDurable } from '../durable-file.js';
import { Answers, answerProblems, askMissing, parseFamiliesList, readAnswersFile, type RawAnswers } from './init-answers.js';
import { devicesOf, TEMPLATES } from './init-templates.js';

export const INIT_USAGE = `Usage:
  gatehouse init [--answers FILE] [--compound ID] [--name TEXT] [--gateway ID] [--timezone TZ]
                 [--uplink URL] [--uplink-username NAME] [--lan ADDRESS] [--families LIST]
                 [--osdp-path PATH] [--modbus-path PATH] [--modbus-baud N] [--reader-keys install|generate]
                 [--out FILE] [--secrets FILE] [--group NAME] [--force]
LIST is family[:count|:id+id...] separated by commas, e.g. locks:12,access:2,cameras:gate-cam+yard-cam
(families: ${Object.keys(TEMPLATES).join(', ')}). On a terminal, what is missing is asked;
otherwise --compound, --gateway and --families (or an answers file with them) are required.
Writes FILE (default ./<compound>.yaml) and its secrets file (default <FILE>.secrets.yaml, mode
0600; 0640 with --group NAME, the service's group), and prints per device what to set on it.
`;

export interface InitIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const REQUIRED = ['compound', 'gateway', 'families'] as const;

export async function runInit(
  argv: string[],
  io: InitIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        answers: { type: 'string' },
        compound: { type: 'string' },
        name: { type: 'string' },
        gateway: { type: 'string' },
        timezone: { type: 'string' },
        uplink: { type: 'string' },
        'uplink-username': { type: 'string' },
        lan: { type: 'string' },
        families: { type: 'string' },
        'osdp-path': { type: 'string' },
        'modbus-path': { type: 'string' },
        'modbus-baud': { type: 'string' },
        'reader-keys': { type: 'string' },
        out: { type: 'string', short: 'o' },
        secrets: { type: 'string' },
        group: { type: 'string' },
        force: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    io.stderr.write(`gatehouse init: ${(err as Error).message}\n\n${INIT_USAGE}`);
    return 2;
  }
  let raw: RawAnswers = {};
  try {
    if (args.answers) raw = readAnswersFile(args.answers);
  } catch (err) {
    io.stderr.write(`gatehouse init: ${(err as Error).message}\n`);
    return 2;
  }
  const flags: RawAnswers = {
    compound: args.compound,
    compoundName: args.name,
    gateway: args.gateway,
    timezone: args.timezone,
    uplink: args.uplink,
    uplinkUsername: args['uplink-username'],
    lan: args.lan,
    families: args.families === undefined ? undefined : parseFamiliesList(args.families),
    osdpPath: args['osdp-path'],
    modbusPath: args['modbus-path'],
    modbusBaud: args['modbus-baud'] === undefined ? undefined : Number(args['modbus-baud']),
    readerKeys: args['reader-keys'],
  };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) raw[k as keyof RawAnswers] = v;
  const missing = REQUIRED.filter((k) => raw[k] === undefined);
  if (missing.length) {
    if (!io.stdin.isTTY) {
      io.stderr.write(
        `gatehouse init: not on a terminal, so nothing can be asked: give ${missing.map((k) => `--${k}`).join(', ')} (or an --answers file)\n\n${INIT_USAGE}`,
      );
      return 2;
    }
    try {
      raw = await askMissing(raw, Object.keys(TEMPLATES), { stdin: io.stdin, stdout: io.stdout });
    } catch (err) {
      io.stderr.write(`gatehouse init: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const parsed = Answers.safeParse(raw);
  if (!parsed.success) {
    io.stderr.write(`gatehouse init: the answers are not usable:\n${answerProblems(parsed.error).join('\n')}\n`);
    return 2;
  }
  const answers = parsed.data;
  const known = new Set(FAMILIES.map((f) => f.name).filter((n) => n in TEMPLATES));
  const unknown = Object.keys(answers.families).filter((f) => !known.has(f));
  if (unknown.length) {
    io.stderr.write(
      `gatehouse init: unknown famil${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')}; init knows ${[...known].join(', ')}\n`,
    );
    return 2;
  }

  const out = resolve(args.out ?? `${answers.compound}.yaml`);
  const secretsPath = resolve(args.secrets ?? out.replace(/\.ya?ml$/, '') + '.secrets.yaml');
  const existing = [out, secretsPath].filter((f) => existsSync(f));
  if (existing.length && !args.force) {
    io.stderr.write(
      `gatehouse init: ${existing.join(' and ')} already exist${existing.length > 1 ? '' : 's'}; nothing was written. ` +
        'Replacing it would replace the keys and passwords devices were given: pass --force to overwrite, or choose another --out\n',
    );
    return 1;
  }
  let gid: number | undefined;
  if (args.group !== undefined) {
    gid = groupId(args.group);
    if (gid === undefined) {
      io.stderr.write(`gatehouse init: no group "${args.group}" on this system (getent group ${args.group}); nothing was written\n`);
      return 2;
    }
  }

  const text = compoundText(answers, relative(dirname(out), secretsPath));
  let config: CompoundConfig;
  try {
    config = parseCompound(text, out);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`gatehouse init: the answers make an invalid compound file (nothing was written):\n${err.message}\n`);
    return 2;
  }
  const secrets = generateSecrets(config, answers);
  // Secrets first: a compound file naming a secrets file that is not there yet would not start.
  const write = (file: string, data: string, mode: number): boolean => {
    try {
      writeFileDurable(file, data, { mode });
      return true;
    } catch (err) {
      io.stderr.write(
        `gatehouse init: cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): does its directory exist, and may this user write there?\n`,
      );
      return false;
    }
  };
  if (!write(secretsPath, secretsText(secrets), 0o600)) return 1;
  if (gid !== undefined) {
    try {
      // 0600 until the group is right: the file is never readable by a wrong group.
      chownSync(secretsPath, -1, gid);
      chmodSync(secretsPath, 0o640);
    } catch (err) {
      io.stderr.write(
        `gatehouse init: ${secretsPath} stays 0600: cannot give it to group ${args.group} (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
          `run: sudo chown root:${args.group} ${secretsPath} && sudo chmod 640 ${secretsPath}\n`,
      );
      write(out, text, 0o644);
      return 1;
    }
  }
  if (!write(out, text, 0o644)) return 1;

  io.stdout.write(
    `wrote ${out}\nwrote ${secretsPath} (mode ${gid === undefined ? '0600' : `0640, group ${args.group}`}, ${secrets.size} secret(s))\n`,
  );
  const secret = (name: string) => secrets.get(name);
  const lines = FAMILIES.filter((f) => f.name in answers.families).flatMap((f) => TEMPLATES[f.name]!.instructions(config, secret));
  if (lines.length)
    io.stdout.write(`\nSet on each device (this is the only time the secrets are shown outside ${basename(secretsPath)}):\n`);
  for (const l of lines) io.stdout.write(`  ${l}\n`);
  if (('locks' in answers.families || 'dc09' in answers.families) && /^(127\.|::1$|localhost$)/.test(answers.lan))
    io.stdout.write(
      `\nLocks and alarm panels on the LAN cannot reach ${answers.lan}: set broker.host and perimeter.dc09.host to this box's LAN address (or run init with --lan ADDRESS).\n`,
    );
  if (config.uplink && !config.uplink.passwordSecret && !config.uplink.certFile)
    io.stdout.write(`\nThe uplink has no credentials yet: add the platform's password (uplink.password) or a client certificate.\n`);
  io.stdout.write(`\nNext: edit ${basename(out)} (names, doors, zones), then: gatehouse check --config ${out}\n`);
  return 0;
}

/** The compound file, with the comments an installer needs to finish it. */
function compoundText(a: Answers, secretsFile: string): string {
  let unit = 1;
  const ctx = { answers: a, nextUnit: () => unit++ };
  const q = (s: string) => JSON.stringify(s);
  const families = FAMILIES.filter((f) => f.name in a.families);
  const parts = [
    `# Compound file written by \`gatehouse init\` on ${new Date().toISOString().slice(0, 10)}. Every key is described in`,
    '# config/schema.ts and config/examples/maple-court.yaml; check it with `gatehouse check --config FILE`.',
    'compound:',
    `  id: ${a.compound}`,
    ...(a.compoundName ? [`  name: ${q(a.compoundName)}`] : []),
    'gateway:',
    `  id: ${a.gateway}`,
    '# Passwords and keys: this second file, mode 0600 (or 0640 owned by root, group of the service).',
    `secretsFile: ${q(secretsFile)}`,
  ];
  if (a.uplink) {
    parts.push(
      '# The district platform. A per-box client certificate goes in certFile/keyFile (with caFile).',
      'uplink:',
      `  url: ${q(a.uplink)}`,
      `  username: ${q(a.uplinkUsername ?? `${a.compound}-${a.gateway}`)}`,
      a.uplinkPassword ? '  passwordSecret: uplink.password' : '  # passwordSecret: uplink.password   # once the platform has issued one',
    );
  } else
    parts.push(
      '# No uplink yet: events are kept in the outbox and published on the embedded broker only.',
      '# uplink: { url: mqtts://platform.example:8883 }',
    );
  parts.push(
    '# The embedded broker: locks and local systems connect here. Loopback unless the LAN needs it;',
    '# give locks TLS (`tls: { port: 8883 }`, drivers/smartlock/README.md) once they support it.',
    'broker:',
    `  host: ${q('locks' in a.families ? a.lan : '127.0.0.1')}`,
    '  port: 1883',
    '# Schedules (doors, arming) and holidays are in this time zone.',
    'access:',
    `  timezone: ${q(a.timezone)}`,
    'log:',
    '  level: info',
  );
  for (const f of families) parts.push('', TEMPLATES[f.name]!.yaml(devicesOf(TEMPLATES[f.name]!.prefix, a.families[f.name]!), ctx));
  return `${parts.join('\n')}\n`;
}

/** One value per secret the configured families declare (and the uplink password given), fresh from the CSPRNG. */
function generateSecrets(config: CompoundConfig, a: Answers): Map<string, string> {
  const out = new Map<string, string>();
  if (a.uplinkPassword) out.set('uplink.password', a.uplinkPassword);
  for (const ref of secretsOf(FAMILIES, config)) {
    const family = FAMILIES.find((f) => f.configured(config) && f.secrets?.(config).some((r) => r.name === ref.name));
    const template = family ? TEMPLATES[family.name] : undefined;
    if (!ref.required && template?.generates && !template.generates(ref, config)) continue;
    out.set(ref.name, secretValue(ref));
  }
  return out;
}

/** Keys: 128 bits as 32 hex digits (an OSDP SCBK; AES-128 for DC-09). Passwords: 144 bits, URL-safe. */
function secretValue(ref: SecretRef): string {
  return ref.kind === 'key' ? randomBytes(16).toString('hex') : randomBytes(18).toString('base64url');
}

/** `devices.lock-1` → `devices:` / `  "lock-1": "…"`: the two-level shape the loader reads. */
function secretsText(secrets: Map<string, string>): string {
  const groups = new Map<string, [string, string][]>();
  const flat: [string, string][] = [];
  for (const [name, value] of secrets) {
    const dot = name.indexOf('.');
    if (dot < 0) flat.push([name, value]);
    else groups.set(name.slice(0, dot), [...(groups.get(name.slice(0, dot)) ?? []), [name.slice(dot + 1), value]]);
  }
  const lines = ['# Written by `gatehouse init`. Keep this file 0600 (or 0640 root:<service group>); never commit it.'];
  for (const [k, v] of flat) lines.push(`${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  for (const [group, entries] of groups) {
    lines.push(`${JSON.stringify(group)}:`);
    for (const [k, v] of entries) lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The gid of a group name through NSS (getent), so LDAP/sssd groups work too. */
function groupId(name: string): number | undefined {
  if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(name)) return undefined;
  try {
    const line = execFileSync('getent', ['group', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const gid = Number(line.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}
