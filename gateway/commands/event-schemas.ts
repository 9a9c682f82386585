/**
 * The command audit (command.executed) and refusal flood control.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { ErrorCode, Timestamp } from '../events/common-schemas.js';
import { EXAMPLES } from './event-examples.js';
import { eventList } from '../events/declare.js';

export const Caller = z
  .strictObject({
    via: z.enum(['uplink', 'embedded-broker', 'console', 'cli']),
    role: z.enum(['platform', 'guard', 'installer', 'admin']),
    principal: z.string().meta({ description: 'User or MQTT account name; never a secret.' }),
  })
  .meta({ id: 'Caller' });
export const CommandExecutedData = z
  .strictObject({
    command: z.string().max(65).meta({ description: 'The command name (an unsafe name is cut to 64 characters and `…`).' }),
    id: z.string().max(128).nullable().meta({ description: 'The command id, null when it could not be read.' }),
    caller: Caller,
    ok: z.boolean(),
    error: ErrorCode.optional(),
    durationMs: z.int().min(0),
  })
  // The document's if/then/else below, for zod's own parse (toJSONSchema leaves refinements out).
  .refine((d) => (d.ok ? d.error === undefined : d.error !== undefined), { message: 'error is given exactly when ok is false' })
  .meta({ if: { properties: { ok: { const: false } } }, then: { required: ['error'] }, else: { not: { required: ['error'] } } })
  .meta({ id: 'CommandExecutedData' });
export const CommandRefusalsSuppressedData = z
  .strictObject({
    caller: Caller,
    count: z.int().min(1).meta({ description: 'Refusals not audited one by one in this minute.' }),
    unanswered: z.int().min(0).meta({ description: 'Of those, how many got no answer.' }),
    byCode: z.partialRecord(ErrorCode, z.int().min(1)),
    from: Timestamp,
    to: Timestamp,
  })
  .meta({ id: 'CommandRefusalsSuppressedData' });

export const COMMAND_EVENTS = eventList([
  {
    type: 'command.executed',
    class: 'system',
    data: CommandExecutedData,
    description:
      'Every command, run or refused, from the platform or the console. Never carries arguments or results (they may hold credentials).',
    title: 'Audit of one command',
    examples: EXAMPLES['command.executed'],
  },
  {
    type: 'command.refusals_suppressed',
    class: 'system',
    data: CommandRefusalsSuppressedData,
    description:
      'Past 20 refusals a minute from one caller, refusals are counted instead of audited one by one (and past 120 no longer answered); one summary per caller and minute.',
    title: 'A flood of refused commands, summarised',
    examples: EXAMPLES['command.refusals_suppressed'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'command.executed': z.input<typeof CommandExecutedData>;
    'command.refusals_suppressed': z.input<typeof CommandRefusalsSuppressedData>;
  }
}
