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

/** What a component hands to the outbox. */
export interface EventInput<D extends Record<string, unknown> = Record<string, unknown>> {
  class: EventClass;
  /** Dotted type, `{family}.{what}` e.g. `alarm.raised`, `access.granted`, `lock.battery_low`. */
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
