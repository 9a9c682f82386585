/**
 * Ids of events, alarms and media: ULIDs, so they sort by creation time (a platform that
 * lost its place can page by id) and stay unique across restarts without a counter on disk.
 * Monotonic per generator: ids minted in the same millisecond still sort in creation order.
 */
import { monotonicFactory } from 'ulid';

export type IdGenerator = (seedTime?: number) => string;

/** A generator whose ids sort in creation order, even within one millisecond. */
export function idGenerator(): IdGenerator {
  return monotonicFactory();
}
