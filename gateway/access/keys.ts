/**
 * Key material the access controller keeps on the box:
 * - the credential hash key: a random 32-byte key generated on first start. Card numbers
 *   and PINs are stored only as HMACs under it, so a copied database alone does not give
 *   the cards away. It lives beside the database because it has the same lifetime: lose
 *   one and the other is useless, and the platform re-sends a snapshot.
 * - reader keys (SCBK): from the secrets file (`osdp.{reader}` or `keySecret`), or set
 *   by the gateway itself with KEYSET when a reader is installed (`secure: install`) and
 *   then kept in `osdp-keys.json` so the reader keeps working after a restart.
 * Both files are written 0600 and atomically (write + rename), never logged.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Secrets } from '../../config/load.js';
import type { ReaderConfig } from '../../config/schema.js';
import { GatehouseError } from '../errors.js';

const HASH_KEY_FILE = 'access.key';
const READER_KEYS_FILE = 'osdp-keys.json';

function writePrivate(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The per-box credential hash key, created on first use. */
export function loadOrCreateHashKey(dataDir: string): Buffer {
  const file = join(dataDir, HASH_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file);
    if (key.length !== 32) {
      throw new GatehouseError('CONFIG_INVALID', `${file} is ${key.length} bytes, expected 32: restore it from backup, or delete it together with outbox.db's credentials and let the platform send a new snapshot`);
    }
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return key;
  }
  const key = randomBytes(32);
  writePrivate(file, key);
  return key;
}

const HEX_KEY = /^[0-9a-fA-F]{32}$/;

export class ReaderKeyStore {
  private readonly file: string;
  private installed: Record<string, string> = {};

  constructor(dataDir: string, private readonly secrets: Secrets) {
    this.file = join(dataDir, READER_KEYS_FILE);
    if (existsSync(this.file)) {
      try {
        const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
        if (parsed && typeof parsed === 'object') {
          for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string' && HEX_KEY.test(v)) this.installed[k] = v;
        }
      } catch (err) {
        throw new GatehouseError('CONFIG_INVALID', `${this.file} is not valid JSON (${(err as Error).message}): restore it, or set the reader keys in the secrets file`);
      }
    }
  }

  /**
   * The key to open the reader's secure channel with. A key the gateway installed wins over
   * the secrets file: after KEYSET the reader no longer accepts the old one.
   */
  keyFor(reader: ReaderConfig): Uint8Array | undefined {
    const installed = this.installed[reader.id];
    if (installed) return Buffer.from(installed, 'hex');
    const name = reader.keySecret ?? `osdp.${reader.id}`;
    const value = this.secrets.get(name);
    if (value === undefined) return undefined;
    if (!HEX_KEY.test(value)) throw new GatehouseError('CONFIG_INVALID', `secret "${name}" for reader ${reader.id} must be 32 hex digits (a 128-bit SCBK)`);
    return Buffer.from(value, 'hex');
  }

  /** Whether the reader was already installed by us (so `secure: install` now means "use the stored key"). */
  isInstalled(readerId: string): boolean {
    return readerId in this.installed;
  }

  remember(readerId: string, key: Uint8Array): void {
    this.installed[readerId] = Buffer.from(key).toString('hex');
    writePrivate(this.file, JSON.stringify(this.installed, null, 2));
  }
}
