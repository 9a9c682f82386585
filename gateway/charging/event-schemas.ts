/**
 * E-bike charging cabinet events.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Id } from '../events/common-schemas.js';
import { eventList } from '../events/declare.js';

export const CabinetPort = z.int().min(1).max(24).meta({ id: 'CabinetPort' });
export const ChargingAlarmData = z
  .strictObject({
    cabinet: Id,
    active: z
      .boolean()
      .meta({
        description:
          '`true` when raised (the interlock acted), `false` when its condition is gone; the alarm stays for a human to acknowledge.',
      }),
    priority: z.enum(['critical', 'high']),
    port: CabinetPort.optional(),
    cause: z.enum(['smoke', 'over_temperature']).meta({ description: 'For `charging.fire`.' }).optional(),
    value: z
      .number()
      .meta({
        description: 'The measurement behind it: °C, A, the vendor fault code, 1 for smoke, or the blind polls for `cabinet.unsupervised`.',
      })
      .optional(),
  })
  .meta({ id: 'ChargingAlarmData' });
export const ChargingSessionStartedData = z
  .strictObject({
    cabinet: Id,
    port: CabinetPort,
    sessionId: z.int().min(1).max(4294967295),
    meterStartWh: z.int().min(0),
    startedBy: z
      .enum(['local', 'uplink', 'embedded-broker', 'console', 'cli'])
      .meta({ description: '`local` when the cabinet started it itself; otherwise how the start command arrived.' }),
    principal: z.string().meta({ description: 'Who sent the start command; never a secret.' }).optional(),
    powerLimitW: z.int().min(0).optional(),
    maxDurationMin: z.int().min(1).optional(),
  })
  .meta({ id: 'ChargingSessionStartedData' });
export const ChargingMeterData = z
  .strictObject({
    cabinet: Id,
    port: CabinetPort,
    sessionId: z.int().min(1),
    meterWh: z.int().min(0).meta({ description: "The port's 32-bit energy register." }),
    energyWh: z.int().min(0).meta({ description: 'Energy of this session so far (meter deltas; a meter reset is not counted as energy).' }),
    durationS: z.int().min(0),
    powerW: z.number().optional(),
    currentA: z.number().optional(),
    voltageV: z.number().optional(),
    temperatureC: z.number().optional(),
  })
  .meta({ id: 'ChargingMeterData' });
export const ChargingSessionStoppedData = z
  .strictObject({
    cabinet: Id,
    port: CabinetPort,
    sessionId: z.int().min(1),
    meterStartWh: z.int().min(0),
    meterStopWh: z.int().min(0),
    energyWh: z.int().min(0),
    durationS: z.int().min(0),
    reason: z.enum([
      'full',
      'remote',
      'unplugged',
      'over_temperature',
      'over_current',
      'smoke',
      'unsupervised',
      'mains_loss',
      'max_duration',
      'fault',
      'local',
      'reboot',
    ]),
  })
  .meta({ id: 'ChargingSessionStoppedData' });
export const ChargingMainsData = z
  .strictObject({ cabinet: Id, voltage: z.number().min(0).meta({ description: 'Mains RMS voltage read, V.' }) })
  .meta({ id: 'ChargingMainsData' });
export const ChargingResetData = z
  .strictObject({
    cabinet: Id,
    cause: z
      .enum(['smoke', 'over_temperature', 'unsupervised'])
      .nullable()
      .meta({ description: 'The latch released (null when only the contactor was off).' }),
    reason: z.string().max(200),
    principal: z.string().meta({ description: 'Who sent charging.reset; never a secret.' }),
    via: z.enum(['uplink', 'embedded-broker', 'console', 'cli']),
  })
  .meta({ id: 'ChargingResetData' });
export const DeviceProtocolFaultData = z
  .strictObject({
    family: z.enum(['cabinet']),
    code: z.literal('DEVICE_PROTOCOL'),
    field: z
      .string()
      .meta({
        description:
          'The field: `smoke`, `temperature`, `mainsPresent`, `powerOn`, `doorOpen`, `fanOn`, `port<n>.state`, `port<n>.temperature`, or `poll` for a refused read.',
      }),
    register: z
      .string()
      .regex(/^0x[0-9A-F]{4}$/)
      .meta({ description: 'Protocol address of the register (or of the first register of the refused read).' }),
    raw: z.int().min(0).max(65535).meta({ description: 'The raw register value.' }).optional(),
    modbusCode: z.int().meta({ description: 'The Modbus exception of a refused read.' }).optional(),
    port: CabinetPort.optional(),
    safety: z.boolean().meta({ description: 'A field the interlocks need: while unknown, polls count towards `cabinet.unsupervised`.' }),
    message: z.string(),
    repeats: z.int().min(0).meta({ description: 'Polls that repeated the same fault since the last report.' }),
  })
  .meta({ id: 'DeviceProtocolFaultData' });
export const DeviceReplacedData = z
  .strictObject({
    family: z.enum(['cabinet']),
    oldSerial: z.string(),
    newSerial: z.string(),
    vendor: z.string().optional(),
    model: z.string().optional(),
    firmware: z.string().optional(),
  })
  .meta({ id: 'DeviceReplacedData' });

const ChargingFireEvent = ChargingAlarmData;
const ChargingPortOverTemperatureEvent = ChargingAlarmData;
const ChargingPortOverCurrentEvent = ChargingAlarmData;
const ChargingPortFaultEvent = ChargingAlarmData;
const CabinetUnsupervisedEvent = ChargingAlarmData;
const ChargingSessionStartedEvent = ChargingSessionStartedData;
const ChargingMeterEvent = ChargingMeterData;
const ChargingSessionStoppedEvent = ChargingSessionStoppedData;
const ChargingMainsLostEvent = ChargingMainsData;
const ChargingMainsRestoredEvent = ChargingMainsData;
const ChargingResetEvent = ChargingResetData;
const DeviceProtocolFaultEvent = DeviceProtocolFaultData;
const DeviceReplacedEvent = DeviceReplacedData;

export const CHARGING_EVENTS = eventList([
  {
    type: 'charging.fire',
    class: 'alarm',
    data: ChargingFireEvent,
    description: 'Smoke or over-temperature in a cabinet; every port cut (critical)',
    examples: [
      {
        name: 'smoke',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4A',
          seq: 19000,
          ts: '2026-11-21T22:00:00.000Z',
          clock: 'synced',
          type: 'charging.fire',
          source: { device: 'cab-1' },
          data: { cabinet: 'cab-1', active: true, priority: 'critical', cause: 'smoke', value: 1 },
        },
      },
    ],
  },
  {
    type: 'charging.port_over_temperature',
    class: 'alarm',
    data: ChargingPortOverTemperatureEvent,
    description: 'A port too hot; the port was stopped',
    examples: [
      {
        name: 'hot',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4B',
          seq: 19001,
          ts: '2026-11-21T22:01:00.000Z',
          clock: 'synced',
          type: 'charging.port_over_temperature',
          source: { device: 'cab-1', point: 'port-4' },
          data: { cabinet: 'cab-1', active: true, priority: 'high', port: 4, value: 61.5 },
        },
      },
    ],
  },
  {
    type: 'charging.port_over_current',
    class: 'alarm',
    data: ChargingPortOverCurrentEvent,
    description: 'A port drawing too much current; the port was stopped',
    examples: [
      {
        name: 'short',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4C',
          seq: 19002,
          ts: '2026-11-21T22:02:00.000Z',
          clock: 'synced',
          type: 'charging.port_over_current',
          source: { device: 'cab-1', point: 'port-2' },
          data: { cabinet: 'cab-1', active: true, priority: 'high', port: 2, value: 25 },
        },
      },
    ],
  },
  {
    type: 'charging.port_fault',
    class: 'alarm',
    data: ChargingPortFaultEvent,
    description: 'A port in fault during a session; the port was stopped',
    examples: [
      {
        name: 'fault',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4D',
          seq: 19003,
          ts: '2026-11-21T22:03:00.000Z',
          clock: 'synced',
          type: 'charging.port_fault',
          source: { device: 'cab-1', point: 'port-3' },
          data: { cabinet: 'cab-1', active: true, priority: 'high', port: 3, value: 2 },
        },
      },
    ],
  },
  {
    type: 'cabinet.unsupervised',
    class: 'alarm',
    data: CabinetUnsupervisedEvent,
    description:
      "Raised (`active: true`, `value` = polls in a row) when smoke, cabinet temperature, mains or a port's current/temperature stayed unknown; with `charging.safety.unsupervisedPolicy: cut` (the default) the cabinet's power is cut and latched (`latched: unsupervised`) until `charging.reset`. Cleared (`active: false`) when every safety register reads right again; the latch stays.",
    title: "A cabinet's safety registers could not be read or decoded for unsupervisedAfterPolls polls (high)",
    examples: [
      {
        name: 'raised',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4K',
          seq: 19010,
          ts: '2026-11-21T22:10:00.000Z',
          clock: 'synced',
          type: 'cabinet.unsupervised',
          source: { device: 'cab-1' },
          data: { cabinet: 'cab-1', active: true, priority: 'high', value: 3 },
        },
      },
    ],
  },
  {
    type: 'charging.session_started',
    class: 'charging',
    data: ChargingSessionStartedEvent,
    description: 'A charging session started (by command or at the cabinet)',
    examples: [
      {
        name: 'remote',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4E',
          seq: 19004,
          ts: '2026-11-21T22:04:00.000Z',
          clock: 'synced',
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
        },
      },
    ],
  },
  {
    type: 'charging.meter',
    class: 'charging',
    data: ChargingMeterEvent,
    description: 'Meter values of a running session, every meterIntervalMs',
    examples: [
      {
        name: 'sample',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4F',
          seq: 19005,
          ts: '2026-11-21T22:05:00.000Z',
          clock: 'synced',
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
        },
      },
    ],
  },
  {
    type: 'charging.session_stopped',
    class: 'charging',
    data: ChargingSessionStoppedEvent,
    description: 'A charging session ended, with its energy, duration and reason',
    examples: [
      {
        name: 'full',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4G',
          seq: 19006,
          ts: '2026-11-21T22:06:00.000Z',
          clock: 'synced',
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
        },
      },
    ],
  },
  {
    type: 'charging.mains_lost',
    class: 'charging',
    data: ChargingMainsLostEvent,
    description: 'A cabinet lost its mains supply',
    examples: [
      {
        name: 'lost',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4H',
          seq: 19007,
          ts: '2026-11-21T22:07:00.000Z',
          clock: 'synced',
          type: 'charging.mains_lost',
          source: { device: 'cab-1' },
          data: { cabinet: 'cab-1', voltage: 0 },
        },
      },
    ],
  },
  {
    type: 'charging.mains_restored',
    class: 'charging',
    data: ChargingMainsRestoredEvent,
    description: 'A cabinet has its mains supply back',
    examples: [
      {
        name: 'restored',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4J',
          seq: 19008,
          ts: '2026-11-21T22:08:00.000Z',
          clock: 'synced',
          type: 'charging.mains_restored',
          source: { device: 'cab-1' },
          data: { cabinet: 'cab-1', voltage: 229.8 },
        },
      },
    ],
  },
  {
    type: 'charging.reset',
    class: 'charging',
    data: ChargingResetEvent,
    description: 'An operator released a latched cabinet (charging.reset) and its power was switched back on',
    examples: [
      {
        name: 'afterSmoke',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4Q',
          seq: 19011,
          ts: '2026-11-21T23:10:00.000Z',
          clock: 'synced',
          type: 'charging.reset',
          source: { device: 'cab-1' },
          data: { cabinet: 'cab-1', cause: 'smoke', reason: 'fire brigade checked the cabinet', principal: 'platform', via: 'uplink' },
        },
      },
    ],
  },
  {
    type: 'device.protocol_fault',
    class: 'device',
    data: DeviceProtocolFaultEvent,
    description:
      "Modbus cabinets: one register outside the register map (a boolean holding 2, an unknown port state code, a temperature sensor's fault value) or a read the cabinet refused (`field: poll`, with the Modbus exception). Only that field is invalid; the rest of the reading is used. The first occurrence per field is reported at once, then at most every 10 minutes with `repeats` = polls that repeated it since.",
    title: 'A device sent a value its protocol cannot carry (rate-limited per field)',
    examples: [
      {
        name: 'portState',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4M',
          seq: 19012,
          ts: '2026-11-21T22:11:00.000Z',
          clock: 'synced',
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
        },
      },
      {
        name: 'refusedRead',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4N',
          seq: 19013,
          ts: '2026-11-21T22:12:00.000Z',
          clock: 'synced',
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
        },
      },
    ],
  },
  {
    type: 'device.replaced',
    class: 'device',
    data: DeviceReplacedEvent,
    description: "Another unit (a different serial number) answers on a device's address",
    examples: [
      {
        name: 'cabinet',
        payload: {
          v: 1,
          id: '01JD3M6R9Q8Z4X7V2N5T0B1C4P',
          seq: 19014,
          ts: '2026-11-21T22:13:00.000Z',
          clock: 'synced',
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
        },
      },
    ],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'charging.fire': z.input<typeof ChargingFireEvent>;
    'charging.port_over_temperature': z.input<typeof ChargingPortOverTemperatureEvent>;
    'charging.port_over_current': z.input<typeof ChargingPortOverCurrentEvent>;
    'charging.port_fault': z.input<typeof ChargingPortFaultEvent>;
    'cabinet.unsupervised': z.input<typeof CabinetUnsupervisedEvent>;
    'charging.session_started': z.input<typeof ChargingSessionStartedEvent>;
    'charging.meter': z.input<typeof ChargingMeterEvent>;
    'charging.session_stopped': z.input<typeof ChargingSessionStoppedEvent>;
    'charging.mains_lost': z.input<typeof ChargingMainsLostEvent>;
    'charging.mains_restored': z.input<typeof ChargingMainsRestoredEvent>;
    'charging.reset': z.input<typeof ChargingResetEvent>;
    'device.protocol_fault': z.input<typeof DeviceProtocolFaultEvent>;
    'device.replaced': z.input<typeof DeviceReplacedEvent>;
  }
}
