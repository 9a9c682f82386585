/**
 * The smart-lock codec: topic + JSON payload <-> typed messages. Pure functions with no
 * I/O, so they can be fuzzed and used unchanged by the gateway (parse what locks say,
 * encode commands) and by the simulator (the lock's side of the same protocol).
 *
 * Parsing never throws: a bad message becomes a coded CodecError that the driver logs
 * and drops. Readers are tolerant of extra fields (a newer lock firmware may add some) and
 * strict about the types of the fields they use.
 */
import { z } from 'zod';
import { parseLockTopic, lockTopic, type LockUpKind } from './topics.js';
import {
  CREDENTIAL_KINDS,
  DENY_REASONS,
  LOCK_METHODS,
  type LockCommand,
  type LockEvt,
  type LockMessage,
  type LockStateMsg,
  type LockStatusMsg,
} from './types.js';

/** Lock messages are small; anything bigger is a fault or an attack. */
export const LOCK_MAX_PAYLOAD_BYTES = 4096;

export type CodecErrorCode =
  'TOPIC_UNKNOWN' | 'WRONG_DEVICE' | 'WRONG_DIRECTION' | 'TOO_LARGE' | 'MALFORMED_JSON' | 'NOT_AN_OBJECT' | 'UNKNOWN_TYPE' | 'INVALID';

export interface CodecError {
  code: CodecErrorCode;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: CodecError };

const fail = (code: CodecErrorCode, message: string): { ok: false; error: CodecError } => ({ ok: false, error: { code, message } });

// ---- shared field schemas (also used by the gateway's command argument schemas) -------

export const CredentialId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -');
export const CardNumber = z.string().regex(/^[0-9A-Fa-f]{4,32}$/, 'a card number is 4-32 hex digits');
export const Pin = z.string().regex(/^[0-9]{4,12}$/, 'a PIN is 4-12 digits');
const IsoTime = z.iso.datetime({ offset: true });
const ShortText = z.string().max(64);

// ---- lock → gateway ------------------------------------------------------------

const StatusBody = z.object({
  state: z.enum(['online', 'offline']),
  reason: z
    .string()
    .regex(/^[a-z0-9_]{1,32}$/)
    .optional(),
  fw: ShortText.optional(),
});

const StateBody = z.object({
  locked: z.boolean(),
  door: z.enum(['open', 'closed', 'unknown']).default('unknown'),
  battery: z.number().int().min(0).max(100),
  tamper: z.boolean().default(false),
});

const EvtBase = { eid: z.string().min(1).max(64).optional(), ts: IsoTime.optional() };
const EVT_SCHEMAS = {
  unlock: z.object({
    ...EvtBase,
    type: z.literal('unlock'),
    result: z.enum(['granted', 'denied']),
    method: z.enum(LOCK_METHODS),
    credential: ShortText.optional(),
    reason: z.enum(DENY_REASONS).optional(),
  }),
  door: z.object({ ...EvtBase, type: z.literal('door'), door: z.enum(['open', 'closed']) }),
  tamper: z.object({ ...EvtBase, type: z.literal('tamper'), active: z.boolean() }),
  battery_low: z.object({ ...EvtBase, type: z.literal('battery_low'), level: z.number().int().min(0).max(100) }),
} as const;

const CmdResBody = z.object({
  cid: z.string().min(1).max(64),
  ok: z.boolean(),
  code: z
    .string()
    .regex(/^[a-z0-9_]{1,32}$/)
    .optional(),
  message: z.string().max(200).optional(),
  result: z.record(z.string(), z.unknown()).optional(),
});

// ---- gateway → lock ------------------------------------------------------------

const CmdBase = { cid: z.string().min(1).max(64), expires: IsoTime.optional() };
const CMD_SCHEMAS = {
  open: z.object({ ...CmdBase, op: z.literal('open'), seconds: z.number().int().min(1).max(30).optional() }),
  'credential.set': z
    .object({
      ...CmdBase,
      op: z.literal('credential.set'),
      credentialId: CredentialId,
      kind: z.enum(CREDENTIAL_KINDS),
      value: z.string(),
      validFrom: IsoTime.optional(),
      validTo: IsoTime.optional(),
    })
    .superRefine((c, ctx) => {
      const check = (c.kind === 'card' ? CardNumber : Pin).safeParse(c.value);
      if (!check.success) ctx.addIssue({ code: 'custom', path: ['value'], message: check.error.issues[0]?.message ?? 'invalid value' });
      if (c.validFrom && c.validTo && Date.parse(c.validTo) <= Date.parse(c.validFrom))
        ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'validTo must be after validFrom' });
    }),
  'credential.revoke': z.object({ ...CmdBase, op: z.literal('credential.revoke'), credentialId: CredentialId }),
} as const;

// ---- parsing -------------------------------------------------------------------

/** Issues as `path: message`, never quoting the input (it may hold a credential). */
function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

function decodeJson(payload: Buffer | string, maxBytes: number): Parsed<Record<string, unknown>> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return fail('TOO_LARGE', `payload of ${size} bytes exceeds ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return fail('MALFORMED_JSON', 'payload is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('NOT_AN_OBJECT', 'payload must be a JSON object');
  return { ok: true, value: value as Record<string, unknown> };
}

function validate<T>(schema: z.ZodType<T>, value: unknown): Parsed<T> {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : fail('INVALID', describe(r.error));
}

export interface ParseOptions {
  /** The lock this message must come from; a topic of another lock is refused. */
  device?: string;
  maxBytes?: number;
}

function checkTopic(topic: string, opts: ParseOptions): Parsed<{ device: string; kind: LockUpKind | 'cmd' }> {
  const t = parseLockTopic(topic);
  if (!t) return fail('TOPIC_UNKNOWN', `not a topic of the lock scheme: ${topic.slice(0, 120)}`);
  if (opts.device !== undefined && t.device !== opts.device)
    return fail('WRONG_DEVICE', `topic of lock ${t.device}, expected ${opts.device}`);
  return { ok: true, value: t };
}

/** Parses what a lock publishes (gateway side). */
export function parseLockMessage(topic: string, payload: Buffer | string, opts: ParseOptions = {}): Parsed<LockMessage> {
  const t = checkTopic(topic, opts);
  if (!t.ok) return t;
  const { device, kind } = t.value;
  if (kind === 'cmd') return fail('WRONG_DIRECTION', 'cmd is sent by the gateway, not by a lock');
  const json = decodeJson(payload, opts.maxBytes ?? LOCK_MAX_PAYLOAD_BYTES);
  if (!json.ok) return json;
  const body = json.value;
  switch (kind) {
    case 'status': {
      const r = validate(StatusBody, body);
      return r.ok ? { ok: true, value: { kind, device, ...r.value } } : r;
    }
    case 'state': {
      const r = validate(StateBody, body);
      return r.ok ? { ok: true, value: { kind, device, ...r.value } } : r;
    }
    case 'evt': {
      const type = body.type;
      if (typeof type !== 'string' || !Object.hasOwn(EVT_SCHEMAS, type))
        return fail('UNKNOWN_TYPE', `unknown event type ${JSON.stringify(typeof type === 'string' ? type.slice(0, 32) : (type ?? null))}`);
      const r = validate(EVT_SCHEMAS[type as keyof typeof EVT_SCHEMAS] as z.ZodType<LockEvt>, body);
      return r.ok ? { ok: true, value: { kind, device, event: r.value } } : r;
    }
    case 'cmd/res': {
      const r = validate(CmdResBody, body);
      if (!r.ok) return r;
      const { cid, ok, code, message, result } = r.value;
      return ok
        ? { ok: true, value: { kind, device, cid, ok: true, result } }
        : { ok: true, value: { kind, device, cid, ok: false, code: code ?? 'unspecified', message } };
    }
  }
}

/** Parses a command (lock side, used by the simulator and by vendor test rigs). */
export function parseLockCommand(topic: string, payload: Buffer | string, opts: ParseOptions = {}): Parsed<LockCommand> & { cid?: string } {
  const t = checkTopic(topic, opts);
  if (!t.ok) return t;
  if (t.value.kind !== 'cmd') return fail('WRONG_DIRECTION', `${t.value.kind} is published by the lock, not sent to it`);
  const json = decodeJson(payload, opts.maxBytes ?? LOCK_MAX_PAYLOAD_BYTES);
  if (!json.ok) return json;
  // Keep the cid of a bad command, so the lock can still answer it with an error.
  const cid = typeof json.value.cid === 'string' ? json.value.cid.slice(0, 64) : undefined;
  const op = json.value.op;
  if (typeof op !== 'string' || !Object.hasOwn(CMD_SCHEMAS, op))
    return { ...fail('UNKNOWN_TYPE', `unknown op ${JSON.stringify(typeof op === 'string' ? op.slice(0, 32) : (op ?? null))}`), cid };
  const r = validate(CMD_SCHEMAS[op as keyof typeof CMD_SCHEMAS] as z.ZodType<LockCommand>, json.value);
  return r.ok ? r : { ...r, cid };
}

// ---- encoding ------------------------------------------------------------------

export interface Encoded {
  topic: string;
  payload: string;
}

/** Gateway → lock. */
export function encodeCommand(device: string, cmd: LockCommand): Encoded {
  return { topic: lockTopic(device, 'cmd'), payload: JSON.stringify(cmd) };
}

/** Lock → gateway encoders, for the simulator and vendor rigs. */
export function encodeStatus(device: string, s: Omit<LockStatusMsg, 'kind' | 'device'>): Encoded {
  return { topic: lockTopic(device, 'status'), payload: JSON.stringify(s) };
}

export function encodeState(device: string, s: Omit<LockStateMsg, 'kind' | 'device'>): Encoded {
  return { topic: lockTopic(device, 'state'), payload: JSON.stringify(s) };
}

export function encodeEvent(device: string, e: LockEvt): Encoded {
  return { topic: lockTopic(device, 'evt'), payload: JSON.stringify(e) };
}

export function encodeCommandResult(
  device: string,
  r: { cid: string; ok: true; result?: Record<string, unknown> } | { cid: string; ok: false; code: string; message?: string },
): Encoded {
  return { topic: lockTopic(device, 'cmd/res'), payload: JSON.stringify(r) };
}
