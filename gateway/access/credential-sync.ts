/**
 * Credential sync from the platform: full snapshots (chunked) and deltas. Each command is
 * one transaction, so a power cut leaves either the previous credential set or the new
 * one, never a mix; every command is idempotent, because MQTT QoS 1 re-delivers.
 *
 * Snapshot: one MQTT command is at most 64 KB, so a snapshot comes as `chunks` pieces of
 * one `version`. Chunks are staged (hashed already — the staging table never holds a card
 * or PIN in clear) and the whole set replaces the store in one transaction once every chunk
 * of that version is in, whatever the order; a re-sent chunk is ignored; a chunk of a newer
 * version abandons an older staging. Credentials present before and missing from the new
 * snapshot are kept as revoked, so their cards are still reported as `revoked`.
 *
 * Delta: applied only on top of the version it was computed from. An older or re-sent
 * delta (toVersion ≤ current) is a success that changes nothing; a gap is refused with
 * ACCESS_VERSION_MISMATCH and `{ current }`, which tells the platform to send a snapshot.
 *
 * Cards and PIN-only PINs are unique among active credentials: a command that would break
 * that is refused as a whole (ACCESS_DUPLICATE_CREDENTIAL, naming the credential ids, never
 * the card or PIN) and the store is left as it was.
 */
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import { CREDENTIAL_COLUMNS, rowOf, type CredentialStore, type SyncState } from './credential-store.js';
import { Delta, SnapshotChunk, describeIssues, type StoredCredential } from './credential-types.js';

export interface SnapshotResult {
  applied: boolean;
  /** The store's version after this chunk. */
  version: number;
  /** Chunks of this snapshot staged so far (all of them once applied). */
  received: number;
  of: number;
  /** True when the chunk belongs to a version older than one already staged or applied. */
  stale?: boolean;
}

export interface DeltaResult {
  applied: boolean;
  version: number;
}

export interface StagingState {
  version: number;
  received: number;
  of: number;
}

const UPDATE_SET = CREDENTIAL_COLUMNS.split(', ')
  .filter((c) => c !== 'id')
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } },
  input: unknown,
  what: string,
): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new GatehouseError('CMD_INVALID', `${what}: ${describeIssues(r.error)}`);
  return r.data;
}

function duplicateError(kind: 'card' | 'pin', ids: string[]): GatehouseError {
  return new GatehouseError(
    'ACCESS_DUPLICATE_CREDENTIAL',
    `credentials ${ids.join(', ')} would share one ${kind === 'card' ? 'card' : 'PIN-only PIN'}`,
    { kind, ids },
  );
}

export class CredentialSync {
  private readonly store: CredentialStore;
  private readonly clock: Clock;
  private readonly stmts;

  constructor(opts: { store: CredentialStore; clock: Clock }) {
    this.store = opts.store;
    this.clock = opts.clock;
    const db = this.store.db;
    this.stmts = {
      newestStaged: db.prepare('SELECT MAX(version) FROM access_staging_chunks').pluck(),
      dropOlder: db.prepare('DELETE FROM access_staging WHERE version < ?'),
      dropOlderChunks: db.prepare('DELETE FROM access_staging_chunks WHERE version < ?'),
      dropVersion: db.prepare('DELETE FROM access_staging WHERE version = ?'),
      dropVersionChunks: db.prepare('DELETE FROM access_staging_chunks WHERE version = ?'),
      chunksOf: db.prepare('SELECT chunks FROM access_staging_chunks WHERE version = ? LIMIT 1').pluck(),
      hasChunk: db.prepare('SELECT 1 FROM access_staging_chunks WHERE version = ? AND chunk = ?').pluck(),
      received: db.prepare('SELECT COUNT(*) FROM access_staging_chunks WHERE version = ?').pluck(),
      addChunk: db.prepare('INSERT INTO access_staging_chunks (version, chunk, chunks) VALUES (?, ?, ?)'),
      stage: db.prepare(
        `INSERT INTO access_staging (version, chunk, ${CREDENTIAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      stagedIdDup: db.prepare('SELECT id FROM access_staging WHERE version = ? GROUP BY id HAVING COUNT(*) > 1 LIMIT 1').pluck(),
      stagedCardDup: db
        .prepare(
          "SELECT group_concat(id, ',') FROM access_staging WHERE version = ? AND card_hash IS NOT NULL GROUP BY card_hash HAVING COUNT(*) > 1 LIMIT 1",
        )
        .pluck(),
      stagedPinDup: db
        .prepare(
          "SELECT group_concat(id, ',') FROM access_staging WHERE version = ? AND pin_lookup IS NOT NULL GROUP BY pin_lookup HAVING COUNT(*) > 1 LIMIT 1",
        )
        .pluck(),
      revokeAllActive: db.prepare('UPDATE access_credentials SET revoked_at = ? WHERE revoked_at IS NULL'),
      promote: db.prepare(
        `INSERT INTO access_credentials (${CREDENTIAL_COLUMNS}) SELECT ${CREDENTIAL_COLUMNS} FROM access_staging WHERE version = ? ON CONFLICT(id) DO UPDATE SET ${UPDATE_SET}`,
      ),
      activeCount: db.prepare('SELECT COUNT(*) FROM access_credentials WHERE revoked_at IS NULL').pluck(),
      markRevoked: db.prepare('UPDATE access_credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      write: db.prepare(
        `INSERT INTO access_credentials (${CREDENTIAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET ${UPDATE_SET}`,
      ),
      staging: db.prepare(
        'SELECT version, COUNT(*) AS received, MAX(chunks) AS of FROM access_staging_chunks GROUP BY version ORDER BY version DESC LIMIT 1',
      ),
    };
  }

  /** Version, active count and last applied time (persisted), plus a snapshot in progress. */
  syncState(): SyncState & { staging: StagingState | null } {
    const staging = (this.stmts.staging.get() as StagingState | undefined) ?? null;
    return { ...this.store.syncState(), staging };
  }

  applySnapshotChunk(input: unknown): SnapshotResult {
    const s = parse(SnapshotChunk, input, 'snapshot');
    const current = this.store.version();
    if (s.version <= current) return { applied: false, version: current, received: s.chunks, of: s.chunks, stale: s.version < current };
    // Hashing is the costly part; it happens before the transaction so the write lock is short.
    const stored = s.credentials.map((c) => this.store.toStored(c));
    const now = this.clock.now();
    let duplicate: GatehouseError | undefined;
    const result = this.store.db.transaction((): SnapshotResult => {
      const newest = this.stmts.newestStaged.get() as number | null;
      if (newest !== null && newest > s.version) return { applied: false, version: current, received: 0, of: s.chunks, stale: true };
      this.stmts.dropOlder.run(s.version);
      this.stmts.dropOlderChunks.run(s.version);
      const chunks = this.stmts.chunksOf.get(s.version) as number | undefined;
      if (chunks !== undefined && chunks !== s.chunks) {
        throw new GatehouseError('CMD_INVALID', `snapshot ${s.version} was announced with ${chunks} chunks, this chunk says ${s.chunks}`, {
          version: s.version,
        });
      }
      if (!this.stmts.hasChunk.get(s.version, s.chunk)) {
        for (const c of stored) this.stmts.stage.run(s.version, s.chunk, ...rowOf(c));
        this.stmts.addChunk.run(s.version, s.chunk, s.chunks);
      }
      const received = this.stmts.received.get(s.version) as number;
      if (received < s.chunks) return { applied: false, version: current, received, of: s.chunks };
      duplicate = this.findStagedDuplicate(s.version);
      if (duplicate) {
        // A bad snapshot is dropped whole: a corrected one, even under the same version, starts clean.
        this.stmts.dropVersion.run(s.version);
        this.stmts.dropVersionChunks.run(s.version);
        return { applied: false, version: current, received: 0, of: s.chunks };
      }
      // Everyone active now is revoked unless the snapshot brings them back, in the same statement order
      // the unique indexes need: nobody is active twice at any point.
      this.stmts.revokeAllActive.run(now);
      this.stmts.promote.run(s.version);
      this.stmts.dropVersion.run(s.version);
      this.stmts.dropVersionChunks.run(s.version);
      this.store.writeMeta(s.version, this.stmts.activeCount.get() as number, now);
      return { applied: true, version: s.version, received, of: s.chunks };
    })();
    if (duplicate) throw duplicate;
    if (result.applied) this.store.reload();
    return result;
  }

  applyDelta(input: unknown): DeltaResult {
    const d = parse(Delta, input, 'delta');
    const current = this.store.version();
    if (d.toVersion <= current) return { applied: false, version: current };
    if (d.fromVersion !== current) {
      throw new GatehouseError(
        'ACCESS_VERSION_MISMATCH',
        `delta ${d.fromVersion}→${d.toVersion} does not start at version ${current}; send a snapshot`,
        { current },
      );
    }
    const now = this.clock.now();
    // The final state of every credential the delta touches, later changes winning.
    const final = new Map<string, StoredCredential>();
    for (const change of d.changes) {
      if (change.op === 'upsert') {
        final.set(change.credential.id, this.store.toStored(change.credential));
      } else {
        const base = final.get(change.id) ?? this.store.get(change.id);
        // Revoking an id the box never had is already true.
        if (base) final.set(change.id, { ...base, revokedAt: base.revokedAt ?? now });
      }
    }
    this.checkDeltaDuplicates(final);
    const touched = [...final.values()];
    const isActive = (c: StoredCredential | undefined) => c !== undefined && c.revokedAt === undefined;
    const count = touched.reduce((n, c) => n + Number(isActive(c)) - Number(isActive(this.store.get(c.id))), this.store.count());
    this.store.db.transaction(() => {
      // Touched credentials step out of the unique indexes first, so that a card moving from one
      // credential to another within the delta never counts as held twice mid-way.
      for (const c of touched) this.stmts.markRevoked.run(now, c.id);
      for (const c of touched) this.stmts.write.run(...rowOf(c));
      // A snapshot still being staged at or below the new version can never apply any more.
      this.stmts.dropOlder.run(d.toVersion + 1);
      this.stmts.dropOlderChunks.run(d.toVersion + 1);
      this.store.writeMeta(d.toVersion, count, now);
    })();
    this.store.replaceInIndex(touched, d.toVersion, now);
    return { applied: true, version: d.toVersion };
  }

  private findStagedDuplicate(version: number): GatehouseError | undefined {
    const id = this.stmts.stagedIdDup.get(version) as string | undefined;
    if (id !== undefined)
      return new GatehouseError('CMD_INVALID', `credential ${id} appears in two chunks of snapshot ${version}`, { ids: [id] });
    const cards = this.stmts.stagedCardDup.get(version) as string | undefined;
    if (cards) return duplicateError('card', cards.split(','));
    const pins = this.stmts.stagedPinDup.get(version) as string | undefined;
    if (pins) return duplicateError('pin', pins.split(','));
    return undefined;
  }

  /** After the delta, no two active credentials may share a card hash or a PIN-only hash. */
  private checkDeltaDuplicates(final: Map<string, StoredCredential>): void {
    const stateOf = (id: string) => final.get(id) ?? this.store.get(id);
    const claimed = { card: new Map<string, string>(), pin: new Map<string, string>() };
    for (const c of final.values()) {
      if (c.revokedAt !== undefined) continue;
      for (const kind of ['card', 'pin'] as const) {
        const hash = kind === 'card' ? c.cardHash : c.pinLookup;
        if (hash === undefined) continue;
        const inDelta = claimed[kind].get(hash);
        if (inDelta !== undefined) throw duplicateError(kind, [inDelta, c.id]);
        claimed[kind].set(hash, c.id);
        const holder = kind === 'card' ? this.store.activeByCardHash(hash) : this.store.activeByPinLookup(hash);
        if (!holder || holder.id === c.id) continue;
        // The current holder only conflicts if it still holds the same value after the delta.
        const after = stateOf(holder.id);
        const stillHolds = after && after.revokedAt === undefined && (kind === 'card' ? after.cardHash : after.pinLookup) === hash;
        if (stillHolds) throw duplicateError(kind, [holder.id, c.id]);
      }
    }
  }
}
