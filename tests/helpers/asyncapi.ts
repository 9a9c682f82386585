/**
 * The AsyncAPI document (docs/asyncapi.yaml) as a test oracle: every message the gateway
 * publishes, and every command it is sent, can be checked against it.
 *
 *   validateMessage('gatehouse/v1/maple-court/gw-1/evt/access', body) -> { ok, errors }
 *
 * The topic picks the channel (addresses with `{parameters}` match one topic level each;
 * the most specific address wins, so `cmd/lock.open` beats `cmd/{name}`). On `evt/*`
 * channels the envelope's `type` picks the message (its `name`): an unknown type, or a
 * type published on the wrong class, is an error. Elsewhere the payload must match one of
 * the channel's messages.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv and ajv-formats are CommonJS with a `default` export; under NodeNext the default
// import is the module object, so take `.default` where it exists.
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as typeof AjvModule.default;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;

type Json = Record<string, unknown>;

export interface ChannelInfo {
  key: string;
  address: string;
  /** Parameter names in the order they appear in the address. */
  params: string[];
  /** Allowed values per parameter, when the parameter has an enum. */
  enums: Record<string, string[]>;
  isEvent: boolean;
  messages: { key: string; name: string | undefined; pointer: string; validate: ValidateFunction }[];
  regex: RegExp;
}

export interface AsyncApi {
  file: string;
  doc: Json;
  channels: ChannelInfo[];
}

const DOC_ID = 'urn:gatehouse:asyncapi';

export function asyncApiPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From source (tests/helpers) and from the compiled copy (dist/tests/helpers).
  for (const rel of ['../../docs/asyncapi.yaml', '../../../docs/asyncapi.yaml']) {
    const p = join(here, rel);
    if (existsSync(p)) return p;
  }
  throw new Error(`docs/asyncapi.yaml not found from ${here}`);
}

/** Follows a local `#/a/b` reference; throws when it does not resolve. */
export function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) throw new Error(`only local references are supported: ${ref}`);
  let node: unknown = doc;
  for (const raw of ref
    .slice(1)
    .split('/')
    .filter((s) => s !== '')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(part in (node as Json))) throw new Error(`unresolved reference ${ref}`);
    node = (node as Json)[part];
  }
  return node;
}

/** The pointer of the object a (possibly chained) `$ref` finally lands on. */
function finalPointer(doc: unknown, pointer: string): string {
  for (let hops = 0; hops < 20; hops++) {
    const node = resolvePointer(doc, pointer) as Json;
    if (typeof node?.$ref !== 'string') return pointer;
    pointer = node.$ref;
  }
  throw new Error(`reference loop at ${pointer}`);
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

let cached: AsyncApi | undefined;

/** Parses the document and compiles every message payload once per process. */
export function loadAsyncApi(): AsyncApi {
  if (cached) return cached;
  const file = asyncApiPath();
  const doc = parse(readFileSync(file, 'utf8')) as Json;
  // strict off: AsyncAPI schemas carry annotations (examples, description on $ref siblings).
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const compiled = new Map<string, ValidateFunction>();
  const compile = (pointer: string): ValidateFunction => {
    let v = compiled.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `${DOC_ID}${pointer}` });
      compiled.set(pointer, v);
    }
    return v;
  };
  const payloadPointer = (messagePointer: string): string => {
    const payload = (resolvePointer(doc, messagePointer) as Json).payload as Json | undefined;
    if (!payload) throw new Error(`message ${messagePointer} has no payload`);
    // A Multi Format Schema Object wraps the schema; the default format is plain JSON Schema.
    return typeof payload.schemaFormat === 'string' ? `${messagePointer}/payload/schema` : `${messagePointer}/payload`;
  };

  const channels: ChannelInfo[] = [];
  for (const [key, raw] of Object.entries((doc.channels ?? {}) as Record<string, Json>)) {
    const address = String(raw.address);
    const params: string[] = [];
    const enums: Record<string, string[]> = {};
    const pattern = address
      .split('/')
      .map((level) => {
        const m = /^\{([^}]+)\}$/.exec(level);
        if (!m) return esc(level);
        const name = m[1]!;
        params.push(name);
        const paramNode = (raw.parameters as Json | undefined)?.[name];
        const param = paramNode ? (resolvePointer(doc, finalPointer(doc, `#/channels/${key}/parameters/${name}`)) as Json) : undefined;
        if (Array.isArray(param?.enum)) {
          enums[name] = param.enum.map(String);
          return `(${enums[name].map(esc).join('|')})`;
        }
        return '([^/]+)';
      })
      .join('/');
    const messages = Object.keys((raw.messages ?? {}) as Json).map((mk) => {
      const pointer = finalPointer(doc, `#/channels/${key}/messages/${mk}`);
      const message = resolvePointer(doc, pointer) as Json;
      return {
        key: mk,
        name: typeof message.name === 'string' ? message.name : undefined,
        pointer,
        validate: compile(payloadPointer(pointer)),
      };
    });
    channels.push({ key, address, params, enums, isEvent: /\/evt\/[^/]+$/.test(address), messages, regex: new RegExp(`^${pattern}$`) });
  }
  // Messages only reachable from components must compile too.
  for (const mk of Object.keys(((doc.components as Json | undefined)?.messages ?? {}) as Json))
    compile(payloadPointer(`#/components/messages/${mk}`));
  cached = { file, doc, channels };
  return cached;
}

/** The channel a concrete topic belongs to: the matching address with the fewest parameters. */
export function channelFor(topic: string): ChannelInfo | undefined {
  const matches = loadAsyncApi().channels.filter((c) => c.regex.test(topic));
  matches.sort((a, b) => a.params.length - b.params.length);
  return matches[0];
}

/** A concrete topic for a channel, e.g. for examples: parameters from `values`, else their first example. */
export function topicFor(channelKey: string, values: Record<string, string> = {}): string {
  const api = loadAsyncApi();
  const channel = api.channels.find((c) => c.key === channelKey);
  if (!channel) throw new Error(`no channel ${channelKey}`);
  return channel.address.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (values[name] !== undefined) return values[name];
    const param = resolvePointer(api.doc, finalPointer(api.doc, `#/channels/${channelKey}/parameters/${name}`)) as Json;
    const example = Array.isArray(param.examples) ? param.examples[0] : Array.isArray(param.enum) ? param.enum[0] : undefined;
    if (example === undefined) throw new Error(`parameter ${name} of ${channelKey} has no example`);
    return String(example);
  });
}

function describe(errors: ErrorObject[] | null | undefined, prefix: string): string[] {
  return (errors ?? []).map((e) => {
    const extra = (e.params as { additionalProperty?: string; allowedValues?: unknown }).additionalProperty;
    const allowed = (e.params as { allowedValues?: unknown }).allowedValues;
    return `${prefix}${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${extra ? ` "${extra}"` : ''}${allowed ? ` ${JSON.stringify(allowed)}` : ''}`;
  });
}

/** Checks one MQTT message against the AsyncAPI document. Never throws. */
export function validateMessage(topic: string, payload: Buffer | string): { ok: boolean; errors: string[] } {
  const channel = channelFor(topic);
  if (!channel) return { ok: false, errors: [`no channel in the AsyncAPI document matches topic "${topic}"`] };
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return { ok: false, errors: [`payload on ${channel.key} is not JSON: ${(err as Error).message}`] };
  }
  if (channel.isEvent) {
    const type = (value as Json | null)?.type;
    if (typeof type !== 'string') return { ok: false, errors: [`event on ${channel.key} has no string "type"`] };
    const message = channel.messages.find((m) => m.name === type);
    if (!message) {
      const home = loadAsyncApi().channels.find((c) => c.isEvent && c.messages.some((m) => m.name === type));
      return {
        ok: false,
        errors: [
          home
            ? `event type "${type}" belongs on ${home.address}, not ${channel.address}`
            : `unknown event type "${type}" on ${channel.address}`,
        ],
      };
    }
    const ok = message.validate(value) as boolean;
    return { ok, errors: ok ? [] : describe(message.validate.errors, `${message.key}: `) };
  }
  if (channel.messages.length === 0) return { ok: false, errors: [`channel ${channel.key} carries no messages`] };
  const errors: string[] = [];
  for (const m of channel.messages) {
    if (m.validate(value)) return { ok: true, errors: [] };
    errors.push(...describe(m.validate.errors, `${m.key}: `));
  }
  return { ok: false, errors };
}
