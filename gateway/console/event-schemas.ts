/**
 * The guard console audit (logins, user changes).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { EXAMPLES } from './event-examples.js';
import { eventList } from '../events/declare.js';

export const ConsoleLoginData = z
  .strictObject({
    user: z.string().max(64).meta({ description: 'The username as typed (cut to 64 characters).' }),
    ok: z.boolean(),
    reason: z
      .enum(['unknown-user', 'wrong-password', 'disabled', 'locked-out', 'delayed', 'busy'])
      .meta({
        description:
          'locked-out: the address is throttled; delayed: the account waits out its delay after repeated failures; busy: too many password checks at once. Refusals are recorded at most once a minute per address and reason.',
      })
      .optional(),
    address: z.string().meta({ description: 'The remote address of the browser.' }),
  })
  // The document's if/then/else below, for zod's own parse (toJSONSchema leaves refinements out).
  .refine((d) => (d.ok ? d.reason === undefined : d.reason !== undefined), { message: 'reason is given exactly when ok is false' })
  .meta({ if: { properties: { ok: { const: false } } }, then: { required: ['reason'] }, else: { not: { required: ['reason'] } } })
  .meta({ id: 'ConsoleLoginData' });
export const ConsoleUserData = z
  .strictObject({
    action: z.enum(['created', 'disabled', 'password']),
    user: z.string().min(1).max(64),
    role: z.enum(['guard', 'installer', 'admin']).optional(),
    by: z.string().meta({
      description: 'The administrator who did it, `setup` for the one-time setup token, or `cli` for `gatehouse user` on the box.',
    }),
  })
  .meta({ id: 'ConsoleUserData' });

export const CONSOLE_EVENTS = eventList([
  {
    type: 'console.login',
    class: 'system',
    data: ConsoleLoginData,
    description:
      'Every login to the local console, successful or not, and attempts refused by the throttling (at most one a minute per address and reason). `reason` is for the audit only (the person at the console always sees the same answer for an unknown user, a wrong password and a disabled account). Never carries the password.',
    title: 'A console login attempt',
    examples: EXAMPLES['console.login'],
  },
  {
    type: 'console.user',
    class: 'system',
    data: ConsoleUserData,
    description:
      "An administrator (or the one-time setup token, `by: setup`) created a console user, disabled one or changed a password. `gatehouse user` on the box goes through the running daemon's control socket and is recorded here with `by: cli`; run while the daemon is stopped it writes the database directly and no event is recorded (the CLI says so).",
    title: 'A console account changed through the console or `gatehouse user`',
    examples: EXAMPLES['console.user'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'console.login': z.input<typeof ConsoleLoginData>;
    'console.user': z.input<typeof ConsoleUserData>;
  }
}
