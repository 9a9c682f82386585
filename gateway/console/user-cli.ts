/**
 * `gatehouse user add|list|disable|passwd`: console accounts from the box itself, the way
 * to create the first administrator without any default password. When the daemon runs,
 * the change goes through its control socket ({dataDir}/control.sock): the daemon applies
 * it and records a `console.user` audit event. When it does not, this process migrates
 * outbox.db and writes the console tables directly, and says on stderr that no audit event
 * was recorded.
 *
 * Passwords never come from the command line (they would sit in the shell history and in
 * /proc/PID/cmdline): piped stdin, `--password-stdin`, or a prompt without echo.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadCompoundFile } from '../../config/load.js';
import { giveToDataDirOwner, PRIVATE_UMASK } from '../data-dir.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import { openOutboxDatabase } from '../outbox/schema.js';
import { scopeOf } from '../store/scope.js';
import { controlRequest, type ControlRequest } from '../control/control-socket.js';
import { Accounts, checkRole, MIN_PASSWORD_LENGTH, type ConsoleRole, type ConsoleUser } from './accounts.js';

export const USER_USAGE = `Usage:
  gatehouse user add --config FILE [--data DIR] --username NAME --role guard|installer|admin [--password-stdin]
  gatehouse user passwd --config FILE [--data DIR] --username NAME [--password-stdin]
  gatehouse user disable --config FILE [--data DIR] --username NAME
  gatehouse user list --config FILE [--data DIR]
The password is read from stdin when it is piped (or with --password-stdin), otherwise asked
without echo; at least ${MIN_PASSWORD_LENGTH} characters. Disabling a user or changing a password ends its sessions.
`;

export interface UserCliIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runUserCli(
  argv: string[],
  io: UserCliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [sub, ...rest] = argv;
  let args;
  try {
    args = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        data: { type: 'string', short: 'd' },
        username: { type: 'string', short: 'u' },
        role: { type: 'string' },
        'password-stdin': { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    io.stderr.write(`gatehouse user: ${(err as Error).message}\n\n${USER_USAGE}`);
    return 2;
  }
  if (!sub || !['add', 'list', 'disable', 'passwd'].includes(sub)) {
    io.stderr.write(`gatehouse user: say what to do (add, list, disable, passwd)\n\n${USER_USAGE}`);
    return 2;
  }
  if (!args.config) {
    io.stderr.write(`gatehouse user ${sub}: --config FILE is required\n`);
    return 2;
  }
  try {
    loadCompoundFile(args.config);
  } catch (err) {
    if (err instanceof ConfigError || isGatehouseError(err)) {
      io.stderr.write(`gatehouse user ${sub}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (sub !== 'list' && !args.username) {
    io.stderr.write(`gatehouse user ${sub}: --username NAME is required\n`);
    return 2;
  }
  const dataDir = resolve(args.data ?? '/var/lib/gatehouse');
  // outbox.db holds password hashes: whatever this command creates is private to its owner.
  process.umask(PRIVATE_UMASK);
  if (process.getuid?.() === 0 && !existsSync(dataDir)) {
    // Created by root it would be root's, and the service could not open it: let the service create it.
    io.stderr.write(
      `gatehouse user ${sub}: ${dataDir} does not exist yet. Start the service once (systemctl start gatehouse) so it creates it ` +
        'with the right owner, then run this again; or create it for the user the daemon runs as: ' +
        `install -d -m 0700 -o gatehouse -g gatehouse ${dataDir}\n`,
    );
    return 1;
  }
  let viaDaemon: boolean;
  try {
    // Probed before any password is asked: where it goes decides nothing about what is asked.
    viaDaemon = (await controlRequest(dataDir, { op: 'ping' })) !== undefined;
  } catch (err) {
    io.stderr.write(
      `gatehouse user ${sub}: cannot reach the running daemon on ${join(dataDir, 'control.sock')} (${(err as Error).message}); ` +
        `run it as the user the service runs as: sudo -u gatehouse gatehouse user ${sub} ...\n`,
    );
    return 1;
  }
  const request = async (): Promise<ControlRequest> => {
    switch (sub) {
      case 'list':
        return { op: 'user.list' };
      case 'disable':
        return { op: 'user.disable', username: args.username! };
      case 'add': {
        const role = checkRole(args.role);
        return { op: 'user.add', username: args.username!, role, password: await readPassword(io, args['password-stdin'] === true) };
      }
      default:
        return { op: 'user.passwd', username: args.username!, password: await readPassword(io, args['password-stdin'] === true) };
    }
  };
  try {
    const req = await request();
    const result = viaDaemon ? await throughDaemon(dataDir, req) : await direct(dataDir, req);
    if (result === undefined) {
      io.stderr.write(`gatehouse user ${sub}: the daemon stopped before it was asked; nothing was changed, run it again\n`);
      return 1;
    }
    report(sub, args.username, result, io);
    if (!viaDaemon && sub !== 'list') io.stderr.write('daemon not running: wrote outbox.db directly; no audit event\n');
    return 0;
  } catch (err) {
    if (isGatehouseError(err)) {
      io.stderr.write(`gatehouse user ${sub}: ${err.code}: ${err.message}\n`);
      return err.code === 'CONSOLE_REQUEST_INVALID' || err.code === 'CONSOLE_PASSWORD_WEAK' ? 2 : 1;
    }
    if (err instanceof DaemonLostError) {
      io.stderr.write(`gatehouse user ${sub}: ${err.message}; the change may or may not be made: see gatehouse user list\n`);
      return 1;
    }
    if (err instanceof DirectOpenError) {
      io.stderr.write(
        `gatehouse user ${sub}: cannot open ${join(dataDir, 'outbox.db')} (${err.message}); ` +
          `run it as the user the service runs as: sudo -u gatehouse gatehouse user ${sub} ...\n`,
      );
      return 1;
    }
    throw err;
  }
}

class DirectOpenError extends Error {}
class DaemonLostError extends Error {}

/** The daemon applies it and records the audit event; its coded error comes back as one. */
async function throughDaemon(dataDir: string, req: ControlRequest): Promise<unknown> {
  let answer;
  try {
    answer = await controlRequest(dataDir, req);
  } catch (err) {
    // Asked, but no answer came (the daemon stopped or hung meanwhile).
    throw new DaemonLostError((err as Error).message);
  }
  if (answer === undefined) return undefined;
  if (!answer.ok) throw new GatehouseError(answer.error.code, answer.error.message);
  return answer.result;
}

/**
 * No daemon: this process opens outbox.db itself, brings it to the current layout (the same
 * migrations the daemon runs at start) and writes the console tables. No event can be
 * recorded: the event sequence belongs to the daemon's outbox.
 */
async function direct(dataDir: string, req: ControlRequest): Promise<unknown> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let db: Database.Database;
  try {
    ({ db } = openOutboxDatabase(join(dataDir, 'outbox.db')));
  } catch (err) {
    if (isGatehouseError(err, 'STORE_SCHEMA_NEWER') || isGatehouseError(err, 'STORE_MIGRATION_FAILED')) throw err;
    throw new DirectOpenError((err as Error).message);
  }
  try {
    const accounts = new Accounts(scopeOf(db, 'console'), () => Date.now());
    switch (req.op) {
      case 'user.list':
        return accounts.list();
      case 'user.disable':
        return accounts.disable(req.username as string);
      case 'user.add':
        return await accounts.add(req.username as string, req.role as ConsoleRole, req.password as string);
      default:
        await accounts.setPassword(req.username as string, req.password as string);
        return { username: (req.username as string).toLowerCase() };
    }
  } finally {
    db.close();
    // Run with sudo: what SQLite created (outbox.db, its WAL) goes back to the data dir's owner.
    giveToDataDirOwner(dataDir);
  }
}

/** The CLI's output, the same whichever way the change went. */
function report(sub: string, username: string | undefined, result: unknown, io: UserCliIo): void {
  switch (sub) {
    case 'list':
      for (const u of result as ConsoleUser[]) {
        io.stdout.write(
          `${u.username.padEnd(24)} ${u.role.padEnd(10)} ${u.disabled ? 'disabled' : 'enabled '} created ${new Date(u.createdAt).toISOString()}\n`,
        );
      }
      return;
    case 'disable':
      io.stdout.write(`user ${username!.toLowerCase()} disabled; its console sessions are ended\n`);
      return;
    case 'add': {
      const user = result as ConsoleUser;
      io.stdout.write(`user ${user.username} (${user.role}) created\n`);
      return;
    }
    default:
      io.stdout.write(`password of ${username!.toLowerCase()} changed; its console sessions are ended\n`);
  }
}

async function readPassword(io: UserCliIo, fromStdin: boolean): Promise<string> {
  if (fromStdin || !io.stdin.isTTY) return firstLine(io.stdin);
  const first = await prompt(io, 'New console password: ');
  const again = await prompt(io, 'Repeat it: ');
  if (first !== again) {
    io.stderr.write('the two passwords differ\n');
    return '';
  }
  return first;
}

function firstLine(stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolveLine, reject) => {
    const chunks: Buffer[] = [];
    stdin.on('data', (c: Buffer) => chunks.push(c));
    stdin.on('error', reject);
    stdin.on('end', () => resolveLine(Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? ''));
  });
}

/** Reads one line in raw mode without echoing it. */
function prompt(io: UserCliIo, question: string): Promise<string> {
  return new Promise((resolveLine, reject) => {
    io.stderr.write(question);
    const stdin = io.stdin;
    stdin.setRawMode(true);
    stdin.resume();
    let line = '';
    const done = (value: string | Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      io.stderr.write('\n');
      if (value instanceof Error) reject(value);
      else resolveLine(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(line);
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else if (ch >= ' ') line += ch;
      }
    };
    stdin.on('data', onData);
  });
}
