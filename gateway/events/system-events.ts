/**
 * The gateway lifecycle (started, stopping, a component failed).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { EXAMPLES } from './system-event-examples.js';
import { eventList } from './declare.js';

export const GatewayLifecycleData = z
  .strictObject({
    version: z.string().min(1),
    failed: z.array(z.string()).meta({ description: 'Components that could not start (gateway.started only).' }).optional(),
  })
  .meta({ id: 'GatewayLifecycleData' });
export const ComponentFailedData = z.strictObject({ component: z.string().min(1), error: z.string() }).meta({ id: 'ComponentFailedData' });

export const SYSTEM_EVENTS = eventList([
  {
    type: 'gateway.started',
    class: 'system',
    data: GatewayLifecycleData,
    description: 'The gateway started',
    examples: EXAMPLES['gateway.started'],
  },
  {
    type: 'gateway.stopping',
    class: 'system',
    data: GatewayLifecycleData,
    description: 'The gateway is stopping cleanly',
    examples: EXAMPLES['gateway.stopping'],
  },
  {
    type: 'component.failed',
    class: 'system',
    data: ComponentFailedData,
    description: 'The rest of the gateway keeps running; `source.point` names the component.',
    title: 'A gateway component could not start',
    examples: EXAMPLES['component.failed'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'gateway.started': z.input<typeof GatewayLifecycleData>;
    'gateway.stopping': z.input<typeof GatewayLifecycleData>;
    'component.failed': z.input<typeof ComponentFailedData>;
  }
}
