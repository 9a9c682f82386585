/**
 * Small HTTP helpers of the console server: security headers, JSON answers with coded
 * errors, a capped body reader, cookies and the same-origin check shared by the API (CSRF)
 * and the WebSocket upgrades (cross-site WebSocket hijacking).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError, type ErrorCode } from '../core/errors.js';

/** Login, setup and command bodies are small; anything bigger is refused before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** HTTP status of a coded error, for console errors and command answers alike. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  CONSOLE_AUTH_REQUIRED: 401,
  CONSOLE_LOGIN_FAILED: 401,
  CONSOLE_SETUP_INVALID: 401,
  CONSOLE_LOCKED_OUT: 429,
  CONSOLE_BUSY: 503,
  CONSOLE_LAST_ADMIN: 409,
  CONSOLE_FORBIDDEN: 403,
  CONSOLE_CSRF: 403,
  CONSOLE_USER_EXISTS: 409,
  CONSOLE_USER_UNKNOWN: 404,
  CONSOLE_PASSWORD_WEAK: 400,
  CONSOLE_REQUEST_INVALID: 400,
  CONSOLE_NOT_FOUND: 404,
  CMD_FORBIDDEN: 403,
  CMD_INVALID: 400,
  CMD_MALFORMED: 400,
  CMD_TOO_LARGE: 413,
  CMD_UNKNOWN: 404,
  CMD_REPLAYED: 409,
  CMD_EXPIRED: 410,
  CMD_TIMEOUT: 504,
  CMD_FAILED: 500,
  DEVICE_UNKNOWN: 404,
  DEVICE_OFFLINE: 503,
  DEVICE_REFUSED: 502,
  DEVICE_PROTOCOL: 502,
  DEVICE_AUTH_FAILED: 502,
  DEVICE_RESPONSE_REFUSED: 502,
  ALARM_UNKNOWN: 404,
  ALARM_ACTIVE: 409,
  ALARM_CLOSED: 409,
  ALARM_ACKNOWLEDGED: 409,
  MEDIA_UNKNOWN: 404,
  LIVE_VIEW_LIMIT: 503,
  INTERNAL: 500,
};

export function statusOf(code: string): number {
  return STATUS[code as ErrorCode] ?? 409;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

export function sendError(res: ServerResponse, err: GatehouseError, headers: Record<string, string | string[]> = {}): void {
  sendJson(res, statusOf(err.code), { ok: false, error: { code: err.code, message: err.message } }, headers);
}

/** The JSON object body, refused past MAX_BODY_BYTES (counted as it arrives, not from Content-Length). */
export function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new GatehouseError('CONSOLE_REQUEST_INVALID', `request body over ${limit} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        req.resume();
        return reject(new GatehouseError('CONSOLE_REQUEST_INVALID', `request body over ${limit} bytes`));
      }
      chunks.push(c);
    });
    req.on('error', (err) => !done && ((done = true), reject(err)));
    req.on('end', () => {
      if (done) return;
      done = true;
      if (size === 0) return resolve({});
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new GatehouseError('CONSOLE_REQUEST_INVALID', 'the body is not a JSON object'));
      }
    });
  });
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    if (!out.has(k)) out.set(k, part.slice(i + 1).trim());
  }
  return out;
}

/**
 * Whether the request comes from a page of this very server: Origin (or, lacking it,
 * Referer) must be `scheme://Host`. Browsers always send Origin on cross-site POSTs and
 * WebSocket handshakes, so a foreign or missing one is refused.
 */
export function sameOrigin(req: IncomingMessage, tls: boolean): boolean {
  const host = req.headers.host;
  if (!host) return false;
  const expected = `${tls ? 'https' : 'http'}://${host.toLowerCase()}`;
  const origin = req.headers.origin;
  if (origin !== undefined) return origin.toLowerCase() === expected;
  const referer = req.headers.referer;
  if (!referer) return false;
  try {
    return new URL(referer).origin.toLowerCase() === expected;
  } catch {
    return false;
  }
}

export function remoteAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}
