/**
 * Who may run the remote-configuration commands and what their arguments look like.
 */
import { z } from 'zod';
import { GatehouseError } from '../core/errors.js';
import type { Caller, Role } from '../commands/types.js';
import { SEED_VERSION } from './startup.js';

export const PLATFORM: readonly Role[] = ['platform'];
export const READERS: readonly Role[] = ['platform', 'installer', 'admin'];

export const ApplyArgs = z.strictObject({
  version: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$/, 'letters, digits and . _ : + - (at most 64), starting with a letter or digit')
    .refine((v) => v !== SEED_VERSION, `"${SEED_VERSION}" names the installer's file`),
  yaml: z.string().min(1),
});
export const SecretsArgs = z.strictObject({
  secrets: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/, 'a secret name: letters, digits and . _ -'),
      z.string().min(1).max(8192),
    )
    .refine((r) => Object.keys(r).length > 0, 'at least one secret'),
});

/**
 * Operators on the embedded broker have the platform's role for device commands, but a whole
 * configuration and the secrets are the district platform's alone: a local BMS account must
 * not be able to rewrite the box or read nothing yet replace every password.
 */
export function districtOnly(caller: Caller): void {
  if (caller.via !== 'uplink')
    throw new GatehouseError(
      'CMD_FORBIDDEN',
      `only the district platform (over the uplink) may change the configuration, not ${caller.via}`,
      {
        via: caller.via,
      },
    );
}
