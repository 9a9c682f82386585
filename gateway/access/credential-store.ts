/**
 * The credential store: the `access_credentials` and `access_meta` tables of the outbox
 * database, and an in-memory index over them so a decision is a Map lookup and never
 * touches the disk (a reader waits on us with someone standing at the door).
 *
 * Stored minimally: a keyed hash (HMAC-SHA256 with the box's own key) of the card and of
 * the PIN, and a `****1234` mask for events — never the card number or PIN in clear, so a
 * copied SD card does not hand out the compound's cards. The key is per box, so the same
 * card hashes differently on two gateways and a table cannot be matched against another.
 *
 * Revoked credentials are kept with their hashes so that a revoked card is reported as
 * `revoked` (someone holds a card they should not) rather than `unknown`; `pruneRevoked`
 * forgets them after a while.
 *
 * Uniqueness of cards and PIN-only PINs among active credentials is a rule of the sync
 * (checked before anything is written, so the error can name both credentials); the unique
 * partial indexes below are the safety net behind it.
 */
import { timingSafeEqual } from 'node:crypto';
import type { StoreScope } from '../store/scope.js';
import { GatehouseError } from '../core/errors.js';
import {
  canonicalCard,
  cardHash,
  pinHash,
  pinOnlyHash,
  toStored,
  type Credential,
  type CredentialMode,
  type StoredCredential,
} from './credential-types.js';

export interface CredentialStoreOptions {
  db: StoreScope;
  /** 32 random bytes kept by the box (secrets file); losing it means a fresh snapshot. */
  hashKey: Buffer;
}

export interface SyncState {
  /** Version of the applied credential set; 0 before the first snapshot. */
  version: number;
  /** Active (not revoked) credentials. */
  count: number;
  /** Wall ms of the last applied snapshot or delta, null before the first. */
  appliedAt: number | null;
}

/** Column order shared by the store and the staging table of the sync. */
export const CREDENTIAL_COLUMNS =
  'id, mode, card_hash, card_mask, pin_hash, pin_lookup, groups, doors, schedule, valid_from, valid_to, revoked_at';

type Row = [
  string,
  string,
  Buffer | null,
  string | null,
  Buffer | null,
  Buffer | null,
  string,
  string,
  string | null,
  number | null,
  number | null,
  number | null,
];

/** The row a stored credential is written as (same order as CREDENTIAL_COLUMNS). */
export function rowOf(c: StoredCredential): Row {
  return [
    c.id,
    c.mode,
    c.cardHash ? Buffer.from(c.cardHash, 'hex') : null,
    c.cardMask ?? null,
    c.pinHash ?? null,
    c.pinLookup ? Buffer.from(c.pinLookup, 'hex') : null,
    JSON.stringify(c.groups),
    JSON.stringify(c.doors),
    c.schedule ?? null,
    c.validFrom ?? null,
    c.validTo ?? null,
    c.revokedAt ?? null,
  ];
}

/**
 * Most credentials share a handful of group lists; sharing one array per distinct list
 * (read-only: decisions never change them) saves a large part of a 100k index's memory.
 */
function internedList(cache: Map<string, string[]>, json: string): string[] {
  let list = cache.get(json);
  if (!list) {
    list = JSON.parse(json) as string[];
    cache.set(json, list);
  }
  return list;
}

function fromRow(r: Row, lists: Map<string, string[]>): StoredCredential {
  const c: StoredCredential = {
    id: r[0],
    mode: r[1] as CredentialMode,
    groups: internedList(lists, r[6]),
    doors: internedList(lists, r[7]),
  };
  if (r[2]) c.cardHash = r[2].toString('hex');
  if (r[3] !== null) c.cardMask = r[3];
  if (r[4]) c.pinHash = r[4];
  if (r[5]) c.pinLookup = r[5].toString('hex');
  if (r[8] !== null) c.schedule = r[8];
  if (r[9] !== null) c.validFrom = r[9];
  if (r[10] !== null) c.validTo = r[10];
  if (r[11] !== null) c.revokedAt = r[11];
  return c;
}

/**
 * Credentials by hash. Active and revoked holders are kept apart so that when an active
 * credential lets go of a card (new card, or the card moved on), a revoked holder of that
 * card is still found and the card keeps being reported as revoked, not unknown.
 */
class HashIndex {
  private readonly active = new Map<string, StoredCredential>();
  private readonly revoked = new Map<string, StoredCredential>();

  get(hash: string): StoredCredential | undefined {
    return this.active.get(hash) ?? this.revoked.get(hash);
  }

  getActive(hash: string): StoredCredential | undefined {
    return this.active.get(hash);
  }

  put(hash: string | undefined, c: StoredCredential): void {
    if (hash === undefined) return;
    if (c.revokedAt === undefined) {
      this.active.set(hash, c);
      return;
    }
    // Among revoked holders of one card, the latest revocation is the one reported.
    const cur = this.revoked.get(hash);
    if (!cur || cur.id === c.id || (cur.revokedAt ?? 0) <= c.revokedAt) this.revoked.set(hash, c);
  }

  drop(hash: string | undefined, c: StoredCredential): void {
    if (hash === undefined) return;
    if (this.active.get(hash)?.id === c.id) this.active.delete(hash);
    if (this.revoked.get(hash)?.id === c.id) this.revoked.delete(hash);
  }

  clear(): void {
    this.active.clear();
    this.revoked.clear();
  }
}

export class CredentialStore {
  readonly db: StoreScope;
  private readonly key: Buffer;
  private readonly byId = new Map<string, StoredCredential>();
  private readonly byCard = new HashIndex();
  private readonly byPin = new HashIndex();
  private state: SyncState = { version: 0, count: 0, appliedAt: null };
  private readonly stmts;

  constructor(opts: CredentialStoreOptions) {
    if (!Buffer.isBuffer(opts.hashKey) || opts.hashKey.length !== 32) {
      throw new GatehouseError('CONFIG_INVALID', 'the credential hash key must be 32 bytes');
    }
    this.db = opts.db;
    this.key = Buffer.from(opts.hashKey);
    this.stmts = {
      all: this.db.prepare(`SELECT ${CREDENTIAL_COLUMNS} FROM access_credentials`).raw(),
      meta: this.db.prepare('SELECT k, v FROM access_meta'),
      setMeta: this.db.prepare('INSERT INTO access_meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v'),
      pruneIds: this.db.prepare('SELECT id FROM access_credentials WHERE revoked_at IS NOT NULL AND revoked_at < ?').pluck(),
      prune: this.db.prepare('DELETE FROM access_credentials WHERE revoked_at IS NOT NULL AND revoked_at < ?'),
    };
    this.reload();
  }

  /** Rebuilds the in-memory index from the tables (at open, and after a snapshot replaced them). */
  reload(): void {
    this.byId.clear();
    this.byCard.clear();
    this.byPin.clear();
    let active = 0;
    const lists = new Map<string, string[]>();
    for (const row of this.stmts.all.iterate() as Iterable<Row>) {
      const c = fromRow(row, lists);
      this.index(c);
      if (c.revokedAt === undefined) active++;
    }
    const meta = new Map((this.stmts.meta.all() as { k: string; v: number | null }[]).map((m) => [m.k, m.v]));
    this.state = { version: meta.get('version') ?? 0, count: active, appliedAt: meta.get('applied_at') ?? null };
  }

  version(): number {
    return this.state.version;
  }

  count(): number {
    return this.state.count;
  }

  syncState(): SyncState {
    return { ...this.state };
  }

  get(id: string): StoredCredential | undefined {
    return this.byId.get(id);
  }

  /** The credential holding this card (active first, else the last revoked one). */
  lookupCard(hex: string): StoredCredential | undefined {
    const canonical = canonicalCard(hex);
    return canonical === undefined ? undefined : this.byCard.get(cardHash(this.key, canonical).toString('hex'));
  }

  /** The PIN-only credential with this PIN. */
  lookupPin(pin: string): StoredCredential | undefined {
    return /^\d{4,12}$/.test(pin) ? this.byPin.get(pinOnlyHash(this.key, pin).toString('hex')) : undefined;
  }

  /** Whether `pin` is this credential's PIN, compared in constant time. */
  checkPin(cred: StoredCredential, pin: string): boolean {
    if (cred.pinHash) return timingSafeEqual(pinHash(this.key, cred.id, pin), cred.pinHash);
    if (cred.pinLookup) return timingSafeEqual(pinOnlyHash(this.key, pin), Buffer.from(cred.pinLookup, 'hex'));
    return false;
  }

  /** Hashes a validated credential with this box's key. */
  toStored(c: Credential): StoredCredential {
    return toStored(this.key, c);
  }

  /** Active credentials by card hash / PIN lookup hash, for the sync's uniqueness check. */
  activeByCardHash(hash: string): StoredCredential | undefined {
    return this.byCard.getActive(hash);
  }

  activeByPinLookup(hash: string): StoredCredential | undefined {
    return this.byPin.getActive(hash);
  }

  /** Persists version/count/applied time; to be called inside the sync's transaction. */
  writeMeta(version: number, count: number, appliedAt: number): void {
    this.stmts.setMeta.run('version', version);
    this.stmts.setMeta.run('count', count);
    this.stmts.setMeta.run('applied_at', appliedAt);
  }

  /** After a delta committed: swaps the changed credentials in the index. */
  replaceInIndex(changed: StoredCredential[], version: number, appliedAt: number): void {
    for (const c of changed) {
      const old = this.byId.get(c.id);
      if (old) {
        this.byCard.drop(old.cardHash, old);
        this.byPin.drop(old.pinLookup, old);
        if (old.revokedAt === undefined) this.state.count--;
      }
      this.index(c);
      if (c.revokedAt === undefined) this.state.count++;
    }
    this.state.version = version;
    this.state.appliedAt = appliedAt;
  }

  /** Forgets credentials revoked more than `days` ago; returns how many. */
  pruneRevoked(days: number, now: number): number {
    const cutoff = now - days * 86_400_000;
    const ids = this.stmts.pruneIds.all(cutoff) as string[];
    this.stmts.prune.run(cutoff);
    for (const id of ids) {
      const c = this.byId.get(id);
      if (!c) continue;
      this.byId.delete(id);
      this.byCard.drop(c.cardHash, c);
      this.byPin.drop(c.pinLookup, c);
    }
    return ids.length;
  }

  private index(c: StoredCredential): void {
    this.byId.set(c.id, c);
    this.byCard.put(c.cardHash, c);
    this.byPin.put(c.pinLookup, c);
  }
}
