/**
 * Credential masking. Whatever a lock reports (a raw card number, a typed PIN, an already
 * masked value), only the masked form leaves the driver: a card shows its last four
 * digits when it is long enough that four digits do not give it away, a PIN and a
 * biometric show nothing, and a method with no credential (remote, mechanical key) says
 * `none`.
 */
import type { LockMethod } from './types.js';

export const MASK = '****';

export function maskCredential(method: LockMethod, value: string | undefined): string {
  if (method === 'remote' || method === 'key') return 'none';
  if (method === 'card' && value) {
    const chars = value.replace(/[^0-9A-Za-z]/g, '');
    // A lock that masks itself sends e.g. `****5678`: its last four are already public.
    const alreadyMasked = value.includes('*');
    if (chars.length >= 4 && (alreadyMasked || chars.length >= 8)) return `${MASK}${chars.slice(-4)}`;
  }
  return MASK;
}
