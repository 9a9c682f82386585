/**
 * The gateway lifecycle (started, stopping, a component failed).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { eventList } from './declare.js';

export const GatewayLifecycleData = z
  .strictObject({
    version: z.string().min(1),
    failed: z.array(z.string()).meta({ description: 'Components that could not start (gateway.started only).' }).optional(),
  })
  .meta({ id: 'GatewayLifecycleData' });
export const ComponentFailedData = z.strictObject({ component: z.string().min(1), error: z.string() }).meta({ id: 'ComponentFailedData' });

const GatewayStartedEvent = GatewayLifecycleData;
const GatewayStoppingEvent = GatewayLifecycleData;
const ComponentFailedEvent = ComponentFailedData;

export const SYSTEM_EVENTS = eventList([
  {
    type: 'gateway.started',
    class: 'system',
    data: GatewayStartedEvent,
    description: 'The gateway started',
    examples: [
      {
        name: 'started',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C3S',
          seq: 1,
          ts: '2026-11-21T20:00:00.000Z',
          clock: 'unsynced',
          type: 'gateway.started',
          source: { device: 'gateway' },
          data: { version: '0.1.0', failed: [] },
        },
      },
    ],
  },
  {
    type: 'gateway.stopping',
    class: 'system',
    data: GatewayStoppingEvent,
    description: 'The gateway is stopping cleanly',
    examples: [
      {
        name: 'stopping',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C3T',
          seq: 18353,
          ts: '2026-11-21T22:00:00.000Z',
          clock: 'synced',
          type: 'gateway.stopping',
          source: { device: 'gateway' },
          data: { version: '0.1.0' },
        },
      },
    ],
  },
  {
    type: 'component.failed',
    class: 'system',
    data: ComponentFailedEvent,
    description: 'The rest of the gateway keeps running; `source.point` names the component.',
    title: 'A gateway component could not start',
    examples: [
      {
        name: 'broker',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C3V',
          seq: 2,
          ts: '2026-11-21T20:00:00.000Z',
          clock: 'unsynced',
          type: 'component.failed',
          source: { device: 'gateway', point: 'broker' },
          data: { component: 'broker', error: 'listen EADDRINUSE: address already in use 127.0.0.1:1883' },
        },
      },
    ],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'gateway.started': z.input<typeof GatewayStartedEvent>;
    'gateway.stopping': z.input<typeof GatewayStoppingEvent>;
    'component.failed': z.input<typeof ComponentFailedEvent>;
  }
}
