/**
 * The first stages of the command pipeline, kept pure (no I/O, no clock) so they can be
 * reasoned about one by one: is the name a safe topic level, is the payload small enough,
 * is it JSON, is it an object, does it have the request shape. Each stage refuses with a
 * coded GatehouseError; the router turns that into the answer.
 */
import { z } from 'zod';
import { GatehouseError } from '../core/errors.js';
import type { CommandRequest } from './types.js';

/**
 * A name that can be answered on `cmd/{name}/res`: one MQTT topic level (no `/`), no
 * wildcard (`+`, `#`), no control character, 1-64 characters. Anything else cannot be
 * answered safely (the reply topic would be ambiguous or illegal), so it is only audited.
 * Odd but legal names (upper case, spaces) are answered CMD_UNKNOWN like any unknown name;
 * this matches what gateway/topics.ts lets through from the uplink.
 */
const SAFE_LEVEL = /^[^/+#\u0000-\u001f\u007f]{1,64}$/;

/** What a registered command must look like: lower-case dotted words, e.g. `lock.credential.set`. */
const REGISTERED_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/;

export function isSafeCommandName(name: string): boolean {
  return SAFE_LEVEL.test(name);
}

export function isRegistrableCommandName(name: string): boolean {
  return name.length <= 64 && REGISTERED_NAME.test(name);
}

/** For logs and audit: an unsafe name is shown truncated, never whole. */
export function displayName(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

/** Ids are echoed in answers, audit events and logs: printable, bounded. */
const CommandId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

/**
 * The request envelope. Strict on purpose: a misspelt `expires` (e.g. `expire`) must be
 * refused, not silently ignored, or a command meant to lapse could run hours later.
 */
export const CommandRequestSchema = z
  .object({
    id: CommandId,
    expires: z.iso.datetime({ offset: true }).optional(),
    args: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Size first, then strict UTF-8, then JSON, then "is an object": never parses an oversized payload. */
export function decodePayload(payload: Buffer, maxBytes: number): Record<string, unknown> {
  if (payload.length > maxBytes) {
    throw new GatehouseError('CMD_TOO_LARGE', `command payload is ${payload.length} bytes; the limit is ${maxBytes}`, {
      size: payload.length,
      limit: maxBytes,
    });
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new GatehouseError('CMD_MALFORMED', 'command payload is not valid UTF-8', { reason: 'not-utf8' });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse messages quote a slice of the input, which may hold a credential: not echoed.
    throw new GatehouseError('CMD_MALFORMED', 'command payload is not valid JSON', { reason: 'not-json' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    throw new GatehouseError('CMD_MALFORMED', `command payload must be a JSON object, not ${kind}`, {
      reason: 'not-object',
      received: kind,
    });
  }
  return value as Record<string, unknown>;
}

/** The console hands us a value, not bytes: serialise it so both paths share every rule. */
export function encodeDirect(request: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(request);
  } catch {
    throw new GatehouseError('CMD_MALFORMED', 'command request cannot be serialised as JSON', { reason: 'not-json' });
  }
  if (text === undefined)
    throw new GatehouseError('CMD_MALFORMED', 'command request is empty', { reason: 'not-object', received: typeof request });
  return Buffer.from(text, 'utf8');
}

/** The id, if it can be read at all: an answer to a bad request still carries it. */
export function readId(raw: Record<string, unknown>): string | null {
  const r = CommandId.safeParse(raw.id);
  return r.success ? r.data : null;
}

export interface IssueSummary {
  path: string;
  message: string;
}

const MAX_ISSUES = 20;

/** zod issues as `{path, message}`, bounded so a huge bad payload gets a small answer. */
export function summariseIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): IssueSummary[] {
  return issues.slice(0, MAX_ISSUES).map((i) => {
    const path = [...prefix, ...i.path].map((p) => String(p)).join('.');
    return { path: path || '(root)', message: i.message.length > 200 ? `${i.message.slice(0, 200)}…` : i.message };
  });
}

export function parseRequest(raw: Record<string, unknown>): CommandRequest {
  const r = CommandRequestSchema.safeParse(raw);
  if (!r.success) {
    throw new GatehouseError('CMD_INVALID', 'command request does not match {id, expires?, args?}', {
      issues: summariseIssues(r.error.issues),
    });
  }
  const req: CommandRequest = { id: r.data.id };
  if (r.data.expires !== undefined) req.expires = r.data.expires;
  if (r.data.args !== undefined) req.args = r.data.args;
  return req;
}
