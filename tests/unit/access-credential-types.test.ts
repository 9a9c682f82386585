import { describe, expect, it } from 'vitest';
import { Credential, Delta, SnapshotChunk, maskCard, toStored } from '../../gateway/access/credential-types.js';
import { KEY } from './access-fixtures.js';

const ok = (v: unknown) => Credential.safeParse(v).success;

describe('Credential schema', () => {
  it('accepts each mode with what it needs, and canonicalises the card to uppercase', () => {
    expect(Credential.parse({ id: 'a', card: 'abcdef12', mode: 'card', groups: [] }).card).toBe('ABCDEF12');
    expect(ok({ id: 'b.1:x-y_z', pin: '1234', mode: 'pin', groups: ['g'] })).toBe(true);
    expect(ok({ id: 'c', card: '1234', pin: '123456789012', mode: 'card+pin', groups: [], doors: ['d'], schedule: 's' })).toBe(true);
  });

  it('refuses a mode without its card or PIN', () => {
    expect(ok({ id: 'a', mode: 'card', groups: [] })).toBe(false);
    expect(ok({ id: 'a', mode: 'pin', card: 'ABCD', groups: [] })).toBe(false);
    expect(ok({ id: 'a', mode: 'card+pin', card: 'ABCD', groups: [] })).toBe(false);
    expect(ok({ id: 'a', mode: 'card+pin', pin: '1234', groups: [] })).toBe(false);
  });

  it('refuses bad ids, cards, PINs, times and unknown fields', () => {
    const base = { id: 'a', card: 'ABCD', mode: 'card', groups: [] };
    expect(ok({ ...base, id: '' })).toBe(false);
    expect(ok({ ...base, id: 'x'.repeat(65) })).toBe(false);
    expect(ok({ ...base, id: 'a b' })).toBe(false);
    expect(ok({ ...base, card: 'ABC' })).toBe(false);
    expect(ok({ ...base, card: 'A'.repeat(33) })).toBe(false);
    expect(ok({ ...base, card: 'XYZ1' })).toBe(false);
    expect(ok({ id: 'a', pin: '123', mode: 'pin', groups: [] })).toBe(false);
    expect(ok({ id: 'a', pin: '1234567890123', mode: 'pin', groups: [] })).toBe(false);
    expect(ok({ id: 'a', pin: '12a4', mode: 'pin', groups: [] })).toBe(false);
    expect(ok({ ...base, validFrom: 'yesterday' })).toBe(false);
    expect(ok({ ...base, validFrom: '2026-01-02T00:00:00Z', validTo: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(ok({ ...base, validFrom: '2026-01-01T00:00:00Z', validTo: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(ok({ ...base, validFrom: '2026-01-01T00:00:00Z', validTo: '2026-01-01T00:00:01+00:00' })).toBe(true);
    expect(ok({ ...base, groups: ['Residents'] })).toBe(false);
    expect(ok({ ...base, doors: [''] })).toBe(false);
    expect(ok({ ...base, extra: 1 })).toBe(false);
    expect(ok({ ...base, mode: 'face' })).toBe(false);
  });

  it('snapshot chunks and deltas are checked too', () => {
    expect(SnapshotChunk.safeParse({ version: 1, chunk: 1, chunks: 1, credentials: [] }).success).toBe(false);
    expect(SnapshotChunk.safeParse({ version: 0, chunk: 0, chunks: 1, credentials: [] }).success).toBe(false);
    const dupIds = [
      { id: 'a', pin: '1234', mode: 'pin', groups: [] },
      { id: 'a', pin: '5678', mode: 'pin', groups: [] },
    ];
    expect(SnapshotChunk.safeParse({ version: 1, chunk: 0, chunks: 1, credentials: dupIds }).success).toBe(false);
    expect(Delta.safeParse({ fromVersion: 2, toVersion: 2, changes: [] }).success).toBe(false);
    expect(Delta.safeParse({ fromVersion: 1, toVersion: 2, changes: [{ op: 'delete', id: 'a' }] }).success).toBe(false);
  });

  it('keeps only what the mode uses, hashed, and never the card or PIN', () => {
    const cardOnly = toStored(KEY, Credential.parse({ id: 'a', card: '0123456789ABCDEF', pin: '24681357', mode: 'card', groups: [] }));
    expect(cardOnly.pinHash).toBeUndefined();
    expect(cardOnly.pinLookup).toBeUndefined();
    expect(cardOnly.cardMask).toBe('****CDEF');
    const pinOnly = toStored(KEY, Credential.parse({ id: 'b', card: '0123456789ABCDEF', pin: '24681357', mode: 'pin', groups: [] }));
    expect(pinOnly.cardHash).toBeUndefined();
    expect(pinOnly.pinLookup).toMatch(/^[0-9a-f]{64}$/);
    const text = JSON.stringify([cardOnly, pinOnly]);
    expect(text).not.toContain('0123456789');
    expect(text).not.toContain('24681357');
  });

  it('masks short cards completely, like the smart lock driver', () => {
    expect(maskCard('ABCD')).toBe('****');
    expect(maskCard('12345678')).toBe('****5678');
  });
});
