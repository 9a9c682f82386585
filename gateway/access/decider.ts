/**
 * AccessDecider: the local access decision engine as one object, for the door/reader
 * service. Decisions are made on the box from the synced credential store, so doors keep
 * working while the uplink is down.
 *
 * API (keep it small):
 *   new AccessDecider({ db, hashKey, config, doors, clock })
 *     db       the access scope of outbox.db (outbox.scope('access')): tables access_credentials,
 *              access_meta, access_staging, access_staging_chunks, access_apb, made by ./migrations.ts
 *     hashKey  the box's 32-byte credential hash key
 *     config   AccessConfig (door groups, schedules, holidays, anti-passback, PIN lockout)
 *     doors    ids of the doors this gateway controls
 *     clock    injected Clock
 *   decide({ door, direction, card?, pin?, now? }): Decision
 *     Synchronous, memory only. Counts a wrong PIN towards the lockout, and a right one
 *     clears the count. For a card+pin credential, a card alone answers `pin_required`:
 *     collect the PIN (within the door's pinTimeoutMs) and call again with card AND pin.
 *     A granted Decision does not move anyone inside: see commitPassage.
 *   commitPassage({ credentialId, door, direction, now? }): void
 *     Call when the person actually passed (door opened after the grant, or at the grant
 *     when the door has no contact); updates anti-passback state (persisted).
 *   sync.applySnapshotChunk(payload) / sync.applyDelta(payload) / sync.syncState()
 *     The platform's credential commands; see credential-sync.ts.
 *   store   the CredentialStore (version(), count(), pruneRevoked(days, now), ...).
 */
import type { StoreScope } from '../store/scope.js';
import type { AccessConfig } from '../../config/access-schema.js';
import type { Clock } from '../core/clock.js';
import { AntiPassback, type Direction } from './anti-passback.js';
import { CredentialStore } from './credential-store.js';
import { CredentialSync } from './credential-sync.js';
import { decide, type DecideContext, type Decision } from './decide.js';
import { PinAttempts } from './pin-attempts.js';
import { isOpenAt } from './schedule.js';

export type { Decision, DecisionReason, AccessRequest } from './decide.js';
export type { SnapshotResult, DeltaResult } from './credential-sync.js';

export interface AccessDeciderOptions {
  db: StoreScope;
  hashKey: Buffer;
  config: AccessConfig;
  doors: string[];
  clock: Clock;
}

export interface DecideInput {
  door: string;
  direction: Direction;
  card?: string;
  pin?: string;
  /** Wall ms; defaults to the injected clock. */
  now?: number;
}

export interface Passage {
  credentialId: string;
  door: string;
  direction: Direction;
}

export class AccessDecider {
  readonly store: CredentialStore;
  readonly sync: CredentialSync;
  private readonly clock: Clock;
  private readonly antiPassback: AntiPassback;
  private readonly pinAttempts: PinAttempts;
  private readonly ctx: DecideContext;

  constructor(opts: AccessDeciderOptions) {
    this.clock = opts.clock;
    this.store = new CredentialStore({ db: opts.db, hashKey: opts.hashKey });
    this.sync = new CredentialSync({ store: this.store, clock: opts.clock });
    this.antiPassback = new AntiPassback({ db: opts.db, areas: opts.config.antiPassback });
    this.pinAttempts = new PinAttempts({ maxAttempts: opts.config.pinMaxAttempts, lockoutMs: opts.config.pinLockoutMs, clock: opts.clock });
    const cfg = opts.config;
    const holidays = new Set(cfg.holidays);
    const store = this.store;
    this.ctx = {
      lookupCard: (hex) => store.lookupCard(hex),
      lookupPin: (pin) => store.lookupPin(pin),
      checkPin: (cred, pin) => store.checkPin(cred, pin),
      doorGroups: new Map(Object.entries(cfg.doorGroups).map(([g, doors]) => [g, new Set(doors)])),
      doors: new Set(opts.doors),
      // A credential naming a schedule this box does not know is refused, not let in at all hours.
      scheduleOpen: (id, now) => {
        const s = cfg.schedules[id];
        return s !== undefined && isOpenAt(s, holidays, cfg.timezone, now);
      },
      pinLockedOut: (id) => this.pinAttempts.isLockedOut(id),
      antiPassback: (id, door, direction, now) => this.antiPassback.check(id, door, direction, now),
    };
  }

  decide(input: DecideInput): Decision {
    const req = { door: input.door, direction: input.direction, now: input.now ?? this.clock.now(), card: input.card, pin: input.pin };
    const d = decide(req, this.ctx);
    if (d.credentialId !== undefined && input.pin !== undefined && d.method === 'card+pin') {
      if (d.reason === 'wrong_pin') this.pinAttempts.recordFailure(d.credentialId);
      // A right PIN clears the count even if something later (anti-passback) refused the door.
      else if (d.reason === 'granted' || d.reason === 'anti_passback') this.pinAttempts.recordSuccess(d.credentialId);
    }
    return d;
  }

  commitPassage(p: Passage & { now?: number }): void {
    this.antiPassback.commit(p.credentialId, p.door, p.direction, p.now ?? this.clock.now());
  }

  /** The retained state the platform reads to decide between a delta and a snapshot. */
  syncState(): ReturnType<CredentialSync['syncState']> {
    return this.sync.syncState();
  }
}
