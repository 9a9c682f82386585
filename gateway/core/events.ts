/**
 * The typed events of Gatehouse. A driver emits DeviceEvents about one device; gateway
 * logic turns them into platform Events (class + type + data), which the outbox stamps
 * with id, seq, ts and clock state to form the envelope of CONTRACT.md.
 */
import type { ClockState } from './clock.js';

export const EVENT_CLASSES = ['alarm', 'access', 'charging', 'device', 'system'] as const;
export type EventClass = (typeof EVENT_CLASSES)[number];

export interface EventSource {
  device: string;
  point?: string;
}

/**
 * The data of every event type, by type. Empty here so the core imports nothing of ours:
 * each family's `event-schemas.ts` adds its types by declaration merging
 * (`declare module '../core/events.js' { interface EventDataMap { 'lock.tamper': ... } }`),
 * from the same zod schemas docs/asyncapi.yaml is generated from.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface EventDataMap {}

/** Every event type some family declares. */
export type EventType = keyof EventDataMap;

/** One declared event type with its data, e.g. `TypedEventInput<'lock.tamper'>`. */
export interface TypedEventInput<T extends EventType> {
  class: EventClass;
  /** Dotted type, `{family}.{what}` e.g. `alarm.raised`, `access.granted`, `lock.battery_low`. */
  type: T;
  source: EventSource;
  data: EventDataMap[T];
}

/**
 * What a component hands to the outbox: a union over the declared types, so the literal
 * `type` picks the `data` the compiler checks. An undeclared type does not compile.
 */
export type EventInput = { [T in EventType]: TypedEventInput<T> }[EventType];

/**
 * An event whose data is read generically (the outbox, the alarm lifecycle, test sinks):
 * every EventInput is one, not the other way round.
 */
export interface AnyEventInput<D extends Record<string, unknown> = Record<string, unknown>> {
  class: EventClass;
  type: string;
  source: EventSource;
  data: D;
}

/** The envelope published on `evt/{class}` (CONTRACT.md, version 1). */
export interface Envelope<D extends Record<string, unknown> = Record<string, unknown>> {
  v: 1;
  id: string;
  seq: number;
  ts: string;
  clock: ClockState;
  type: string;
  source: EventSource;
  data: D;
}

/** A retained device state published on `state/{device}`. */
export interface DeviceState {
  device: string;
  state: Record<string, unknown>;
}

export function isEventClass(x: unknown): x is EventClass {
  return typeof x === 'string' && (EVENT_CLASSES as readonly string[]).includes(x);
}

/**
 * For the few builders that assemble `data` from parts the compiler cannot follow (the alarm
 * lifecycle's shared fields plus per-type extras, a DC-09 message's fields, an audit
 * record): the type must still be a declared one; the data is checked where it is built
 * by tests validating the published message against docs/asyncapi.yaml.
 */
export function withUncheckedData<T extends EventType>(e: AnyEventInput & { type: T }): EventInput {
  return e as unknown as EventInput;
}
