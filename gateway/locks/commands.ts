/**
 * The lock commands offered to the command router: `lock.open`, `lock.credential.set`,
 * `lock.credential.revoke`. Arguments are validated here with the same field rules the
 * lock protocol uses, so a command the router accepts is one the lock can parse.
 */
import { z } from 'zod';
import { Id } from '../../config/schema.js';
import { CardNumber, CredentialId, Pin } from '../../drivers/smartlock/codec.js';
import { maskCredential } from '../../drivers/smartlock/mask.js';
import type { SmartLockDriver } from '../../drivers/smartlock/driver.js';
import { GatehouseError } from '../core/errors.js';
import { defineCommand, type CommandDefinition } from '../commands/types.js';

const IsoTime = z.iso.datetime({ offset: true });

export const OpenArgs = z.object({ lock: Id, seconds: z.number().int().min(1).max(30).optional() }).strict();

export const SetCredentialArgs = z
  .object({
    lock: Id,
    credentialId: CredentialId,
    kind: z.enum(['card', 'pin']),
    value: z.string(),
    validFrom: IsoTime.optional(),
    validTo: IsoTime.optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const check = (a.kind === 'card' ? CardNumber : Pin).safeParse(a.value);
    if (!check.success) ctx.addIssue({ code: 'custom', path: ['value'], message: check.error.issues[0]?.message ?? 'invalid value' });
    if (a.validFrom && a.validTo && Date.parse(a.validTo) <= Date.parse(a.validFrom))
      ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'validTo must be after validFrom' });
  });

export const RevokeCredentialArgs = z.object({ lock: Id, credentialId: CredentialId }).strict();

export function lockCommands(driverFor: (lock: string) => SmartLockDriver | undefined): CommandDefinition[] {
  const driver = (lock: string): SmartLockDriver => {
    const d = driverFor(lock);
    if (!d) throw new GatehouseError('DEVICE_UNKNOWN', `no lock "${lock}" in the compound file`, { lock });
    return d;
  };
  return [
    defineCommand({
      name: 'lock.open',
      description: 'Opens a smart lock for a few seconds (remote open by the guard or the platform).',
      args: OpenArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args, ctx) {
        await driver(args.lock).open(args.seconds, { deadline: ctx.deadline });
        return { lock: args.lock, opened: true, ...(args.seconds !== undefined ? { seconds: args.seconds } : {}) };
      },
    }),
    defineCommand({
      name: 'lock.credential.set',
      description: 'Stores (or replaces) a card or PIN credential on one lock, with an optional validity window.',
      args: SetCredentialArgs,
      roles: ['platform', 'admin'],
      async handler(args, ctx) {
        await driver(args.lock).setCredential(args, { deadline: ctx.deadline });
        // The answer goes to the platform and the audit trail: never echo the value.
        return { lock: args.lock, credentialId: args.credentialId, kind: args.kind, credential: maskCredential(args.kind, args.value) };
      },
    }),
    defineCommand({
      name: 'lock.credential.revoke',
      description: 'Removes a credential from one lock; presenting it afterwards is denied as revoked.',
      args: RevokeCredentialArgs,
      roles: ['platform', 'admin'],
      async handler(args, ctx) {
        await driver(args.lock).revokeCredential(args.credentialId, { deadline: ctx.deadline });
        return { lock: args.lock, credentialId: args.credentialId, revoked: true };
      },
    }),
  ] as CommandDefinition[];
}
