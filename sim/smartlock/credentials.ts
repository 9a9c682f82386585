/**
 * The credential list stored on a simulated lock: what a real lock decides offline, with
 * validity windows, and a memory of revoked credentials so that a departed tenant's card
 * is denied as `revoked`, not merely `unknown`.
 */
import type { CredentialKind, DenyReason } from '../../drivers/smartlock/types.js';

export interface StoredCredential {
  credentialId: string;
  kind: CredentialKind;
  value: string;
  validFrom?: string | undefined;
  validTo?: string | undefined;
}

export type Decision = { granted: true; credentialId: string } | { granted: false; reason: DenyReason };

export class CredentialStore {
  private readonly active = new Map<string, StoredCredential>();
  private readonly revoked = new Map<string, StoredCredential>();

  constructor(private readonly capacity = 200) {}

  /** False when the store is full (the lock answers `storage_full`). */
  set(c: StoredCredential): boolean {
    if (!this.active.has(c.credentialId) && this.active.size >= this.capacity) return false;
    this.active.set(c.credentialId, { ...c });
    this.revoked.delete(c.credentialId);
    return true;
  }

  /** False when there is no such credential (the lock answers `unknown_credential`). */
  revoke(credentialId: string): boolean {
    const c = this.active.get(credentialId);
    if (!c) return false;
    this.active.delete(credentialId);
    this.revoked.set(credentialId, c);
    if (this.revoked.size > this.capacity) this.revoked.delete(this.revoked.keys().next().value!);
    return true;
  }

  check(kind: CredentialKind, value: string, now: number): Decision {
    for (const c of this.active.values()) {
      if (c.kind !== kind || c.value !== value) continue;
      if (c.validFrom && now < Date.parse(c.validFrom)) return { granted: false, reason: 'not_yet_valid' };
      if (c.validTo && now > Date.parse(c.validTo)) return { granted: false, reason: 'expired' };
      return { granted: true, credentialId: c.credentialId };
    }
    for (const c of this.revoked.values()) if (c.kind === kind && c.value === value) return { granted: false, reason: 'revoked' };
    return { granted: false, reason: kind === 'pin' ? 'wrong_pin' : 'unknown' };
  }

  has(credentialId: string): boolean {
    return this.active.has(credentialId);
  }

  get size(): number {
    return this.active.size;
  }

  list(): StoredCredential[] {
    return [...this.active.values()].map((c) => ({ ...c }));
  }
}
