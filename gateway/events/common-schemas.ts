/**
 * Shared pieces of event data (ids, times, error codes, event classes), named components of
 * docs/asyncapi.yaml that the families' event-schemas.ts files and the hand-written
 * docs/asyncapi.base.yaml both reference.
 */
import { z } from 'zod';
import { ErrorCodes, type ErrorCode as ErrorCodeName } from '../core/errors.js';
import { EVENT_CLASSES } from '../core/events.js';

export const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
  .meta({ id: 'Id', description: 'An id from the compound file.' });
export const Timestamp = z.iso.datetime().meta({ id: 'Timestamp' });
export const Ulid = z
  .string()
  .regex(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/)
  .meta({ id: 'Ulid', description: 'A ULID, unique per event and stable across re-sends.' });
// From the core's table, so a new code reaches the document with the next `npm run docs`.
export const ErrorCode = z
  .enum(Object.keys(ErrorCodes) as [ErrorCodeName, ...ErrorCodeName[]])
  .meta({ id: 'ErrorCode', description: 'The coded errors of gateway/errors.ts (ErrorCodes).' });
export const EventClass = z.enum(EVENT_CLASSES).meta({ id: 'EventClass' });
