/**
 * Key material the access controller keeps on the box:
 * - the credential hash key: a random 32-byte key generated on first start. Card numbers
 *   and PINs are stored only as HMACs under it, so a copied database alone does not give
 *   the cards away. It lives beside the database because it has the same lifetime: lose
 *   one and the other is useless, and the platform re-sends a snapshot.
 * - reader keys (SCBK): from the secrets file (`osdp.{reader}` or `keySecret`), or set
 *   by the gateway itself with KEYSET when a reader is installed (`secure: install`) and
 *   then kept in `osdp-keys.json` so the reader keeps working after a restart.
 * Both files are written 0600, atomically and durably (durable-file.ts), never logged, and
 * each has a `.bak` copy beside it: a file found damaged at start (a power cut on an older
 * version, a bad SD card sector) is restored from the copy instead of stopping access control.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Secrets } from '../../config/load.js';
import type { ReaderConfig } from '../../config/schema.js';
import { GatehouseError } from '../core/errors.js';
import { readKeyFile, writeFileWithBackup, type DurableFs } from '../durable-file.js';
import { readerKeySecret } from './family.js';

const HASH_KEY_FILE = 'access.key';
const READER_KEYS_FILE = 'osdp-keys.json';

/** Options of the key loaders: the fs layer (tests record calls) and where a recovery is reported. */
export interface KeyFileOptions {
  fs?: DurableFs;
  /** `gatehouse check`: read (and use a backup) without writing anything. */
  readOnly?: boolean;
  /** Told when a damaged file was restored from its backup (the caller logs it). */
  onRecovered?: (message: string) => void;
}

function parseHashKey(bytes: Buffer): Buffer {
  if (bytes.length !== 32) throw new Error(`${bytes.length} bytes, expected 32`);
  return bytes;
}

/** The per-box credential hash key, created on first use (with its backup). */
export function loadOrCreateHashKey(dataDir: string, opts: KeyFileOptions = {}): Buffer {
  const file = join(dataDir, HASH_KEY_FILE);
  const read = readKeyFile(file, parseHashKey, { fs: opts.fs, readOnly: opts.readOnly });
  if (read?.ok) {
    if (read.recovered) opts.onRecovered?.(read.problem);
    return read.value;
  }
  if (read) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `${read.problem}: restore ${file} from a backup of the box, or delete it and ${file}.bak together with ` +
        "outbox.db's credentials and let the platform send a new snapshot",
    );
  }
  const key = randomBytes(32);
  writeFileWithBackup(file, key, { fs: opts.fs });
  return key;
}

const HEX_KEY = /^[0-9a-fA-F]{32}$/;

function parseReaderKeys(bytes: Buffer): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object of reader keys');
  const keys: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string' && HEX_KEY.test(v)) keys[k] = v;
  return keys;
}

export class ReaderKeyStore {
  private readonly file: string;
  private installed: Record<string, string> = {};

  constructor(
    dataDir: string,
    private readonly secrets: Secrets,
    private readonly opts: KeyFileOptions = {},
  ) {
    this.file = join(dataDir, READER_KEYS_FILE);
    const read = readKeyFile(this.file, parseReaderKeys, { fs: opts.fs, readOnly: opts.readOnly });
    if (read && !read.ok) {
      throw new GatehouseError(
        'CONFIG_INVALID',
        `${read.problem}: restore it from a backup of the box, or set the reader keys in the secrets file`,
      );
    }
    if (read?.recovered) opts.onRecovered?.(read.problem);
    if (read?.ok) this.installed = read.value;
  }

  /**
   * The key to open the reader's secure channel with. A key the gateway installed wins over
   * the secrets file: after KEYSET the reader no longer accepts the old one.
   */
  keyFor(reader: ReaderConfig): Uint8Array | undefined {
    const installed = this.installed[reader.id];
    if (installed) return Buffer.from(installed, 'hex');
    const name = readerKeySecret(reader);
    const value = this.secrets.get(name);
    if (value === undefined) return undefined;
    if (!HEX_KEY.test(value))
      throw new GatehouseError('CONFIG_INVALID', `secret "${name}" for reader ${reader.id} must be 32 hex digits (a 128-bit SCBK)`);
    return Buffer.from(value, 'hex');
  }

  /** Whether the reader was already installed by us (so `secure: install` now means "use the stored key"). */
  isInstalled(readerId: string): boolean {
    return readerId in this.installed;
  }

  remember(readerId: string, key: Uint8Array): void {
    this.installed[readerId] = Buffer.from(key).toString('hex');
    writeFileWithBackup(this.file, JSON.stringify(this.installed, null, 2), { fs: this.opts.fs });
  }
}
