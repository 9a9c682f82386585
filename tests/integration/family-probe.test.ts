/**
 * The live device check iterates the registry: a family added through the registry API
 * alone (the chime fixture) is probed with no code naming it — in the daemon through the
 * `probe` control request, with its running instance; from the CLI side without one. A
 * family whose probe throws fails its own row, and the others are still checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { compoundSchema, type CompoundConfig } from '../../config/schema.js';
import { Gateway } from '../../gateway/app.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { controlRequest } from '../../gateway/control/control-socket.js';
import { createLoggerFactory, silentLogger } from '../../gateway/core/log.js';
import { FAMILIES } from '../../gateway/families/registry.js';
import type { FamilyManifest } from '../../gateway/families/family.js';
import { runProbes, type ProbeRun } from '../../gateway/probe/run-probes.js';
import { chimeFamily, type ChimeCompound } from '../fixtures/families/chime/family.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { outboxConnection } from '../helpers/store.js';

const base = { compound: { id: 'c' }, gateway: { id: 'g' }, broker: { port: 0 }, console: { enabled: false }, log: { level: 'silent' } };
let gateway: Gateway | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setup(extra: FamilyManifest<ChimeCompound>[]) {
  const families = [...FAMILIES, ...extra] as readonly FamilyManifest<ChimeCompound>[];
  const config = compoundSchema<ChimeCompound>(families).parse({ ...base, chimes: [{ id: 'hall' }, { id: 'porch' }] }) as ChimeCompound;
  return { families: families as readonly FamilyManifest<CompoundConfig>[], config: config as CompoundConfig };
}

describe('the live check of a family added through the registry', () => {
  it('runs in the daemon through the control socket with the running instance, progress first', async () => {
    const { families, config } = setup([chimeFamily()]);
    dir = mkdtempSync(join(tmpdir(), 'gh-family-probe-'));
    gateway = new Gateway({
      config,
      secrets: secretsFrom({ 'chimes.hall': 'ding', 'chimes.porch': 'dong' }),
      dataDir: dir,
      logs: createLoggerFactory({ level: 'silent' }),
      families,
    });
    await gateway.start();
    const progress: string[] = [];
    const answer = await controlRequest(dir, { op: 'probe', deviceTimeoutMs: 1000 }, 10_000, (l) => progress.push(l));
    expect(answer?.ok).toBe(true);
    const run = (answer as { result: ProbeRun }).result;
    expect(run.via).toBe('daemon');
    expect(run.families).toEqual([
      {
        family: 'chimes',
        results: [
          expect.objectContaining({
            id: 'hall',
            ok: true,
            detail: expect.stringMatching(/^through the running family \(secret hall=ding, .*start\)$/),
          }),
          expect.objectContaining({ id: 'porch', ok: true }),
        ],
      },
    ]);
    expect(progress).toEqual(['chime hall: OK', 'chime porch: OK']);
    // Audited like a command: the platform learns a check ran on the box.
    const audits = (outboxConnection(gateway.outbox).prepare('SELECT body FROM events').pluck().all() as string[])
      .map((b) => JSON.parse(b) as { type: string; data: { command?: string } })
      .filter((e) => e.type === 'command.executed' && e.data.command === 'devices.check');
    expect(audits.map((e) => e.data)).toEqual([
      {
        command: 'devices.check',
        id: expect.any(String),
        caller: { via: 'cli', role: 'installer', principal: 'cli' },
        ok: true,
        durationMs: expect.any(Number),
      },
    ]);
    const body = outboxConnection(gateway.outbox)
      .prepare("SELECT body FROM events WHERE body LIKE '%devices.check%'")
      .pluck()
      .get() as string;
    expect(validateMessage('gatehouse/v1/c/g/evt/system', body)).toMatchObject({ ok: true });
  });

  it('runs without a daemon on its own, and a probe that throws fails only its family', async () => {
    // A second family on the same compound keys (no slice or devices of its own) whose probe throws.
    const broken: FamilyManifest<ChimeCompound> = {
      ...chimeFamily({ failProbe: 'the bus exploded' }),
      name: 'chimes-broken',
      config: {},
      devices: () => [],
      secrets: () => [],
    };
    const { families, config } = setup([chimeFamily(), broken]);
    const run = await runProbes({
      config,
      secrets: secretsFrom({}),
      dataDir: '/nonexistent',
      families,
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log: silentLogger(),
      deviceTimeoutMs: 1000,
      progress: () => undefined,
    });
    expect(run.via).toBe('direct');
    expect(run.families.map((f) => [f.family, f.results.map((r) => `${r.id} ${r.ok ? 'OK' : 'FAIL'} ${r.detail}`)])).toEqual([
      ['chimes', ['hall OK opened directly', 'porch OK opened directly']],
      ['chimes-broken', ['chimes-broken FAIL the bus exploded']],
    ]);
  });
});
