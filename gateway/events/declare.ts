/**
 * What an event-schemas file declares per event type: the family contract's
 * EventDeclaration plus what the generated AsyncAPI document shows (a short title,
 * examples, and a constraint on `source` where the type fixes it).
 */
import type { z } from 'zod';
import type { ClockState } from '../core/clock.js';
import type { EventSource } from '../core/events.js';
import type { EventDeclaration } from '../families/family.js';

export interface EventExample {
  name: string;
  summary?: string;
  /** A whole envelope as published on `evt/{class}`. */
  payload: Record<string, unknown>;
}

/** What an example sets of the envelope; the rest is the same in every example. */
export interface ExampleEnvelope {
  id: string;
  seq: number;
  ts: string;
  /** Default `synced`: an example of an unsynced clock says so. */
  clock?: ClockState;
  type: string;
  source: EventSource;
  data: Record<string, unknown>;
}

/**
 * One example as the AsyncAPI document shows it: the whole envelope as published (version 1,
 * fields in the envelope's order), named, with an optional one-line summary.
 */
export function example(name: string | { name: string; summary: string }, e: ExampleEnvelope): EventExample {
  const head = typeof name === 'string' ? { name } : { name: name.name, summary: name.summary };
  const { id, seq, ts, clock = 'synced', type, source, data } = e;
  return { ...head, payload: { v: 1, id, seq, ts, clock, type, source, data } };
}

export interface EventDoc extends EventDeclaration {
  /** A one-line title; `description` is then the longer summary. */
  title?: string;
  /** The envelope `source` when the type fixes it (`linkage.executed`: gateway/linkage). */
  source?: z.ZodType;
  examples?: EventExample[];
}

/**
 * An event-schemas file's list, with each `type` kept as its literal so the generator can
 * check at compile time that the lists and the EventDataMap augmentations name the same types.
 */
export function eventList<const T extends string>(list: (EventDoc & { type: T })[]): (EventDoc & { type: T })[] {
  return list;
}
