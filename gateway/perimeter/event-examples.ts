/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from '../events/declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'partition.armed': [
    example('bySchedule', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P01',
      seq: 21001,
      ts: '2026-11-21T22:00:00.005Z',
      type: 'partition.armed',
      source: { device: 'north' },
      data: { partition: 'north', by: 'schedule', notReady: [] },
    }),
    example('byGuardNotReady', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P02',
      seq: 21002,
      ts: '2026-11-21T22:05:00.000Z',
      type: 'partition.armed',
      source: { device: 'north' },
      data: { partition: 'north', by: 'guard-anna', notReady: ['north-beam-2'] },
    }),
  ],
  'partition.disarmed': [
    example('morning', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P03',
      seq: 21010,
      ts: '2026-11-22T06:00:00.005Z',
      type: 'partition.disarmed',
      source: { device: 'north' },
      data: { partition: 'north', by: 'schedule', notReady: [] },
    }),
  ],
  'zone.bypassed': [
    example('delivery', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P04',
      seq: 21020,
      ts: '2026-11-21T22:10:00.000Z',
      type: 'zone.bypassed',
      source: { device: 'north-beam-2' },
      data: { zone: 'north-beam-2', by: 'guard-anna', minutes: 30, until: '2026-11-21T22:40:00.000Z' },
    }),
  ],
  'zone.unbypassed': [
    example('expired', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P05',
      seq: 21030,
      ts: '2026-11-21T22:40:00.001Z',
      type: 'zone.unbypassed',
      source: { device: 'north-beam-2' },
      data: { zone: 'north-beam-2', by: 'expiry' },
    }),
    example('byGuard', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P06',
      seq: 21031,
      ts: '2026-11-21T22:20:00.000Z',
      type: 'zone.unbypassed',
      source: { device: 'north-beam-2' },
      data: { zone: 'north-beam-2', by: 'guard-anna' },
    }),
  ],
  'panel.opened': [
    example('user3', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P07',
      seq: 21040,
      ts: '2026-11-22T07:02:11.000Z',
      type: 'panel.opened',
      source: { device: 'panel-b7', point: 'area-1' },
      data: {
        account: 'B7A1',
        protocol: 'ADM-CID',
        code: 'E401',
        text: 'Open/close by user',
        area: 1,
        zone: null,
        seq: '0042',
        user: 3,
        panelTime: '2026-11-22T07:02:10.000Z',
      },
    }),
  ],
  'panel.closed': [
    example('sia', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P08',
      seq: 21041,
      ts: '2026-11-21T22:30:00.000Z',
      type: 'panel.closed',
      source: { device: 'panel-b7', point: 'area-1' },
      data: { account: 'B7A1', protocol: 'SIA-DCS', code: 'CL', text: 'Closing report', area: 1, zone: null, seq: '0043', user: 12 },
    }),
  ],
  'panel.bypassed': [
    example('zone7', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P09',
      seq: 21050,
      ts: '2026-11-21T22:31:00.000Z',
      type: 'panel.bypassed',
      source: { device: 'panel-b7', point: 'zone-7' },
      data: { account: 'B7A1', protocol: 'ADM-CID', code: 'E570', text: 'Zone bypass', area: 1, zone: 7, seq: '0044' },
    }),
  ],
  'panel.unbypassed': [
    example('zone7', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P10',
      seq: 21051,
      ts: '2026-11-22T06:00:00.000Z',
      type: 'panel.unbypassed',
      source: { device: 'panel-b7', point: 'zone-7' },
      data: { account: 'B7A1', protocol: 'SIA-DCS', code: 'BU', text: 'Burglary unbypass', area: 1, zone: 7, seq: '0051' },
    }),
  ],
  'panel.test': [
    example('periodic', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P11',
      seq: 21060,
      ts: '2026-11-21T23:00:00.000Z',
      type: 'panel.test',
      source: { device: 'panel-b7' },
      data: { account: 'B7A1', protocol: 'ADM-CID', code: 'E602', text: 'Periodic test', area: 0, zone: 0, seq: '0045' },
    }),
  ],
  'panel.event': [
    example('unknown', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P12',
      seq: 21070,
      ts: '2026-11-21T23:05:00.000Z',
      type: 'panel.event',
      source: { device: 'panel-b7', point: 'zone-3' },
      data: { account: 'B7A1', protocol: 'SIA-DCS', code: 'ZZ', text: 'SIA ZZ', area: 2, zone: 3, seq: '0046', note: 'vendor note' },
    }),
    example('powerUp', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1P13',
      seq: 21071,
      ts: '2026-11-21T23:06:00.000Z',
      type: 'panel.event',
      source: { device: 'panel-b7' },
      data: { account: 'B7A1', protocol: 'SIA-DCS', code: 'RR', text: 'Power up', area: null, zone: null, seq: '0047' },
    }),
    example(
      {
        name: 'textWithExtendedData',
        summary:
          'A SIA message of text alone (`#B7A1|AService visit]`) with extended data: no code is invented, the text is kept, `[M…]` and `[X…]`/`[Y…]` are named.',
      },
      {
        id: '01JD3M6R9Q8Z4X7V2N5T0B1P14',
        seq: 21072,
        ts: '2026-11-21T23:07:00.000Z',
        type: 'panel.event',
        source: { device: 'panel-b7' },
        data: {
          account: 'B7A1',
          protocol: 'SIA-DCS',
          code: '',
          text: 'Service visit',
          area: null,
          zone: null,
          seq: '0048',
          panelText: 'Service visit',
          extended: {
            raw: ['M0026B9E4268B', 'X8.5417E', 'YN47.3769'],
            mac: '0026B9E4268B',
            longitude: '8.5417E',
            longitudeDeg: 8.5417,
            latitude: 'N47.3769',
            latitudeDeg: 47.3769,
          },
        },
      },
    ),
  ],
};
