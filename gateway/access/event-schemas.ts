/**
 * Access events: decisions of locks and OSDP doors, door movements, reader alarms, credential sync.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { AlarmPriority } from '../alarms/event-schemas.js';
import { Id } from '../events/common-schemas.js';
import { AccessDeniedData, AccessGrantedData, LockRef } from '../locks/event-schemas.js';
import { EXAMPLES } from './event-examples.js';
import { eventList } from '../events/declare.js';

export const DoorAlarmData = z
  .strictObject({
    door: Id,
    active: z.boolean().meta({ description: '`true` when raised, `false` when cleared.' }),
    priority: AlarmPriority,
  })
  .meta({ id: 'DoorAlarmData' });
export const DoorHeldOpenData = z
  .strictObject({
    door: Id,
    active: z.boolean().meta({ description: '`true` when raised, `false` when cleared.' }),
    priority: AlarmPriority,
    openMs: z.int().min(0).meta({ description: 'How long the door had been open when the alarm was raised (raise only).' }).optional(),
  })
  .meta({ id: 'DoorHeldOpenData' });
export const ReaderTamperData = z
  .strictObject({
    reader: Id,
    door: Id.meta({ description: 'The door the reader reads for, if any.' }).optional(),
    active: z.boolean().meta({ description: '`true` when raised, `false` when cleared.' }),
    priority: AlarmPriority,
  })
  .meta({ id: 'ReaderTamperData' });
export const ReaderOfflineAlarmData = z
  .strictObject({
    reader: Id,
    door: Id.meta({ description: 'The door the reader reads for, if any.' }).optional(),
    active: z.boolean().meta({ description: '`true` when raised, `false` when cleared (the reader is back).' }),
    priority: AlarmPriority,
    reason: z.string().max(200).meta({ description: 'Why the reader went offline (raise only).' }).optional(),
  })
  .meta({ id: 'ReaderOfflineAlarmData' });
export const AccessFireUnlockData = z
  .strictObject({
    active: z.boolean().meta({ description: '`true` when a fire input became active, `false` when none is active any more.' }),
    priority: AlarmPriority,
  })
  .meta({ id: 'AccessFireUnlockData' });
export const DoorAccessMethod = z.enum(['card', 'pin', 'card+pin']).meta({ id: 'DoorAccessMethod' });
export const DoorMaskedCredential = z
  .string()
  .regex(/^\*{4}([0-9A-F]{4})?$/)
  .meta({
    id: 'DoorMaskedCredential',
    description:
      '`****` and the last four hex digits of a card of 8 or more digits, else `****` (PINs, short cards). Never the card or PIN.',
  });
export const CredentialId = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
  .meta({ id: 'CredentialId' });
export const AntiPassbackInfo = z.strictObject({ area: Id, mode: z.enum(['soft']) }).meta({
  id: 'AntiPassbackInfo',
  description:
    'On a grant only: the credential broke the rule of a `soft` anti-passback area, which grants and reports. A `hard` area denies with reason `anti_passback` instead (without this field).',
});
export const DoorAccessGrantedData = z
  .strictObject({
    door: Id,
    reader: Id,
    direction: z.enum(['in', 'out']).meta({ description: '`in` from the entry reader, `out` from the exit reader.' }),
    method: DoorAccessMethod,
    credential: DoorMaskedCredential,
    credentialId: CredentialId.optional(),
    offline: z.boolean().meta({ description: 'The uplink was down when the door decided (the door never waits on it).' }),
    antiPassback: AntiPassbackInfo.optional(),
    by: z.literal('gateway').meta({ description: 'The gateway decided from its local credential store.' }),
  })
  .meta({ description: 'A decision the gateway took for a door with OSDP readers.' })
  .meta({ id: 'DoorAccessGrantedData' });
export const DoorDenyReason = z
  .enum([
    'unknown',
    'revoked',
    'not_yet_valid',
    'expired',
    'wrong_door',
    'outside_schedule',
    'pin_required',
    'pin_locked_out',
    'wrong_pin',
    'anti_passback',
  ])
  .meta({
    id: 'DoorDenyReason',
    description:
      "Why the gateway refused: `unknown` (no such card or PIN), `revoked`, `not_yet_valid`\n(before validFrom), `expired` (after validTo), `wrong_door` (not among the\ncredential's doors or door groups), `outside_schedule`, `pin_required` (card+pin and\nno PIN within the door's pinTimeoutMs), `pin_locked_out` (too many wrong PINs in a\nrow), `wrong_pin`, `anti_passback` (hard anti-passback area).\n",
  });
export const DoorAccessDeniedData = z
  .strictObject({
    door: Id,
    reader: Id,
    direction: z.enum(['in', 'out']),
    method: DoorAccessMethod,
    credential: DoorMaskedCredential,
    credentialId: CredentialId.meta({ description: 'Only when the card or PIN matched a credential.' }).optional(),
    reason: DoorDenyReason,
    offline: z.boolean(),
    by: z.literal('gateway'),
  })
  .meta({ description: 'A refusal the gateway decided for a door with OSDP readers.' })
  .meta({ id: 'DoorAccessDeniedData' });
export const DoorOpenedData = z
  .strictObject({
    door: Id,
    authorised: z
      .boolean()
      .meta({ description: 'The door was unlocked (grant, exit button, remote open, mode unlocked or fire) when it opened.' }),
  })
  .meta({ id: 'DoorOpenedData' });
export const DoorClosedData = z
  .strictObject({ door: Id, openMs: z.int().min(0).meta({ description: 'How long the door was open.' }) })
  .meta({ id: 'DoorClosedData' });
export const DoorRef = z.strictObject({ door: Id }).meta({ id: 'DoorRef' });
export const DoorLockMode = z.enum(['normal', 'unlocked', 'fire']).meta({ id: 'DoorLockMode' });
export const DoorModeData = z.strictObject({ door: Id, mode: DoorLockMode }).meta({ id: 'DoorModeData' });
export const ReaderSecureFailedData = z.strictObject({ reader: Id, reason: z.string().max(200) }).meta({ id: 'ReaderSecureFailedData' });
export const ReaderRef = z.strictObject({ reader: Id }).meta({ id: 'ReaderRef' });
export const AccessCredentialsSyncedData = z
  .strictObject({
    kind: z.enum(['snapshot', 'delta']),
    version: z.int().min(1).meta({ description: 'The credential version now held.' }),
    count: z.int().min(0).meta({ description: 'Active (not revoked) credentials.' }),
  })
  .meta({ id: 'AccessCredentialsSyncedData' });

const AccessGrantedEvent = z.xor([AccessGrantedData, DoorAccessGrantedData]);
const AccessDeniedEvent = z.xor([AccessDeniedData, DoorAccessDeniedData]);
const DoorOpenedEvent = z.xor([LockRef, DoorOpenedData]);
const DoorClosedEvent = z.xor([LockRef, DoorClosedData]);

export const ACCESS_EVENTS = eventList([
  {
    type: 'door.forced',
    class: 'alarm',
    data: DoorAlarmData,
    description:
      'Raised (`active: true`) when the contact opens with the lock relay off, no momentary unlock running and the door in mode normal; cleared (`active: false`) when the door closes or is unlocked.',
    title: 'A door opened while locked and nobody asked to leave (priority high)',
    examples: EXAMPLES['door.forced'],
  },
  {
    type: 'door.held_open',
    class: 'alarm',
    data: DoorHeldOpenData,
    description:
      'Raised (`active: true`, with `openMs`) when a legitimately opened door in mode normal is still open after `heldOpenMs`; cleared (`active: false`, no `openMs`) when it closes or is unlocked. A forced door does not also raise held open.',
    title: 'A door stayed open past its heldOpenMs (priority medium)',
    examples: EXAMPLES['door.held_open'],
  },
  {
    type: 'reader.tamper',
    class: 'alarm',
    data: ReaderTamperData,
    description:
      '`active: true` when the reader reports tamper, `false` when it is restored; `door` is the door the reader serves, if any.',
    title: "An OSDP reader's tamper switch changed (priority high)",
    examples: EXAMPLES['reader.tamper'],
  },
  {
    type: 'reader.power_failure',
    class: 'alarm',
    data: ReaderTamperData,
    description:
      "From the power byte of the reader's local status (osdp_LSTATR): `active: true` when the reader reports a power failure, `false` when power is restored; `door` is the door the reader serves, if any. The reader still answers (it runs on its backup), but the lock it drives may lose power next.",
    title: 'An OSDP reader reports a power failure (priority medium)',
    examples: EXAMPLES['reader.power_failure'],
  },
  {
    type: 'reader.offline',
    class: 'alarm',
    data: ReaderOfflineAlarmData,
    description:
      "Raised (`active: true`, with the `reason`) together with `device.offline`; cleared (`active: false`) when the reader is back online. While the reader driving a door's lock is offline, `door.open` is refused.",
    title: 'An OSDP reader stopped answering (priority medium)',
    examples: EXAMPLES['reader.offline'],
  },
  {
    type: 'access.fire_unlock',
    class: 'alarm',
    data: AccessFireUnlockData,
    description:
      'Raised (`active: true`) when any configured fire input becomes active: every door with `fireUnlock` goes to mode `fire`. Cleared (`active: false`) when no fire input is active any more. `source.device` is the reader whose input changed.',
    title: 'A fire input changed; egress doors unlocked or back (priority critical)',
    examples: EXAMPLES['access.fire_unlock'],
  },
  {
    type: 'access.granted',
    class: 'access',
    data: AccessGrantedEvent,
    description:
      'Smart lock form: `by: lock`. Door form: `by: gateway`, `source.device` is the door and `source.point` the reader; the lock was commanded before the event was recorded.',
    title: 'A lock or a gateway-controlled door let someone in',
    examples: EXAMPLES['access.granted'],
  },
  {
    type: 'access.denied',
    class: 'access',
    data: AccessDeniedEvent,
    description:
      'Smart lock form: `by: lock`. Door form: `by: gateway`, always with a `reason`; `credentialId` only when the card or PIN matched a credential.',
    title: 'A lock or a gateway-controlled door refused someone',
    examples: EXAMPLES['access.denied'],
  },
  {
    type: 'door.opened',
    class: 'access',
    data: DoorOpenedEvent,
    description:
      'Smart lock form `{ lock }`; door form `{ door, authorised }`: `authorised` is false when nothing unlocked it (a `door.forced` alarm follows, except for the first contact reading after start-up).',
    title: 'A door opened',
    examples: EXAMPLES['door.opened'],
  },
  {
    type: 'door.closed',
    class: 'access',
    data: DoorClosedEvent,
    description:
      'Smart lock form `{ lock }`; door form `{ door, openMs }` (how long it was open). A granted door relocks as soon as it closes.',
    title: 'A door closed',
    examples: EXAMPLES['door.closed'],
  },
  {
    type: 'door.exit_request',
    class: 'access',
    data: DoorRef,
    description: 'The door is unlocked for its `unlockMs` (a momentary unlock, no credential); a stuck button opens it once.',
    title: "Someone pressed a door's exit button",
    examples: EXAMPLES['door.exit_request'],
  },
  {
    type: 'door.mode',
    class: 'access',
    data: DoorModeData,
    description:
      '`normal` (locked, credentials open it), `unlocked` (held unlocked by `door.unlock`) or `fire` (unlocked for egress while a fire input is active; the previous mode returns when it clears).',
    title: "A door's lock mode changed",
    examples: EXAMPLES['door.mode'],
  },
  {
    type: 'reader.secure_failed',
    class: 'device',
    data: ReaderSecureFailedData,
    description:
      'The reader stays offline (it is never used in clear). Usually a wrong key (`osdp.{reader}` secret) or a reader reset to install mode.',
    title: 'The secure channel to an OSDP reader could not be opened',
    examples: EXAMPLES['reader.secure_failed'],
  },
  {
    type: 'reader.key_set',
    class: 'system',
    data: ReaderRef,
    description:
      'A reader configured `secure: install` accepted a fresh key (KEYSET); the gateway keeps it in `osdp-keys.json` in its data directory. The key itself is never sent.',
    title: "The gateway installed a reader's own secure channel key",
    examples: EXAMPLES['reader.key_set'],
  },
  {
    type: 'access.credentials.synced',
    class: 'system',
    data: AccessCredentialsSyncedData,
    description:
      "`version` is now the compound's credential version and `count` its active credentials (the same figures as `state/access`).",
    title: 'A credential snapshot or delta was applied',
    examples: EXAMPLES['access.credentials.synced'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'door.forced': z.input<typeof DoorAlarmData>;
    'door.held_open': z.input<typeof DoorHeldOpenData>;
    'reader.tamper': z.input<typeof ReaderTamperData>;
    'reader.power_failure': z.input<typeof ReaderTamperData>;
    'reader.offline': z.input<typeof ReaderOfflineAlarmData>;
    'access.fire_unlock': z.input<typeof AccessFireUnlockData>;
    'access.granted': z.input<typeof AccessGrantedEvent>;
    'access.denied': z.input<typeof AccessDeniedEvent>;
    'door.opened': z.input<typeof DoorOpenedEvent>;
    'door.closed': z.input<typeof DoorClosedEvent>;
    'door.exit_request': z.input<typeof DoorRef>;
    'door.mode': z.input<typeof DoorModeData>;
    'reader.secure_failed': z.input<typeof ReaderSecureFailedData>;
    'reader.key_set': z.input<typeof ReaderRef>;
    'access.credentials.synced': z.input<typeof AccessCredentialsSyncedData>;
  }
}
