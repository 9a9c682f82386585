/**
 * A family added through the registry API alone (tests/fixtures/families/chime): the
 * composed schema parses its slice and shares the device-id space with it, the gateway
 * loads it only when configured, registers its command, reports its status under its name,
 * starts and stops it, and isolates it when it cannot be created. Real outbox file, real
 * embedded broker on a free port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { compoundSchema, type CompoundConfig } from '../../config/schema.js';
import { Gateway } from '../../gateway/app.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { FAMILIES } from '../../gateway/families/registry.js';
import { secretsOf } from '../../gateway/families/boot.js';
import type { FamilyManifest } from '../../gateway/families/family.js';
import { chimeFamily, loaded, type ChimeCompound } from '../fixtures/families/chime/family.js';
import type { ChimeInstance } from '../fixtures/families/chime/create-chime.js';
import { waitFor } from '../helpers/wait.js';
import { outboxConnection } from '../helpers/store.js';

const base = { compound: { id: 'c' }, gateway: { id: 'g' }, broker: { port: 0 }, console: { enabled: false }, log: { level: 'silent' } };
let gateway: Gateway | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function withChimes(chime: FamilyManifest<ChimeCompound>) {
  const families = [...FAMILIES, chime] as readonly FamilyManifest<ChimeCompound>[];
  return { families, schema: compoundSchema<ChimeCompound>(families) };
}

function startGateway(config: ChimeCompound, families: readonly FamilyManifest<ChimeCompound>[]): Gateway {
  dir = mkdtempSync(join(tmpdir(), 'gh-family-'));
  const logs = createLoggerFactory({ level: 'silent' });
  gateway = new Gateway({
    config: config as CompoundConfig,
    secrets: secretsFrom({ 'chimes.hall': 'ding' }),
    dataDir: dir,
    logs,
    families: families as readonly FamilyManifest<CompoundConfig>[],
  });
  return gateway;
}

describe('a family added through the registry', () => {
  it('composes its config slice and shares the device-id space', () => {
    const { schema, families } = withChimes(chimeFamily());
    const config = schema.parse({ ...base, chimes: [{ id: 'hall' }] }) as ChimeCompound;
    expect(config.chimes).toEqual([{ id: 'hall' }]);
    expect(secretsOf(families, config).map((r) => r.name)).toEqual(['chimes.hall']);
    const dup = schema.safeParse({ ...base, locks: [{ id: 'hall' }], chimes: [{ id: 'hall' }] });
    expect(dup.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'chimes.0.id: duplicate device id "hall" (also locks[0])',
    ]);
    // Without the family its key is unknown: the registry is what makes it exist.
    expect(compoundSchema(FAMILIES).safeParse({ ...base, chimes: [] }).success).toBe(false);
  });

  it('is loaded, created, commanded, reported and stopped by the gateway without app.ts knowing it', async () => {
    const { schema, families } = withChimes(chimeFamily());
    const gw = startGateway(schema.parse({ ...base, chimes: [{ id: 'hall' }] }) as ChimeCompound, families);
    await gw.start();
    expect(loaded.count).toBe(1);
    const chimes = gw.family<ChimeInstance>('chimes');
    expect(chimes.journal).toEqual(['secret hall=ding', 'start']);
    const reply = await gw.router.execute(
      'chime.ring',
      { id: 'r-1', args: { chime: 'hall' } },
      { via: 'cli', role: 'admin', principal: 'test' },
    );
    expect(reply).toMatchObject({ ok: true, result: { rung: 'hall' } });
    expect(gw.status()).toMatchObject({ chimes: { rings: 1 }, failedComponents: {} });
    await gw.stop();
    expect(chimes.journal).toEqual(['secret hall=ding', 'start', 'stop']);
  });

  it('keeps an unconfigured family out: its idle status only, its command unknown', async () => {
    const { schema, families } = withChimes(chimeFamily());
    const gw = startGateway(schema.parse(base) as ChimeCompound, families);
    await gw.start();
    expect(gw.status()).toMatchObject({ chimes: {} });
    expect(() => gw.family('chimes')).toThrow(/no family "chimes"/);
    const reply = await gw.router.execute(
      'chime.ring',
      { id: 'r-2', args: { chime: 'hall' } },
      { via: 'cli', role: 'admin', principal: 'test' },
    );
    expect(reply).toMatchObject({ ok: false, error: { code: 'CMD_UNKNOWN' } });
  });

  it('reports a family that cannot be created as component.failed, and the rest runs', async () => {
    const { schema, families } = withChimes(chimeFamily({ failCreate: 'chime wiring is wrong' }));
    const gw = startGateway(schema.parse({ ...base, chimes: [{ id: 'hall' }] }) as ChimeCompound, families);
    await gw.start();
    expect(gw.status()).toMatchObject({ failedComponents: { chimes: 'chime wiring is wrong' }, chimes: {} });
    expect(gw.brokerPort).toBeGreaterThan(0);
    const failed = () =>
      (outboxConnection(gw.outbox).prepare('SELECT body FROM events').pluck().all() as string[])
        .map((b) => JSON.parse(b) as { type: string; data: unknown })
        .filter((e) => e.type === 'component.failed')
        .map((e) => e.data);
    expect(await waitFor(() => failed().length > 0 && failed(), 'component.failed recorded')).toEqual([
      { component: 'chimes', error: 'chime wiring is wrong' },
    ]);
  });

  it('refuses to build a gateway whose family needs what nobody provides', () => {
    const { schema, families } = withChimes(chimeFamily({ needs: ['outputs'] }));
    // No perimeter configured: nothing provides `outputs`.
    expect(() => startGateway(schema.parse({ ...base, chimes: [{ id: 'hall' }] }) as ChimeCompound, families)).toThrow(
      /family chimes needs "outputs"/,
    );
  });
});
