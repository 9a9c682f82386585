/**
 * E-bike charging cabinet events.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';
import { Id } from '../events/common-schemas.js';
import { EXAMPLES } from './event-examples.js';
import { eventList } from '../events/declare.js';

export const CabinetPort = z.int().min(1).max(24).meta({ id: 'CabinetPort' });
export const ChargingAlarmData = z
  .strictObject({
    cabinet: Id,
    active: z.boolean().meta({
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
    field: z.string().meta({
      description:
        'The field: `smoke`, `temperature`, `mainsPresent`, `powerOn`, `doorOpen`, `fanOn`, `port<n>.state`, `port<n>.temperature`; on swap cabinets also `suppression` and `slot<n>.<field>` (`charger`, `temperature`, `present`, `soc`...); or `poll` for a refused read.',
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

export const CHARGING_EVENTS = eventList([
  {
    type: 'charging.fire',
    class: 'alarm',
    data: ChargingAlarmData,
    description: 'Smoke or over-temperature in a cabinet; every port cut (critical)',
    examples: EXAMPLES['charging.fire'],
  },
  {
    type: 'charging.port_over_temperature',
    class: 'alarm',
    data: ChargingAlarmData,
    description: 'A port too hot; the port was stopped',
    examples: EXAMPLES['charging.port_over_temperature'],
  },
  {
    type: 'charging.port_over_current',
    class: 'alarm',
    data: ChargingAlarmData,
    description: 'A port drawing too much current; the port was stopped',
    examples: EXAMPLES['charging.port_over_current'],
  },
  {
    type: 'charging.port_fault',
    class: 'alarm',
    data: ChargingAlarmData,
    description: 'A port in fault during a session; the port was stopped',
    examples: EXAMPLES['charging.port_fault'],
  },
  {
    type: 'cabinet.unsupervised',
    class: 'alarm',
    data: ChargingAlarmData,
    description:
      "Raised (`active: true`, `value` = polls in a row) when smoke, cabinet temperature, mains or a port's current/temperature stayed unknown; with `charging.safety.unsupervisedPolicy: cut` (the default) the cabinet's power is cut and latched (`latched: unsupervised`) until `charging.reset`. Swap cabinets (also suppression, a pack's temperature or presence, after `swap.safety.unsupervisedAfterPolls`) are always cut, until `cabinet.power` on. Cleared (`active: false`) when every safety register reads right again; the latch stays.",
    title: "A cabinet's safety registers could not be read or decoded for unsupervisedAfterPolls polls (high)",
    examples: EXAMPLES['cabinet.unsupervised'],
  },
  {
    type: 'charging.session_started',
    class: 'charging',
    data: ChargingSessionStartedData,
    description: 'A charging session started (by command or at the cabinet)',
    examples: EXAMPLES['charging.session_started'],
  },
  {
    type: 'charging.meter',
    class: 'charging',
    data: ChargingMeterData,
    description: 'Meter values of a running session, every meterIntervalMs',
    examples: EXAMPLES['charging.meter'],
  },
  {
    type: 'charging.session_stopped',
    class: 'charging',
    data: ChargingSessionStoppedData,
    description: 'A charging session ended, with its energy, duration and reason',
    examples: EXAMPLES['charging.session_stopped'],
  },
  {
    type: 'charging.mains_lost',
    class: 'charging',
    data: ChargingMainsData,
    description: 'A cabinet lost its mains supply',
    examples: EXAMPLES['charging.mains_lost'],
  },
  {
    type: 'charging.mains_restored',
    class: 'charging',
    data: ChargingMainsData,
    description: 'A cabinet has its mains supply back',
    examples: EXAMPLES['charging.mains_restored'],
  },
  {
    type: 'charging.reset',
    class: 'charging',
    data: ChargingResetData,
    description: 'An operator released a latched cabinet (charging.reset) and its power was switched back on',
    examples: EXAMPLES['charging.reset'],
  },
  {
    type: 'device.protocol_fault',
    class: 'device',
    data: DeviceProtocolFaultData,
    description:
      "Modbus cabinets: one register outside the register map (a boolean holding 2, an unknown port state code, a temperature sensor's fault value) or a read the cabinet refused (`field: poll`, with the Modbus exception). Only that field is invalid; the rest of the reading is used. The first occurrence per field is reported at once, then at most every 10 minutes with `repeats` = polls that repeated it since.",
    title: 'A device sent a value its protocol cannot carry (rate-limited per field)',
    examples: EXAMPLES['device.protocol_fault'],
  },
  {
    type: 'device.replaced',
    class: 'device',
    data: DeviceReplacedData,
    description: "Another unit (a different serial number) answers on a device's address",
    examples: EXAMPLES['device.replaced'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'charging.fire': z.input<typeof ChargingAlarmData>;
    'charging.port_over_temperature': z.input<typeof ChargingAlarmData>;
    'charging.port_over_current': z.input<typeof ChargingAlarmData>;
    'charging.port_fault': z.input<typeof ChargingAlarmData>;
    'cabinet.unsupervised': z.input<typeof ChargingAlarmData>;
    'charging.session_started': z.input<typeof ChargingSessionStartedData>;
    'charging.meter': z.input<typeof ChargingMeterData>;
    'charging.session_stopped': z.input<typeof ChargingSessionStoppedData>;
    'charging.mains_lost': z.input<typeof ChargingMainsData>;
    'charging.mains_restored': z.input<typeof ChargingMainsData>;
    'charging.reset': z.input<typeof ChargingResetData>;
    'device.protocol_fault': z.input<typeof DeviceProtocolFaultData>;
    'device.replaced': z.input<typeof DeviceReplacedData>;
  }
}
