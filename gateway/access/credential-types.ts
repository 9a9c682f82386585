/**
 * Credentials as the platform sends them (snapshot and delta commands), validated strictly:
 * they arrive over MQTT and end up deciding who opens a door, so nothing loose gets in.
 *
 * Also the hashing and masking rules, kept here so the store, the sync and the tests agree
 * on one definition: the card number and the PIN never reach the disk or a log in clear.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { Id } from '../../config/common.js';

const CredentialId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-"');
/** The card value as hex digits; canonical form is uppercase so a reader's case does not matter. */
const CardHex = z
  .string()
  .regex(/^[0-9A-Fa-f]{4,32}$/, 'must be 4-32 hex digits')
  .transform((s) => s.toUpperCase());
const Pin = z.string().regex(/^\d{4,12}$/, 'must be 4-12 digits');
/** Door, door group and schedule ids name config entries, so they follow the config's id rule. */
const ConfigRef = Id;
const IsoTime = z.iso.datetime({ offset: true });

export const CredentialMode = z.enum(['card', 'pin', 'card+pin']);
export type CredentialMode = z.infer<typeof CredentialMode>;

export const Credential = z
  .object({
    id: CredentialId,
    card: CardHex.optional(),
    pin: Pin.optional(),
    mode: CredentialMode,
    groups: z.array(ConfigRef).max(256),
    doors: z.array(ConfigRef).max(256).optional(),
    schedule: ConfigRef.optional(),
    validFrom: IsoTime.optional(),
    validTo: IsoTime.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.mode === 'card' || c.mode === 'card+pin') && c.card === undefined) {
      ctx.addIssue({ code: 'custom', path: ['card'], message: `mode ${c.mode} needs a card` });
    }
    if ((c.mode === 'pin' || c.mode === 'card+pin') && c.pin === undefined) {
      ctx.addIssue({ code: 'custom', path: ['pin'], message: `mode ${c.mode} needs a pin` });
    }
    if (c.validFrom !== undefined && c.validTo !== undefined && Date.parse(c.validTo) <= Date.parse(c.validFrom)) {
      ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'validTo must be after validFrom' });
    }
  });
export type Credential = z.infer<typeof Credential>;

const uniqueIds = (creds: { id: string }[], ctx: z.RefinementCtx, path: (string | number)[]) => {
  const seen = new Set<string>();
  creds.forEach((c, i) => {
    if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: [...path, i, 'id'], message: `credential id ${c.id} appears twice` });
    seen.add(c.id);
  });
};

/** One chunk of a full snapshot: one MQTT command is at most 64 KB, 100k credentials are not. */
export const SnapshotChunk = z
  .object({
    version: z.number().int().min(1),
    chunk: z.number().int().min(0),
    chunks: z.number().int().min(1).max(100_000),
    credentials: z.array(Credential),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.chunk >= s.chunks) ctx.addIssue({ code: 'custom', path: ['chunk'], message: `chunk ${s.chunk} is not below chunks ${s.chunks}` });
    uniqueIds(s.credentials, ctx, ['credentials']);
  });
export type SnapshotChunk = z.infer<typeof SnapshotChunk>;

export const DeltaChange = z.discriminatedUnion('op', [
  z.object({ op: z.literal('upsert'), credential: Credential }).strict(),
  z.object({ op: z.literal('revoke'), id: CredentialId }).strict(),
]);
export type DeltaChange = z.infer<typeof DeltaChange>;

export const Delta = z
  .object({
    fromVersion: z.number().int().min(0),
    toVersion: z.number().int().min(1),
    changes: z.array(DeltaChange),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.toVersion <= d.fromVersion) ctx.addIssue({ code: 'custom', path: ['toVersion'], message: 'toVersion must be above fromVersion' });
  });
export type Delta = z.infer<typeof Delta>;

/** What the store keeps per credential: hashes and a mask, never the card or PIN. */
export interface StoredCredential {
  id: string;
  mode: CredentialMode;
  /** HMAC of the card, hex; only when the mode uses the card. */
  cardHash?: string;
  cardMask?: string;
  /** card+pin: HMAC('pin:' + id + ':' + pin), bound to the credential so equal PINs do not collide. */
  pinHash?: Buffer;
  /** PIN-only: HMAC('pinonly:' + pin), hex, the lookup key a keypad entry is found by. */
  pinLookup?: string;
  groups: string[];
  doors: string[];
  schedule?: string;
  validFrom?: number;
  validTo?: number;
  revokedAt?: number;
}

export const MASK = '****';

/**
 * `****` + last four hex digits, like the smart lock driver: only when the card is long
 * enough (8+ digits) that four digits do not give it away.
 */
export function maskCard(hex: string): string {
  return hex.length >= 8 ? `${MASK}${hex.slice(-4).toUpperCase()}` : MASK;
}

/** Canonical card hex, or undefined when a reader sent something that is not a card value. */
export function canonicalCard(value: string): string | undefined {
  return /^[0-9A-Fa-f]{4,32}$/.test(value) ? value.toUpperCase() : undefined;
}

export function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

export const cardHash = (key: Buffer, canonicalHex: string): Buffer => hmac(key, `card:${canonicalHex}`);
export const pinHash = (key: Buffer, credentialId: string, pin: string): Buffer => hmac(key, `pin:${credentialId}:${pin}`);
export const pinOnlyHash = (key: Buffer, pin: string): Buffer => hmac(key, `pinonly:${pin}`);

/** Turns a validated credential into what gets stored, keeping only what its mode uses. */
export function toStored(key: Buffer, c: Credential): StoredCredential {
  const usesCard = c.mode === 'card' || c.mode === 'card+pin';
  const s: StoredCredential = { id: c.id, mode: c.mode, groups: c.groups, doors: c.doors ?? [] };
  if (usesCard && c.card !== undefined) {
    s.cardHash = cardHash(key, c.card).toString('hex');
    s.cardMask = maskCard(c.card);
  }
  if (c.mode === 'card+pin' && c.pin !== undefined) s.pinHash = pinHash(key, c.id, c.pin);
  if (c.mode === 'pin' && c.pin !== undefined) s.pinLookup = pinOnlyHash(key, c.pin).toString('hex');
  if (c.schedule !== undefined) s.schedule = c.schedule;
  if (c.validFrom !== undefined) s.validFrom = Date.parse(c.validFrom);
  if (c.validTo !== undefined) s.validTo = Date.parse(c.validTo);
  return s;
}

/** zod issues as one line of paths and messages; zod does not echo the input, so no card or PIN leaks. */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
