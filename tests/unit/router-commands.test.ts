/**
 * The real commands behind the router — system.ping, system.status and the smart-lock
 * commands (over a stand-in driver) — answered through a real outbox, with every request
 * and answer checked against its per-command AsyncAPI channel.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandsConfig } from '../../config/schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { CommandRouter } from '../../gateway/commands/router.js';
import { registerSystemCommands } from '../../gateway/commands/system-commands.js';
import { lockCommands } from '../../gateway/locks/commands.js';
import type { SmartLockDriver } from '../../drivers/smartlock/driver.js';
import type { Caller, CommandReply } from '../../gateway/commands/types.js';
import { validateMessage } from '../helpers/asyncapi.js';

const ROOT = 'gatehouse/v1/maple-court/gw-1';
const PLATFORM: Caller = { via: 'uplink', role: 'platform', principal: 'platform' };

describe('system and lock commands through the router', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let router: CommandRouter;
  let driverCalls: unknown[][];

  /** Sends on `cmd/{name}` (after checking the request against the document) and returns the answer. */
  const command = async (name: string, request: Record<string, unknown>, caller: Caller = PLATFORM): Promise<CommandReply> => {
    const body = JSON.stringify(request);
    expect(validateMessage(`${ROOT}/cmd/${name}`, body), body).toEqual({ ok: true, errors: [] });
    await router.handleMessage(name, Buffer.from(body), caller);
    const row = outbox.readReplies(0, 1000).at(-1)!;
    expect(row.topic).toBe(`cmd/${name}/res`);
    expect(validateMessage(`${ROOT}/${row.topic}`, row.body), row.body).toEqual({ ok: true, errors: [] });
    return JSON.parse(row.body) as CommandReply;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-router-cmds-'));
    clock = new ManualClock();
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    router = new CommandRouter({ config: CommandsConfig.parse({}), outbox, clock, log: silentLogger(), timers: clock });
    registerSystemCommands(router, {
      status: () => ({
        version: '0.1.0',
        compound: 'maple-court',
        gateway: 'gw-1',
        clock: clock.state(),
        failedComponents: {},
        uplink: { connected: false },
        outbox: outbox.stats(),
      }),
    });
    driverCalls = [];
    const driver = {
      open: async (seconds?: number) => (driverCalls.push(['open', seconds]), {}),
      setCredential: async (c: unknown) => (driverCalls.push(['set', c]), {}),
      revokeCredential: async (id: string) => {
        driverCalls.push(['revoke', id]);
        if (id === 'gone') throw new GatehouseError('DEVICE_REFUSED', 'the lock has no credential "gone"', { lockCode: 'NOT_FOUND' });
        return {};
      },
    } as unknown as SmartLockDriver;
    for (const def of lockCommands((id) => (id === 'flat-a' ? driver : undefined))) router.register(def);
  });
  afterEach(() => {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('system.ping answers pong with the gateway time', async () => {
    expect(await command('system.ping', { id: 'p-1' })).toEqual({
      id: 'p-1',
      ok: true,
      ts: new Date(clock.now()).toISOString(),
      result: { pong: true, ts: new Date(clock.now()).toISOString() },
    });
    expect(await router.execute('system.ping', { id: 'p-2' }, { via: 'console', role: 'guard', principal: 'g' })).toMatchObject({
      ok: true,
    });
  });

  it('system.status returns the provider output to platform, installer and admin, not to a guard', async () => {
    expect(await command('system.status', { id: 's-1' })).toMatchObject({
      ok: true,
      result: { version: '0.1.0', compound: 'maple-court', clock: 'synced' },
    });
    expect(await router.execute('system.status', { id: 's-2' }, { via: 'console', role: 'installer', principal: 'i' })).toMatchObject({
      ok: true,
    });
    expect(await router.execute('system.status', { id: 's-3' }, { via: 'console', role: 'guard', principal: 'g' })).toMatchObject({
      ok: false,
      error: { code: 'CMD_FORBIDDEN' },
    });
    // The document refuses the request too: the router and the AsyncAPI schema agree.
    expect(validateMessage(`${ROOT}/cmd/system.status`, JSON.stringify({ id: 's-4', args: { verbose: true } })).ok).toBe(false);
    expect(await router.execute('system.status', { id: 's-4', args: { verbose: true } }, PLATFORM)).toMatchObject({
      ok: false,
      error: { code: 'CMD_INVALID' },
    });
  });

  it('lock.open, lock.credential.set and lock.credential.revoke answer in their documented shapes', async () => {
    expect(await command('lock.open', { id: 'l-1', args: { lock: 'flat-a', seconds: 5 } })).toMatchObject({
      ok: true,
      result: { lock: 'flat-a', opened: true, seconds: 5 },
    });
    const set = await command('lock.credential.set', {
      id: 'l-2',
      args: { lock: 'flat-a', credentialId: 'tenant-77', kind: 'card', value: '04A1B2C3D4' },
    });
    expect(set).toMatchObject({ ok: true, result: { credential: '****C3D4' } });
    expect(JSON.stringify(set)).not.toContain('04A1B2C3D4');
    expect(await command('lock.credential.revoke', { id: 'l-3', args: { lock: 'flat-a', credentialId: 'tenant-77' } })).toMatchObject({
      ok: true,
      result: { revoked: true },
    });
    expect(driverCalls.map((c) => c[0])).toEqual(['open', 'set', 'revoke']);
  });

  it('lock command failures are coded: unknown lock, refused by the lock, bad PIN', async () => {
    expect(await command('lock.open', { id: 'f-1', args: { lock: 'flat-z' } })).toMatchObject({
      ok: false,
      error: { code: 'DEVICE_UNKNOWN' },
    });
    expect(await command('lock.credential.revoke', { id: 'f-2', args: { lock: 'flat-a', credentialId: 'gone' } })).toMatchObject({
      ok: false,
      error: { code: 'DEVICE_REFUSED', details: { lockCode: 'NOT_FOUND' } },
    });
    await router.handleMessage(
      'lock.credential.set',
      Buffer.from(JSON.stringify({ id: 'f-3', args: { lock: 'flat-a', credentialId: 't', kind: 'pin', value: '12' } })),
      PLATFORM,
    );
    const reply = JSON.parse(outbox.readReplies(0, 100).at(-1)!.body) as CommandReply;
    expect(reply).toMatchObject({ ok: false, error: { code: 'CMD_INVALID', details: { issues: [{ path: 'args.value' }] } } });
    // The refused value is not echoed in the answer.
    expect(JSON.stringify(reply)).not.toMatch(/"12"/);
  });
});
