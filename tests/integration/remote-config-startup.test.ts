/**
 * What a starting daemon loads (gateway/remote-config/startup.ts), on real files in a temp
 * data directory: a crash at any point of an apply leaves a loadable configuration. A
 * configuration on probation started twice (the first start died) is rolled back, so is one
 * that no longer loads; a damaged last good one or a damaged state.json falls back to the
 * seed; a seed edited on the box wins; a file written but not yet named by state.json is
 * not loaded; the history keeps the last `keep` files.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeFileDurable } from '../../gateway/durable-file.js';
import { resolveStartup } from '../../gateway/remote-config/startup.js';
import { ConfigStore, hashOf } from '../../gateway/remote-config/store.js';

const base = { compound: { id: 'c1' }, gateway: { id: 'gw-1' }, secretsFile: 'secrets.yaml', locks: [{ id: 'flat-1' }] };

describe('remote configuration at start', () => {
  let dir: string;
  let seedFile: string;
  let dataDir: string;
  let seedText: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-rc-start-'));
    seedFile = join(dir, 'compound.yaml');
    dataDir = join(dir, 'data');
    seedText = stringify(base);
    writeFileSync(seedFile, seedText);
    writeFileSync(join(dir, 'secrets.yaml'), stringify({ 'devices.flat-1': 'a', 'devices.flat-2': 'b' }), { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const stage = (version: string, config: Record<string, unknown>, store = new ConfigStore(dataDir)) =>
    store.stage({ text: stringify(config), version, by: 'platform', at: 0, online: [], seedHash: hashOf(seedText) }, store.read()).state;
  const withTwoLocks = { ...base, locks: [{ id: 'flat-1' }, { id: 'flat-2' }] };

  it('starts the seed while nothing was applied', () => {
    const s = resolveStartup(seedFile, dataDir);
    expect(s.source).toMatchObject({ origin: 'seed', version: 'seed', probation: false, hash: hashOf(seedText) });
    expect(s.loaded.secrets.get('devices.flat-1')).toBe('a');
  });

  it('a file written but not yet named by state.json (a crash in the middle of a stage) is not loaded', () => {
    stage('v1', withTwoLocks);
    new ConfigStore(dataDir).confirm(new ConfigStore(dataDir).read()!);
    writeFileDurable(new ConfigStore(dataDir).fileOf(2), stringify({ ...base, locks: [] }));
    const s = resolveStartup(seedFile, dataDir);
    expect(s.source).toMatchObject({ version: 'v1', probation: false });
    expect(s.loaded.config.locks).toHaveLength(2);
  });

  it('a configuration on probation whose first start died is rolled back at the second start, with the event to record', () => {
    stage('v1', withTwoLocks);
    const first = resolveStartup(seedFile, dataDir);
    expect(first.source).toMatchObject({ origin: 'remote', version: 'v1', probation: true });
    expect(first.loaded.config.locks).toHaveLength(2);
    // No confirm: the process died during its probation.
    const second = resolveStartup(seedFile, dataDir);
    expect(second.source).toMatchObject({ origin: 'seed', version: 'seed', probation: false });
    const state = new ConfigStore(dataDir).read()!;
    expect(state.probation).toBeUndefined();
    expect(state.entries[0]).toMatchObject({ version: 'v1', status: 'rolled_back' });
    expect(state.pending).toEqual([expect.objectContaining({ type: 'config.rolled_back', version: 'v1', restoredVersion: 'seed' })]);
    expect(state.pending[0]!.reason).toMatch(/before the change proved healthy/);
  });

  it('a staged configuration that does not load is rolled back to the last good one', () => {
    stage('v1', withTwoLocks);
    const store = new ConfigStore(dataDir);
    store.confirm(store.read()!);
    // Valid when applied, refused now (as after an upgrade that dropped a key).
    stage('v2', { ...withTwoLocks, lockz: [] });
    const s = resolveStartup(seedFile, dataDir);
    expect(s.source).toMatchObject({ version: 'v1', probation: false });
    const state = store.read()!;
    expect(state.entries.find((e) => e.version === 'v2')).toMatchObject({ status: 'rolled_back' });
    expect(state.pending[0]).toMatchObject({ type: 'config.rolled_back', version: 'v2', restoredVersion: 'v1' });
    expect(state.pending[0]!.reason).toMatch(/does not load.*lockz/);
  });

  it('a damaged last good file, or a damaged state.json, falls back to the seed', () => {
    stage('v1', withTwoLocks);
    const store = new ConfigStore(dataDir);
    store.confirm(store.read()!);
    writeFileSync(store.fileOf(1), 'locks: [\n');
    const s = resolveStartup(seedFile, dataDir);
    expect(s.source.origin).toBe('seed');
    expect(s.notes.join('\n')).toMatch(/does not match the hash/);
    writeFileSync(join(store.dir, 'state.json'), '{"v":1,');
    expect(resolveStartup(seedFile, dataDir).source.origin).toBe('seed');
  });

  it('a seed edited on the box since the apply wins', () => {
    stage('v1', withTwoLocks);
    const store = new ConfigStore(dataDir);
    store.confirm(store.read()!);
    expect(resolveStartup(seedFile, dataDir).source.version).toBe('v1');
    writeFileSync(seedFile, stringify({ ...base, locks: [] }));
    const s = resolveStartup(seedFile, dataDir);
    expect(s.source.origin).toBe('seed');
    expect(s.loaded.config.locks).toEqual([]);
    expect(s.notes.join('\n')).toMatch(/was edited/);
  });

  it('keeps the last `keep` configurations and never the running or last good one out', () => {
    const store = new ConfigStore(dataDir, 3);
    for (let i = 1; i <= 6; i++) {
      stage(`v${i}`, { ...base, locks: [{ id: `flat-${i}` }] }, store);
      if (i === 1) store.confirm(store.read()!);
      else store.rollBack(store.read()!, 'test');
    }
    const files = readdirSync(store.dir).filter((f) => f.startsWith('compound-'));
    // v4..v6 (the last three) and v1 (the last good, running again after each rollback).
    expect(files.sort()).toEqual(['compound-1.yaml', 'compound-4.yaml', 'compound-5.yaml', 'compound-6.yaml']);
    expect(store.read()!.entries.map((e) => e.version)).toEqual(['v1', 'v4', 'v5', 'v6']);
    expect(resolveStartup(seedFile, dataDir).source.version).toBe('v1');
  });

  it('a secrets.set whose first start died is rolled back at the second start: the previous values are back', () => {
    const store = new ConfigStore(dataDir);
    store.writeSecrets({ 'devices.flat-1': 'platform-old' });
    store.stageSecrets({ 'devices.flat-1': 'platform-new' }, { online: [], seedHash: hashOf(seedText) }, store.read());
    const first = resolveStartup(seedFile, dataDir);
    expect(first.source).toMatchObject({ origin: 'seed', probation: true });
    expect(first.loaded.secrets.get('devices.flat-1')).toBe('platform-new');
    const second = resolveStartup(seedFile, dataDir);
    expect(second.source).toMatchObject({ origin: 'seed', probation: false });
    expect(second.loaded.secrets.get('devices.flat-1')).toBe('platform-old');
    expect(store.read()!.pending[0]).toMatchObject({ type: 'config.rolled_back', version: 'seed', secrets: ['devices.flat-1'] });
  });
});
