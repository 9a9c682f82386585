/**
 * Shared pieces of event data: ids, times, error codes.
 * The `data` schemas (zod) of the event types recorded here, declared once: `record()` is typed
 * by them and `npm run docs` generates docs/asyncapi.yaml from them.
 */
import { z } from 'zod';

export const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/)
  .meta({ id: 'Id', description: 'An id from the compound file.' });
export const Timestamp = z.iso.datetime().meta({ id: 'Timestamp' });
export const Ulid = z
  .string()
  .regex(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/)
  .meta({ id: 'Ulid', description: 'A ULID, unique per event and stable across re-sends.' });
export const ErrorCode = z
  .enum([
    'CONFIG_INVALID',
    'CONFIG_UNREADABLE',
    'COMPONENT_REQUIRED_FAILED',
    'OUTBOX_FULL',
    'OUTBOX_DISK_FULL',
    'OUTBOX_CLOSED',
    'DATA_DIR_UNUSABLE',
    'CMD_MALFORMED',
    'CMD_TOO_LARGE',
    'CMD_UNKNOWN',
    'CMD_INVALID',
    'CMD_EXPIRED',
    'CMD_REPLAYED',
    'CMD_FORBIDDEN',
    'CMD_FAILED',
    'CMD_TIMEOUT',
    'DEVICE_UNKNOWN',
    'DEVICE_OFFLINE',
    'DEVICE_REFUSED',
    'DEVICE_PROTOCOL',
    'DEVICE_AUTH_FAILED',
    'DEVICE_RESPONSE_REFUSED',
    'DEVICE_UNSUPPORTED',
    'ACCESS_VERSION_MISMATCH',
    'ACCESS_DUPLICATE_CREDENTIAL',
    'ALARM_UNKNOWN',
    'ALARM_ACTIVE',
    'ALARM_CLOSED',
    'ALARM_ACKNOWLEDGED',
    'MEDIA_TOO_LARGE',
    'MEDIA_INVALID',
    'MEDIA_UNKNOWN',
    'LIVE_VIEW_FFMPEG_MISSING',
    'LIVE_VIEW_LIMIT',
    'CONSOLE_AUTH_REQUIRED',
    'CONSOLE_LOGIN_FAILED',
    'CONSOLE_LOCKED_OUT',
    'CONSOLE_BUSY',
    'CONSOLE_LAST_ADMIN',
    'CONSOLE_FORBIDDEN',
    'CONSOLE_CSRF',
    'CONSOLE_SETUP_INVALID',
    'CONSOLE_USER_EXISTS',
    'CONSOLE_USER_UNKNOWN',
    'CONSOLE_PASSWORD_WEAK',
    'CONSOLE_REQUEST_INVALID',
    'CONSOLE_NOT_FOUND',
    'CONSOLE_OPENSSL_MISSING',
    'INTERNAL',
  ])
  .meta({ id: 'ErrorCode', description: 'The coded errors of gateway/errors.ts (ErrorCodes).' });
export const EventClass = z.enum(['alarm', 'access', 'charging', 'device', 'system']).meta({ id: 'EventClass' });
