/**
 * The smart-lock JSON codec (MQTT payloads both ways). Parsers answer a coded result, never
 * throw, and name the error with one of the codec's codes; whatever parses encodes again and
 * parses to the same value. First byte: topic kind (and bit 3: a topic of another lock or a
 * made-up topic taken from the input).
 */
import {
  encodeCommand,
  encodeCommandResult,
  encodeEvent,
  encodeState,
  encodeStatus,
  parseLockCommand,
  parseLockMessage,
  type CodecErrorCode,
} from '../../../drivers/smartlock/codec.js';
import { lockTopic } from '../../../drivers/smartlock/topics.js';
import { invariant, sameValue, text, type FuzzTarget } from '../target.js';

const DEVICE = 'flat-1-101';
const KINDS = ['status', 'state', 'evt', 'cmd/res', 'cmd'] as const;
const CODES = new Set<CodecErrorCode>([
  'TOPIC_UNKNOWN',
  'WRONG_DEVICE',
  'WRONG_DIRECTION',
  'TOO_LARGE',
  'MALFORMED_JSON',
  'NOT_AN_OBJECT',
  'UNKNOWN_TYPE',
  'INVALID',
]);
// Payloads of tests/unit/smartlock-codec.test.ts.
const SEEDS: [number, unknown][] = [
  [0, { state: 'online', fw: '2.4.1' }],
  [1, { locked: true, door: 'closed', battery: 87, tamper: false }],
  [1, { locked: false, battery: 50 }],
  [
    2,
    {
      type: 'unlock',
      eid: 'e-1',
      ts: '2026-11-21T21:03:11.123Z',
      result: 'denied',
      method: 'card',
      credential: '04A1B2C3D4',
      reason: 'revoked',
    },
  ],
  [2, { type: 'door', door: 'open' }],
  [2, { type: 'tamper', active: true }],
  [2, { type: 'battery_low', level: 12 }],
  [3, { cid: 'c1', ok: true }],
  [3, { cid: 'c1', ok: false, code: 'unknown_credential' }],
  [3, { cid: 'c1', ok: true, result: { count: 3 } }],
  [4, { cid: 'a1', op: 'open', seconds: 5, expires: '2026-11-21T21:03:21.000Z' }],
  [
    4,
    {
      cid: 'a2',
      op: 'credential.set',
      credentialId: 'tenant-201-card',
      kind: 'card',
      value: '04A1B2C3D4',
      validFrom: '2026-11-01T00:00:00Z',
      validTo: '2027-10-31T23:59:59Z',
    },
  ],
  [4, { cid: 'a3', op: 'credential.set', credentialId: 'tenant-201-pin', kind: 'pin', value: '482915' }],
  [4, { cid: 'a4', op: 'credential.revoke', credentialId: 'tenant-201-card' }],
];

const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

export const target: FuzzTarget = {
  name: 'smartlock-codec',
  seeds: () => SEEDS.map(([k, body]) => Uint8Array.of(k, ...text(JSON.stringify(body)))),
  fuzz(d) {
    if (d.length < 1) return;
    const kind = KINDS[d[0]! % KINDS.length]!;
    let payload = Buffer.from(d.subarray(1));
    let topic = lockTopic(DEVICE, kind);
    if (d[0]! & 8) {
      const nl = payload.indexOf(0x0a);
      topic = nl < 0 ? lockTopic('flat-9-999', kind) : payload.subarray(0, nl).toString('utf8');
      payload = payload.subarray(nl + 1);
    }
    const opts = d[0]! & 16 ? { device: DEVICE, maxBytes: 64 } : { device: DEVICE };
    if (kind === 'cmd') {
      const r = parseLockCommand(topic, payload, opts);
      if (!r.ok) return invariant(CODES.has(r.error.code), `coded error, got ${r.error.code}`);
      const e = encodeCommand(DEVICE, r.value);
      sameValue(
        asJson(parseLockCommand(e.topic, e.payload, { device: DEVICE })),
        asJson({ ok: true, value: r.value }),
        'command round trip',
      );
      return;
    }
    const r = parseLockMessage(topic, payload, opts);
    if (!r.ok) return invariant(CODES.has(r.error.code), `coded error, got ${r.error.code}`);
    const v = r.value;
    const { kind: _k, device: _d, ...body } = v as unknown as Record<string, unknown>;
    const e =
      v.kind === 'status'
        ? encodeStatus(DEVICE, body as never)
        : v.kind === 'state'
          ? encodeState(DEVICE, body as never)
          : v.kind === 'evt'
            ? encodeEvent(DEVICE, v.event)
            : encodeCommandResult(DEVICE, body as never);
    // Compared as JSON: the codec is JSON, and -0 (accepted as a battery level) is written as 0.
    sameValue(asJson(parseLockMessage(e.topic, e.payload, { device: DEVICE })), asJson({ ok: true, value: v }), `${v.kind} round trip`);
  },
  dictionary: [
    '"type"',
    '"door"',
    '"unlock"',
    '"tamper"',
    '"battery_low"',
    '"cid"',
    '"op"',
    '"ok"',
    'true',
    'false',
    'null',
    '"result"',
    '"method"',
    '"card"',
    '"pin"',
    '"credential"',
    '"locked"',
    '"battery"',
    '"state"',
    '"online"',
    '"__proto__"',
    '"constructor"',
    '"open"',
    '"credential.set"',
    '"credential.revoke"',
    '"credentialId"',
    '"value"',
    '"seconds"',
    '{',
    '}',
    '[',
    ']',
    ':',
    ',',
    '"',
  ],
  maxLength: 4200,
};
