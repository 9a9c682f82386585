/**
 * What the uplink reports about itself: its client certificate running out (cert-expiry.ts).
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Timestamp } from '../events/common-schemas.js';
import { eventList, example } from '../events/declare.js';

export const CertificateExpiringData = z
  .strictObject({
    subject: z.string().meta({ description: 'The certificate subject, e.g. `O=Gatehouse, OU=maple-court, CN=maple-court/gw-1`.' }),
    notAfter: Timestamp,
    daysLeft: z.int().meta({ description: 'Whole days until notAfter (negative once expired).' }),
    stage: z.enum(['soon', 'alarm', 'expired']).meta({
      description: '`soon` within 30 days, `alarm` within 7 (the alarm `uplink.certificate_expiring` is raised), `expired`.',
    }),
    file: z.string().meta({ description: 'The certificate file on the box.' }),
  })
  .meta({ id: 'CertificateExpiringData' });

export const UPLINK_EVENTS = eventList([
  {
    type: 'uplink.certificate_expiring',
    class: 'system',
    data: CertificateExpiringData,
    title: "The box's uplink certificate is running out",
    description:
      'Recorded when the certificate enters the last 30 days, again at 7 days and at expiry (and at each start while it is within them). Renew with `gatehouse cert request` and `gatehouse cert install` (README, "Per-box certificates").',
    examples: [
      example('soon', {
        id: '01JD3M6R9Q8Z4X7V2N5T0B1C4A',
        seq: 2210,
        ts: '2026-11-21T20:00:00.000Z',
        type: 'uplink.certificate_expiring',
        source: { device: 'gateway', point: 'uplink' },
        data: {
          subject: 'O=Gatehouse, OU=maple-court, CN=maple-court/gw-1',
          notAfter: '2026-12-20T12:00:00.000Z',
          daysLeft: 28,
          stage: 'soon',
          file: '/var/lib/gatehouse/uplink/box.crt',
        },
      }),
    ],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'uplink.certificate_expiring': z.input<typeof CertificateExpiringData>;
  }
}
