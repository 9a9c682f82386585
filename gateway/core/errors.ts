/**
 * Coded errors. Every failure that crosses a component boundary (a command answer, a
 * config problem, a device fault) carries a stable machine-readable code so the platform,
 * the console and the logs can react to it without parsing prose.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'Configuration is invalid',
  CONFIG_UNREADABLE: 'Configuration file cannot be read',
  CONFIG_APPLY_BUSY: 'A configuration is on probation; wait for config.applied or config.rolled_back before applying another',
  CONFIG_REMOTE_UNAVAILABLE: 'This gateway cannot take a remote configuration (it was started without a compound file to fall back to)',
  CERT_INVALID: 'The certificate does not fit this box (its key, the CA file, the compound and gateway ids, or its validity dates)',
  COMPONENT_REQUIRED_FAILED: 'A component the compound file requires could not start; nothing was started',
  FAMILY_NEEDS_MISSING: 'A device family needs a capability that neither the core nor any configured family provides',
  FAMILY_NEEDS_CYCLE: 'Device families need each other in a cycle: no start order exists',
  FAMILY_CAPABILITY_UNDECLARED: 'A device family used a capability its manifest does not declare in needs',
  OUTBOX_FULL: 'Outbox disk cap reached and nothing left that may be evicted',
  OUTBOX_DISK_FULL: 'The disk holding the outbox is full',
  OUTBOX_CLOSED: 'The outbox is closed',
  STORE_SCHEMA_NEWER:
    'outbox.db was written by a newer Gatehouse than this one; upgrade Gatehouse or restore a backup of the data directory',
  STORE_MIGRATION_FAILED: 'A store migration failed; outbox.db was left as it was',
  DATA_DIR_UNUSABLE: 'The data directory or a file in it cannot be written by the user the daemon runs as',
  CMD_MALFORMED: 'Command payload is not valid JSON or not an object',
  CMD_TOO_LARGE: 'Command payload exceeds the size limit',
  CMD_UNKNOWN: 'No such command',
  CMD_INVALID: 'Command arguments do not match the schema',
  CMD_EXPIRED: 'Command expired before it could be executed',
  CMD_REPLAYED: 'A command with this id was already received',
  CMD_FORBIDDEN: 'The caller may not run this command',
  CMD_FAILED: 'The command failed while executing',
  CMD_TIMEOUT: 'The device did not answer in time',
  DEVICE_UNKNOWN: 'No such device in the compound file',
  DEVICE_OFFLINE: 'The device is offline',
  DEVICE_REFUSED: 'The device refused the request',
  DEVICE_PROTOCOL: 'The device sent data that does not follow its protocol',
  DEVICE_AUTH_FAILED: 'The device refused the configured credentials (wrong user or password, or its clock too far off)',
  DEVICE_UNSUPPORTED: 'The device does not offer what the request needs (the service or capability is named in the message)',
  DEVICE_RESPONSE_REFUSED:
    'The device sent a response the gateway refuses to read (too large, a DTD or entity declaration, or a foreign namespace)',
  ACCESS_VERSION_MISMATCH: 'The credential delta does not start at the stored version; send a snapshot',
  ACCESS_DUPLICATE_CREDENTIAL: 'Two credentials would share a card or a PIN-only PIN',
  ALARM_UNKNOWN: 'No open or recent alarm with this id',
  ALARM_ACTIVE: 'The alarm condition still holds; it can be closed once it clears',
  ALARM_CLOSED: 'The alarm is already closed',
  ALARM_ACKNOWLEDGED: 'The alarm is already acknowledged',
  MEDIA_TOO_LARGE: 'The snapshot exceeds media.maxSnapshotBytes',
  MEDIA_INVALID: 'The snapshot is not a JPEG image',
  MEDIA_UNKNOWN: 'No stored media with this id',
  LIVE_VIEW_FFMPEG_MISSING: 'ffmpeg is not installed at liveView.ffmpegPath; live view is unavailable',
  LIVE_VIEW_LIMIT: 'Too many live-view viewers for this camera, or too many streams at once',
  CONSOLE_AUTH_REQUIRED: 'Sign in to the console first (no valid session)',
  CONSOLE_LOGIN_FAILED: 'Wrong username or password',
  CONSOLE_LOCKED_OUT: 'Too many failed logins; try again later',
  CONSOLE_BUSY: 'Too many logins are being checked at once; try again in a few seconds',
  CONSOLE_LAST_ADMIN: 'This is the last enabled administrator: create or enable another administrator first',
  CONSOLE_FORBIDDEN: 'Your console role may not do this',
  CONSOLE_CSRF: 'Refused as a possible cross-site request (CSRF token or Origin missing or wrong)',
  CONSOLE_SETUP_INVALID: 'The setup token is wrong, already used or expired',
  CONSOLE_USER_EXISTS: 'A console user with this name already exists',
  CONSOLE_USER_UNKNOWN: 'No console user with this name',
  CONSOLE_PASSWORD_WEAK: 'The password is too short (at least 12 characters)',
  CONSOLE_REQUEST_INVALID: 'The request is malformed (not JSON, too large, or missing fields)',
  CONSOLE_NOT_FOUND: 'No such console page or API',
  CONSOLE_OPENSSL_MISSING:
    'openssl is not installed: the console cannot generate its self-signed certificate (install openssl, or set console.tls certFile and keyFile)',
  INTERNAL: 'Internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message ?? ErrorCodes[code], options);
    this.name = 'GatehouseError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function isGatehouseError(err: unknown, code?: ErrorCode): err is GatehouseError {
  return err instanceof GatehouseError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a coded error, keeping the original as the cause. */
export function toGatehouseError(err: unknown, fallback: ErrorCode = 'INTERNAL'): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GatehouseError(fallback, message, undefined, { cause: err });
}
