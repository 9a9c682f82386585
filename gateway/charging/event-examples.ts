/**
 * Examples of the events declared in event-schemas.ts: whole envelopes as published, shown
 * in docs/asyncapi.yaml and checked against their schemas by tests/unit/asyncapi.test.ts and
 * tests/unit/event-types.test.ts.
 */
import { example, type EventExample } from '../events/declare.js';

export const EXAMPLES: Record<string, EventExample[]> = {
  'charging.fire': [
    example('smoke', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4A',
      seq: 19000,
      ts: '2026-11-21T22:00:00.000Z',
      type: 'charging.fire',
      source: { device: 'cab-1' },
      data: { cabinet: 'cab-1', active: true, priority: 'critical', cause: 'smoke', value: 1 },
    }),
  ],
  'charging.port_over_temperature': [
    example('hot', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4B',
      seq: 19001,
      ts: '2026-11-21T22:01:00.000Z',
      type: 'charging.port_over_temperature',
      source: { device: 'cab-1', point: 'port-4' },
      data: { cabinet: 'cab-1', active: true, priority: 'high', port: 4, value: 61.5 },
    }),
  ],
  'charging.port_over_current': [
    example('short', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4C',
      seq: 19002,
      ts: '2026-11-21T22:02:00.000Z',
      type: 'charging.port_over_current',
      source: { device: 'cab-1', point: 'port-2' },
      data: { cabinet: 'cab-1', active: true, priority: 'high', port: 2, value: 25 },
    }),
  ],
  'charging.port_fault': [
    example('fault', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4D',
      seq: 19003,
      ts: '2026-11-21T22:03:00.000Z',
      type: 'charging.port_fault',
      source: { device: 'cab-1', point: 'port-3' },
      data: { cabinet: 'cab-1', active: true, priority: 'high', port: 3, value: 2 },
    }),
  ],
  'cabinet.unsupervised': [
    example('raised', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4K',
      seq: 19010,
      ts: '2026-11-21T22:10:00.000Z',
      type: 'cabinet.unsupervised',
      source: { device: 'cab-1' },
      data: { cabinet: 'cab-1', active: true, priority: 'high', value: 3 },
    }),
  ],
  'charging.session_started': [
    example('remote', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4E',
      seq: 19004,
      ts: '2026-11-21T22:04:00.000Z',
      type: 'charging.session_started',
      source: { device: 'cab-1', point: 'port-1' },
      data: {
        cabinet: 'cab-1',
        port: 1,
        sessionId: 4242,
        meterStartWh: 1520,
        startedBy: 'uplink',
        principal: 'platform',
        powerLimitW: 300,
        maxDurationMin: 480,
      },
    }),
  ],
  'charging.meter': [
    example('sample', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4F',
      seq: 19005,
      ts: '2026-11-21T22:05:00.000Z',
      type: 'charging.meter',
      source: { device: 'cab-1', point: 'port-1' },
      data: {
        cabinet: 'cab-1',
        port: 1,
        sessionId: 4242,
        meterWh: 1610,
        energyWh: 90,
        durationS: 1800,
        powerW: 189,
        currentA: 3.5,
        voltageV: 54.1,
        temperatureC: 25.6,
      },
    }),
  ],
  'charging.session_stopped': [
    example('full', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4G',
      seq: 19006,
      ts: '2026-11-21T22:06:00.000Z',
      type: 'charging.session_stopped',
      source: { device: 'cab-1', point: 'port-1' },
      data: {
        cabinet: 'cab-1',
        port: 1,
        sessionId: 4242,
        meterStartWh: 1520,
        meterStopWh: 1900,
        energyWh: 380,
        durationS: 7260,
        reason: 'full',
      },
    }),
  ],
  'charging.mains_lost': [
    example('lost', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4H',
      seq: 19007,
      ts: '2026-11-21T22:07:00.000Z',
      type: 'charging.mains_lost',
      source: { device: 'cab-1' },
      data: { cabinet: 'cab-1', voltage: 0 },
    }),
  ],
  'charging.mains_restored': [
    example('restored', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4J',
      seq: 19008,
      ts: '2026-11-21T22:08:00.000Z',
      type: 'charging.mains_restored',
      source: { device: 'cab-1' },
      data: { cabinet: 'cab-1', voltage: 229.8 },
    }),
  ],
  'charging.reset': [
    example('afterSmoke', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4Q',
      seq: 19011,
      ts: '2026-11-21T23:10:00.000Z',
      type: 'charging.reset',
      source: { device: 'cab-1' },
      data: { cabinet: 'cab-1', cause: 'smoke', reason: 'fire brigade checked the cabinet', principal: 'platform', via: 'uplink' },
    }),
  ],
  'device.protocol_fault': [
    example('portState', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4M',
      seq: 19012,
      ts: '2026-11-21T22:11:00.000Z',
      type: 'device.protocol_fault',
      source: { device: 'cab-1', point: 'port-2' },
      data: {
        family: 'cabinet',
        code: 'DEVICE_PROTOCOL',
        field: 'port2.state',
        register: '0x0110',
        raw: 9,
        port: 2,
        safety: false,
        message: 'unknown state code 9',
        repeats: 0,
      },
    }),
    example('refusedRead', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4N',
      seq: 19013,
      ts: '2026-11-21T22:12:00.000Z',
      type: 'device.protocol_fault',
      source: { device: 'cab-1' },
      data: {
        family: 'cabinet',
        code: 'DEVICE_PROTOCOL',
        field: 'poll',
        register: '0x00F0',
        modbusCode: 4,
        safety: true,
        message: 'unit 1 answered with Modbus exception 4',
        repeats: 0,
      },
    }),
  ],
  'device.replaced': [
    example('cabinet', {
      id: '01JD3M6R9Q8Z4X7V2N5T0B1C4P',
      seq: 19014,
      ts: '2026-11-21T22:13:00.000Z',
      type: 'device.replaced',
      source: { device: 'cab-1' },
      data: {
        family: 'cabinet',
        oldSerial: 'EBC12-00017',
        newSerial: 'EBC12-00342',
        vendor: 'ACME',
        model: 'EBC-12',
        firmware: '2.4.1',
      },
    }),
  ],
};
