/**
 * The access decision, as a pure function of the request and a read-only context: no
 * clock, no disk, no side effects — the facade (decider.ts) counts wrong PINs and commits
 * passages afterwards. Pure so every reason code and the order of checks can be tested
 * one by one.
 *
 * Checks run in this order and the first failure is the reason:
 *   unknown → revoked → not_yet_valid → expired → wrong_door → outside_schedule →
 *   pin_required → pin_locked_out → wrong_pin → anti_passback → granted
 * The credential's own state comes before anything about the door, so a revoked card is
 * reported as revoked wherever it is shown; the PIN comes last but for anti-passback, so a
 * card on the wrong door or out of hours is refused before anyone is asked for a PIN.
 *
 * Neither the card number nor the PIN ever appears in a Decision: `credential` is the mask.
 */
import type { AntiPassbackCheck, Direction } from './anti-passback.js';
import { MASK, canonicalCard, maskCard, type StoredCredential } from './credential-types.js';

export type DecisionReason =
  | 'granted'
  | 'unknown'
  | 'revoked'
  | 'not_yet_valid'
  | 'expired'
  | 'wrong_door'
  | 'outside_schedule'
  | 'pin_required'
  | 'pin_locked_out'
  | 'wrong_pin'
  | 'anti_passback';

export type PresentedMethod = 'card' | 'pin' | 'card+pin';

export interface AccessRequest {
  door: string;
  direction: Direction;
  /** Card value as hex, as the reader sent it (any case). */
  card?: string;
  /** Digits from the keypad: alone for a PIN-only credential, or after a card for card+pin. */
  pin?: string;
  /** Wall ms. */
  now: number;
}

export interface Decision {
  granted: boolean;
  reason: DecisionReason;
  credentialId?: string;
  /** Masked: `****` + last four of the card, or `****` for a PIN. */
  credential: string;
  method: PresentedMethod;
  /** Set when a soft anti-passback area let a violation through. */
  antiPassback?: { area: string; mode: 'soft'; violation: true };
}

/** What a decision reads; everything here must answer from memory. */
export interface DecideContext {
  lookupCard(hex: string): StoredCredential | undefined;
  lookupPin(pin: string): StoredCredential | undefined;
  checkPin(cred: StoredCredential, pin: string): boolean;
  /** Doors by door group id. */
  doorGroups: ReadonlyMap<string, ReadonlySet<string>>;
  /** Doors this gateway controls; a request for any other door is wrong_door. */
  doors: ReadonlySet<string>;
  /** Whether schedule `id` is open at `now`; an id missing from the config must answer false. */
  scheduleOpen(id: string, now: number): boolean;
  pinLockedOut(credentialId: string): boolean;
  antiPassback(credentialId: string, door: string, direction: Direction, now: number): AntiPassbackCheck;
}

export function mayOpen(cred: StoredCredential, door: string, groups: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  if (cred.doors.includes(door)) return true;
  for (const g of cred.groups) if (groups.get(g)?.has(door)) return true;
  return false;
}

export function decide(req: AccessRequest, ctx: DecideContext): Decision {
  const method: PresentedMethod = req.card !== undefined ? (req.pin !== undefined ? 'card+pin' : 'card') : 'pin';
  const presentedCard = req.card !== undefined ? canonicalCard(req.card) : undefined;
  const cred = req.card !== undefined ? ctx.lookupCard(req.card) : req.pin !== undefined ? ctx.lookupPin(req.pin) : undefined;
  const credential = cred?.cardMask ?? (presentedCard !== undefined ? maskCard(presentedCard) : MASK);
  const deny = (reason: DecisionReason): Decision =>
    cred ? { granted: false, reason, credentialId: cred.id, credential, method } : { granted: false, reason, credential, method };

  if (!cred) return deny('unknown');
  if (cred.revokedAt !== undefined) return deny('revoked');
  if (cred.validFrom !== undefined && req.now < cred.validFrom) return deny('not_yet_valid');
  if (cred.validTo !== undefined && req.now >= cred.validTo) return deny('expired');
  if (!ctx.doors.has(req.door) || !mayOpen(cred, req.door, ctx.doorGroups)) return deny('wrong_door');
  if (cred.schedule !== undefined && !ctx.scheduleOpen(cred.schedule, req.now)) return deny('outside_schedule');
  if (cred.mode === 'card+pin') {
    if (req.pin === undefined) return deny('pin_required');
    if (ctx.pinLockedOut(cred.id)) return deny('pin_locked_out');
    if (!ctx.checkPin(cred, req.pin)) return deny('wrong_pin');
  }
  const apb = ctx.antiPassback(cred.id, req.door, req.direction, req.now);
  if (!apb.ok && apb.mode === 'hard') return deny('anti_passback');
  const granted: Decision = { granted: true, reason: 'granted', credentialId: cred.id, credential, method };
  if (!apb.ok) granted.antiPassback = { area: apb.area, mode: 'soft', violation: true };
  return granted;
}
