/**
 * The data directory's permissions (issue 14.7). outbox.db and its WAL hold scrypt hashes,
 * session and CSRF token hashes and every event; access.key, osdp-keys.json and the console
 * key are secrets. So: umask 0077 for the whole daemon (SQLite, openssl and ffmpeg create
 * files too), the directory 0700, every file 0600 — whoever starts the daemon, and also for
 * files left looser by an earlier version or by hand.
 *
 * A file the daemon cannot write (typically outbox.db created by `gatehouse user add` run as
 * root before the service ever ran) is reported with the exact command that fixes it,
 * instead of a SqliteError stack trace in a restart loop.
 */
import { accessSync, chmodSync, chownSync, constants, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { GatehouseError } from './core/errors.js';

export const PRIVATE_UMASK = 0o077;

/** Files of the data dir that the daemon opens for writing. */
const WRITTEN = ['outbox.db', 'outbox.db-wal', 'outbox.db-shm', 'access.key', 'access.key.bak', 'osdp-keys.json', 'osdp-keys.json.bak'];

const uid = (): number | undefined => process.getuid?.();

function whoami(): string {
  try {
    return userInfo().username;
  } catch {
    return String(uid());
  }
}

/**
 * Creates `dir` 0700 if missing, tightens it and its files (and media/) to 0700/0600 where
 * this user owns them, and checks that the daemon can write what it must. Returns the paths
 * whose mode was tightened (the caller logs them).
 */
export function prepareDataDir(dir: string): string[] {
  const tightened: string[] = [];
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const owner = statSync(dir).uid;
  if (uid() === 0 && owner !== 0) {
    // Everything root creates here would be root's 0600 files the service user cannot open.
    throw new GatehouseError(
      'DATA_DIR_UNUSABLE',
      `${dir} belongs to uid ${owner} (the service user): running the daemon as root would leave files that user cannot open; ` +
        `start the service (systemctl start gatehouse) or run it as that user: sudo -u '#${owner}' gatehouse run ...`,
      { path: dir },
    );
  }
  const tighten = (path: string, mode: number): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink() || st.uid !== uid() || (st.mode & 0o777 & ~mode) === 0) return;
    chmodSync(path, mode);
    tightened.push(path);
  };
  tighten(dir, 0o700);
  for (const sub of ['', 'media']) {
    const d = join(dir, sub);
    if (sub && !existsSync(d)) continue;
    if (sub) tighten(d, 0o700);
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (lstatSync(p).isFile()) tighten(p, 0o600);
    }
  }
  const fix = `run: sudo chown -R ${whoami()}: ${dir} (or start the daemon as the user who owns it)`;
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new GatehouseError('DATA_DIR_UNUSABLE', `${dir} is not writable by user ${whoami()} (it belongs to uid ${owner}): ${fix}`, {
      path: dir,
    });
  }
  for (const name of WRITTEN) {
    const p = join(dir, name);
    if (!existsSync(p)) continue;
    try {
      accessSync(p, constants.R_OK | constants.W_OK);
    } catch {
      const why = `it belongs to uid ${statSync(p).uid}, often because a command ran as root before the service created it`;
      throw new GatehouseError('DATA_DIR_UNUSABLE', `${p} is not writable by user ${whoami()} (${why}): ${fix}`, { path: p });
    }
  }
  return tightened;
}

/**
 * For commands that write the data dir as root (`gatehouse user add` with sudo): the files
 * they created or touched are given to the owner of the data dir, so the service user can
 * still open them. Returns false (nothing done) when not root or the dir belongs to root.
 */
export function giveToDataDirOwner(dir: string, names: readonly string[] = ['outbox.db', 'outbox.db-wal', 'outbox.db-shm']): boolean {
  if (uid() !== 0) return false;
  const owner = statSync(dir);
  if (owner.uid === 0) return false;
  for (const name of names) {
    const p = join(dir, name);
    if (existsSync(p)) chownSync(p, owner.uid, owner.gid);
  }
  return true;
}
