/**
 * What an event-schemas file declares per event type: the family contract's
 * EventDeclaration plus what the generated AsyncAPI document shows (a short title,
 * examples, and a constraint on `source` where the type fixes it).
 */
import type { z } from 'zod';
import type { EventDeclaration } from '../families/family.js';

export interface EventExample {
  name: string;
  summary?: string;
  /** A whole envelope as published on `evt/{class}`. */
  payload: Record<string, unknown>;
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
