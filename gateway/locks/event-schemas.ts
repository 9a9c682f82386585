/**
 * Smart lock events (LAN MQTT locks).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Id } from '../events/common-schemas.js';
import { EXAMPLES } from './event-examples.js';
import { eventList } from '../events/declare.js';

export const LockTamperData = z.strictObject({ lock: Id, active: z.boolean() }).meta({ id: 'LockTamperData' });
export const LockMethod = z.enum(['card', 'pin', 'fingerprint', 'face', 'app', 'remote', 'key']).meta({ id: 'LockMethod' });
export const MaskedCredential = z
  .string()
  .regex(/^(none|\*{4}[0-9A-Za-z]{0,4})$/)
  .meta({
    id: 'MaskedCredential',
    description: '`none` (remote, key), `****` (PIN, biometrics, short cards) or `****` and the last four characters of a card.',
  });
export const AccessGrantedData = z
  .strictObject({
    lock: Id,
    method: LockMethod,
    credential: MaskedCredential,
    by: z.literal('lock').meta({ description: 'Who decided; `lock` for decisions the lock took itself.' }),
  })
  .meta({ id: 'AccessGrantedData' });
export const AccessDeniedData = z
  .strictObject({
    lock: Id,
    method: LockMethod,
    credential: MaskedCredential,
    reason: z.enum(['unknown', 'expired', 'not_yet_valid', 'revoked', 'wrong_pin', 'disabled', 'unknown_reason']).optional(),
    by: z.literal('lock'),
  })
  .meta({ id: 'AccessDeniedData' });
export const LockRef = z.strictObject({ lock: Id }).meta({ id: 'LockRef' });
export const LockBatteryLowData = z
  .strictObject({ lock: Id, level: z.int().min(0).max(100).meta({ description: 'Percent.' }) })
  .meta({ id: 'LockBatteryLowData' });

export const LOCK_EVENTS = eventList([
  {
    type: 'lock.tamper',
    class: 'alarm',
    data: LockTamperData,
    description: "`active: true` when the lock's tamper switch trips, `false` when it is restored.",
    title: 'Lock tamper switch changed',
    examples: EXAMPLES['lock.tamper'],
  },
  {
    type: 'lock.battery_low',
    class: 'device',
    data: LockBatteryLowData,
    description: "A lock's battery is low",
    examples: EXAMPLES['lock.battery_low'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'lock.tamper': z.input<typeof LockTamperData>;
    'lock.battery_low': z.input<typeof LockBatteryLowData>;
  }
}
