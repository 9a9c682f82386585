/**
 * Tests of the outbox, the uplink and the alarm lifecycle record events no family declares
 * (load, fillers, a panel code the tap must treat as momentary): the outbox stores any
 * event, only the compiler's view of `record()` is typed. This is the one place such a test
 * steps around that typing, so gateway code cannot.
 */
import type { AnyEventInput, EventInput } from '../../gateway/core/events.js';

export function untyped(e: AnyEventInput): EventInput {
  return e as unknown as EventInput;
}
