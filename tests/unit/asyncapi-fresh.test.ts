/**
 * docs/asyncapi.yaml is generated (`npm run docs`) from docs/asyncapi.base.yaml and the zod
 * event declarations: the checked-in file must be what the generator writes today, and the
 * generator must refuse declarations that would make an ambiguous document.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { BASE_PATH, OUTPUT_PATH, declaredEvents, generateAsyncApi as generateWith, repoRoot } from '../../gateway/events/asyncapi-gen.js';
import type { EventDoc } from '../../gateway/events/declare.js';

type Json = Record<string, unknown>;
const root = repoRoot();
const base = readFileSync(join(root, BASE_PATH), 'utf8');
/** The core's events and every registered family's, as `npm run docs` reads them. */
const ALL_EVENTS = await declaredEvents();
const generateAsyncApi = (baseYaml: string, events: readonly EventDoc[] = ALL_EVENTS): string => generateWith(baseYaml, events);

describe('generated AsyncAPI document', () => {
  it('docs/asyncapi.yaml is what the declarations generate (else: run `npm run docs`)', () => {
    const fresh = generateAsyncApi(base);
    const checkedIn = readFileSync(join(root, OUTPUT_PATH), 'utf8');
    if (fresh !== checkedIn) {
      const a = fresh.split('\n');
      const b = checkedIn.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      expect.fail(
        `docs/asyncapi.yaml is stale: run \`npm run docs\` (first difference at line ${line + 1}: "${b[line] ?? ''}" should be "${a[line] ?? ''}")`,
      );
    }
  });

  it('is deterministic whatever the order of the declarations', () => {
    expect(generateAsyncApi(base, [...ALL_EVENTS].reverse())).toBe(generateAsyncApi(base));
  });

  it('a changed declaration changes the document (the freshness check can fail)', () => {
    const [first, ...rest] = ALL_EVENTS;
    const changed: EventDoc = { ...first!, description: `${first!.description} Changed.` };
    expect(generateAsyncApi(base, [changed, ...rest])).not.toBe(generateAsyncApi(base));
    expect(generateAsyncApi(base, rest)).not.toContain(`name: ${first!.type}\n`);
  });

  it('puts every declared type on the channel of its class, with its data schema', () => {
    const doc = parse(generateAsyncApi(base)) as Json;
    const channels = doc.channels as Record<string, { messages: Record<string, { $ref: string }> }>;
    const messages = (doc.components as Json).messages as Record<string, Json>;
    for (const e of ALL_EVENTS) {
      const channel = channels[`evt${e.class.charAt(0).toUpperCase()}${e.class.slice(1)}`]!;
      const names = Object.values(channel.messages).map((m) => messages[m.$ref.split('/').pop()!]!.name);
      expect(names, e.type).toContain(e.type);
    }
    const lockTamper = messages.lockTamper as { payload: { allOf: Json[] } };
    expect(lockTamper.payload.allOf[1]).toEqual({
      properties: { type: { const: 'lock.tamper' }, data: { $ref: '#/components/schemas/LockTamperData' } },
    });
    expect((doc.components as { schemas: Json }).schemas.LockTamperData).toEqual({
      type: 'object',
      properties: { lock: { $ref: '#/components/schemas/Id' }, active: { type: 'boolean' } },
      required: ['lock', 'active'],
      additionalProperties: false,
    });
  });

  it('refuses a type declared twice, a message or schema the base document already has, and an unnamed shared schema', () => {
    const tamper = ALL_EVENTS.find((e) => e.type === 'lock.tamper')!;
    expect(() => generateAsyncApi(base, [...ALL_EVENTS, tamper])).toThrow(/lock\.tamper is declared twice/);
    const status: EventDoc = { type: 'status', class: 'system', data: z.strictObject({}), description: 'x' };
    expect(() => generateAsyncApi(base, [...ALL_EVENTS, status])).toThrow(/message status .* also in docs\/asyncapi.base.yaml/);
    const clash = z.strictObject({ a: z.string() }).meta({ id: 'LockState' });
    try {
      expect(() => generateAsyncApi(base, [...ALL_EVENTS, { type: 'test.clash', class: 'system', data: clash, description: 'x' }])).toThrow(
        /schema LockState is both/,
      );
    } finally {
      z.globalRegistry.remove(clash); // named schemas live in zod's global registry
    }
  });

  it('names an undeclared data schema after its type', () => {
    const doc = parse(
      generateAsyncApi(base, [
        ...ALL_EVENTS,
        { type: 'test.thing_done', class: 'system', data: z.strictObject({ n: z.int().min(1) }), description: 'x' },
      ]),
    ) as Json;
    expect(((doc.components as Json).schemas as Json).TestThingDoneEventData).toEqual({
      type: 'object',
      properties: { n: { type: 'integer', minimum: 1 } },
      required: ['n'],
      additionalProperties: false,
    });
  });
});
