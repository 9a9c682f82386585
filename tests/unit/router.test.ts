/**
 * CommandRouter against a real outbox on a temporary SQLite file and a hand-driven clock:
 * every stage of the pipeline, the answer and audit trail it leaves, replay refusal
 * across a restart, and the flood limit. Every answer and audit event is also checked
 * against docs/asyncapi.yaml.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CommandsConfig } from '../../config/schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { CommandRouter } from '../../gateway/commands/router.js';
import type { Caller, CommandReply } from '../../gateway/commands/types.js';
import { validateMessage } from '../helpers/asyncapi.js';

const ROOT = 'gatehouse/v1/maple-court/gw-1';
const PLATFORM: Caller = { via: 'uplink', role: 'platform', principal: 'platform' };
const GUARD: Caller = { via: 'console', role: 'guard', principal: 'wang.li' };
type Json = Record<string, unknown>;

interface Audit {
  command: string;
  id: string | null;
  caller: Caller;
  ok: boolean;
  error?: string;
  durationMs: number;
}

describe('CommandRouter', () => {
  let dir: string;
  let file: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let router: CommandRouter;
  let calls: { name: string; args: unknown }[];

  const make = (config: Partial<z.input<typeof CommandsConfig>> = {}, limits?: { auditPerMinute: number; replyPerMinute: number }) => {
    outbox = new Outbox({ file, clock, config: { checkpointIntervalMs: 0 } });
    router = new CommandRouter({
      config: CommandsConfig.parse(config),
      outbox,
      clock,
      log: silentLogger(),
      timers: clock,
      ...(limits ? { refusalLimits: limits } : {}),
    });
    router.register({
      name: 'test.add',
      description: 'adds',
      args: z.object({ a: z.number(), b: z.number() }).strict(),
      roles: ['platform', 'admin'],
      async handler(args) {
        calls.push({ name: 'test.add', args });
        return { sum: args.a + args.b };
      },
    });
    router.register({
      name: 'test.fail',
      description: 'fails as told',
      args: z.object({ how: z.enum(['coded', 'plain', 'sync', 'hang', 'nonobject']) }),
      roles: ['platform', 'guard'],
      handler(args) {
        calls.push({ name: 'test.fail', args });
        if (args.how === 'sync') throw new Error('thrown synchronously from /srv/secret/path');
        if (args.how === 'hang') return new Promise(() => undefined);
        if (args.how === 'nonobject') return Promise.resolve('yes' as unknown as Record<string, unknown>);
        if (args.how === 'coded') return Promise.reject(new GatehouseError('DEVICE_OFFLINE', 'lock flat-a is offline', { lock: 'flat-a' }));
        return Promise.reject(new Error('ECONNRESET at /srv/secret/path'));
      },
    });
  };
  const send = (name: string, body: unknown, caller: Caller = PLATFORM) =>
    router.handleMessage(name, Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), caller);
  const replies = (): { topic: string; reply: CommandReply }[] =>
    outbox.readReplies(0, 10_000).map((r) => ({ topic: r.topic, reply: JSON.parse(r.body) as CommandReply }));
  const lastReply = (): CommandReply => replies().at(-1)!.reply;
  const audits = (type = 'command.executed'): Audit[] =>
    outbox
      .readEvents(0, 10_000)
      .map((r) => JSON.parse(r.body) as { type: string; data: unknown })
      .filter((e) => e.type === type)
      .map((e) => e.data as Audit);
  const errorOf = (r: CommandReply) => (r.ok ? undefined : r.error);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-router-'));
    file = join(dir, 'outbox.db');
    clock = new ManualClock();
    calls = [];
    make();
  });
  afterEach(() => {
    try {
      // Whatever a test did, everything recorded must match the AsyncAPI document.
      for (const r of outbox.readReplies(0, 10_000))
        expect(validateMessage(`${ROOT}/${r.topic}`, r.body), r.body).toEqual({ ok: true, errors: [] });
      for (const e of outbox.readEvents(0, 10_000))
        expect(validateMessage(`${ROOT}/evt/${e.class}`, e.body), e.body).toEqual({ ok: true, errors: [] });
    } finally {
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a valid command, answers on cmd/{name}/res with its id, and audits it', async () => {
    await send('test.add', { id: 'c-1', expires: new Date(clock.now() + 30_000).toISOString(), args: { a: 2, b: 3 } });
    expect(replies()).toEqual([
      { topic: 'cmd/test.add/res', reply: { id: 'c-1', ok: true, ts: new Date(clock.now()).toISOString(), result: { sum: 5 } } },
    ]);
    expect(calls).toEqual([{ name: 'test.add', args: { a: 2, b: 3 } }]);
    expect(audits()).toEqual([{ command: 'test.add', id: 'c-1', caller: PLATFORM, ok: true, durationMs: 0 }]);
  });

  it('refuses malformed JSON, non-objects and bad UTF-8 with CMD_MALFORMED and a null id', async () => {
    for (const body of ['{"id":"c-1",', '[1,2]', '42', 'null', '"str"', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])])
      await send('test.add', body);
    const rs = replies();
    expect(rs).toHaveLength(6);
    for (const { topic, reply } of rs) {
      expect(topic).toBe('cmd/test.add/res');
      expect(reply).toMatchObject({ id: null, ok: false, error: { code: 'CMD_MALFORMED' } });
    }
    expect(calls).toEqual([]);
    expect(audits().map((a) => [a.ok, a.error, a.id])).toEqual(Array(6).fill([false, 'CMD_MALFORMED', null]));
  });

  it('refuses a request without an id (CMD_INVALID, path "id"), and keeps the id when something else is wrong', async () => {
    await send('test.add', { args: { a: 1, b: 2 } });
    expect(lastReply()).toMatchObject({ id: null, ok: false, error: { code: 'CMD_INVALID', details: { issues: [{ path: 'id' }] } } });
    await send('test.add', { id: 'c-2', expire: '2030-01-01T00:00:00Z', args: { a: 1, b: 2 } });
    expect(lastReply()).toMatchObject({ id: 'c-2', ok: false, error: { code: 'CMD_INVALID' } });
    await send('test.add', { id: 'c-3', expires: 'tomorrow' });
    expect(errorOf(lastReply())?.details).toEqual({ issues: [expect.objectContaining({ path: 'expires' })] });
    await send('test.add', { id: 'x'.repeat(129) });
    expect(lastReply().id).toBeNull();
    expect(calls).toEqual([]);
  });

  it('answers an unknown command CMD_UNKNOWN with its id', async () => {
    await send('door.melt', { id: 'c-1' });
    expect(replies()).toEqual([
      {
        topic: 'cmd/door.melt/res',
        reply: expect.objectContaining({ id: 'c-1', ok: false, error: expect.objectContaining({ code: 'CMD_UNKNOWN' }) }),
      },
    ]);
  });

  it('refuses wrong argument types with the zod issue paths', async () => {
    await send('test.add', { id: 'c-1', args: { a: '2', b: 3, c: 1 } });
    const err = errorOf(lastReply());
    expect(err?.code).toBe('CMD_INVALID');
    const paths = (err?.details?.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['args.a']));
    expect(paths.some((p) => p === 'args' || p === 'args.c')).toBe(true);
    await send('test.add', { id: 'c-2', args: [1, 2] });
    expect(errorOf(lastReply())?.code).toBe('CMD_INVALID');
    expect(calls).toEqual([]);
  });

  it('refuses an expired command, and says so when the clock is unsynced', async () => {
    const past = new Date(clock.now() - 1000).toISOString();
    await send('test.add', { id: 'c-1', expires: past, args: { a: 1, b: 1 } });
    expect(errorOf(lastReply())).toMatchObject({ code: 'CMD_EXPIRED', details: { expires: past, clock: 'synced' } });
    clock.setState('unsynced');
    await send('test.add', { id: 'c-2', expires: past, args: { a: 1, b: 1 } });
    expect(errorOf(lastReply())).toMatchObject({
      code: 'CMD_EXPIRED',
      details: { clock: 'unsynced', note: expect.stringMatching(/not synchronised/) },
    });
    // Unsynced but not (visibly) expired: it runs rather than leaving the compound without remote control.
    await send('test.add', { id: 'c-3', expires: new Date(clock.now() + 5000).toISOString(), args: { a: 1, b: 1 } });
    expect(lastReply()).toMatchObject({ id: 'c-3', ok: true });
    // An expired id is not consumed: the same id with a fresh expiry runs.
    clock.setState('synced');
    await send('test.add', { id: 'c-1', expires: new Date(clock.now() + 5000).toISOString(), args: { a: 1, b: 1 } });
    expect(lastReply()).toMatchObject({ id: 'c-1', ok: true });
  });

  it('refuses a replayed id, also after a restart, until the replay window has passed', async () => {
    const body = { id: 'c-1', args: { a: 1, b: 2 } };
    await send('test.add', body);
    await send('test.add', body);
    expect(lastReply()).toMatchObject({
      id: 'c-1',
      ok: false,
      error: { code: 'CMD_REPLAYED', details: { firstSeenAt: new Date(clock.now()).toISOString() } },
    });
    expect(calls).toHaveLength(1);
    // The same id under another command name is the same id.
    await send('test.fail', { id: 'c-1', args: { how: 'coded' } });
    expect(errorOf(lastReply())?.code).toBe('CMD_REPLAYED');

    outbox.close();
    make();
    await send('test.add', body);
    expect(errorOf(lastReply())?.code).toBe('CMD_REPLAYED');
    expect(calls).toHaveLength(1);

    clock.advance(24 * 3600_000 + 61_000);
    await send('test.add', body);
    expect(lastReply()).toMatchObject({ id: 'c-1', ok: true });
    expect(calls).toHaveLength(2);
  });

  it('keeps an id at least until its own expiry, even past the replay window', async () => {
    outbox.close();
    make({ replayWindowMs: 60_000 });
    const body = { id: 'c-1', expires: new Date(clock.now() + 3 * 3600_000).toISOString(), args: { a: 1, b: 2 } };
    await send('test.add', body);
    clock.advance(2 * 3600_000);
    await send('test.add', body);
    expect(errorOf(lastReply())?.code).toBe('CMD_REPLAYED');
  });

  it('refuses an oversized payload before parsing it', async () => {
    outbox.close();
    make({ maxPayloadBytes: 256 });
    await send('test.add', `{"id":"c-1","args":{"a":1,"b":2},"pad":"${'x'.repeat(300)}"}`);
    expect(lastReply()).toMatchObject({
      id: null,
      ok: false,
      error: { code: 'CMD_TOO_LARGE', details: { size: expect.any(Number), limit: 256 } },
    });
    await send('test.add', 'x'.repeat(1000)); // not even JSON: the size is what is reported
    expect(errorOf(lastReply())?.code).toBe('CMD_TOO_LARGE');
    expect(calls).toEqual([]);
  });

  it('refuses a role the command does not allow', async () => {
    expect(await router.execute('test.add', { id: 'c-1', args: { a: 1, b: 2 } }, GUARD)).toMatchObject({
      id: 'c-1',
      ok: false,
      error: { code: 'CMD_FORBIDDEN' },
    });
    expect(calls).toEqual([]);
    expect(audits()).toEqual([{ command: 'test.add', id: 'c-1', caller: GUARD, ok: false, error: 'CMD_FORBIDDEN', durationMs: 0 }]);
  });

  it('maps handler errors to their code, or to CMD_FAILED without leaking the message or a stack', async () => {
    await send('test.fail', { id: 'c-1', args: { how: 'coded' } });
    expect(lastReply()).toMatchObject({
      id: 'c-1',
      ok: false,
      error: { code: 'DEVICE_OFFLINE', message: 'lock flat-a is offline', details: { lock: 'flat-a' } },
    });
    for (const how of ['plain', 'sync', 'nonobject']) {
      await send('test.fail', { id: `c-${how}`, args: { how } });
      const r = lastReply();
      expect(r).toMatchObject({ id: `c-${how}`, ok: false, error: { code: 'CMD_FAILED' } });
      expect(JSON.stringify(r)).not.toMatch(/secret|ECONNRESET|\n\s+at /);
    }
    expect(audits().map((a) => a.error)).toEqual(['DEVICE_OFFLINE', 'CMD_FAILED', 'CMD_FAILED', 'CMD_FAILED']);
  });

  it('answers CMD_TIMEOUT when a handler outlives its deadline', async () => {
    outbox.close();
    make({ defaultTtlMs: 5000 });
    const pending = send('test.fail', { id: 'c-1', args: { how: 'hang' } });
    await new Promise((r) => setImmediate(r));
    clock.advance(5000);
    await pending;
    expect(lastReply()).toMatchObject({ id: 'c-1', ok: false, error: { code: 'CMD_TIMEOUT', details: { timeoutMs: 5000 } } });
    expect(audits()).toEqual([expect.objectContaining({ ok: false, error: 'CMD_TIMEOUT', durationMs: 5000 })]);
  });

  it('shortens the deadline to the time left before expires when the clock is synced', async () => {
    const pending = send('test.fail', { id: 'c-1', expires: new Date(clock.now() + 2000).toISOString(), args: { how: 'hang' } });
    await new Promise((r) => setImmediate(r));
    clock.advance(2000);
    await pending;
    expect(errorOf(lastReply())).toMatchObject({ code: 'CMD_TIMEOUT', details: { timeoutMs: 2000 } });
  });

  it('audits every command, run or refused, with caller and outcome but never arguments', async () => {
    await send('test.add', { id: 'a-1', args: { a: 1, b: 1 } });
    await send('test.add', '{');
    await send('nope', { id: 'a-3' });
    await router.execute('test.fail', { id: 'a-4', args: { how: 'coded' } }, GUARD);
    expect(audits().map((a) => [a.command, a.id, a.caller.via, a.ok, a.error])).toEqual([
      ['test.add', 'a-1', 'uplink', true, undefined],
      ['test.add', null, 'uplink', false, 'CMD_MALFORMED'],
      ['nope', 'a-3', 'uplink', false, 'CMD_UNKNOWN'],
      ['test.fail', 'a-4', 'console', false, 'DEVICE_OFFLINE'],
    ]);
    expect(JSON.stringify(audits())).not.toMatch(/"args"|"how"/);
  });

  it('limits the audit (and then the answers) of a flood from one caller, and reports a summary', async () => {
    outbox.close();
    make({}, { auditPerMinute: 5, replyPerMinute: 8 });
    for (let i = 0; i < 12; i++) await send('test.add', '{garbage');
    await send('test.add', { id: 'ok-1', args: { a: 1, b: 1 } }); // a valid command is never limited
    await router.execute('test.add', '{', GUARD); // another caller has its own budget
    expect(replies().filter((r) => r.reply.ok === false)).toHaveLength(8);
    expect(lastReply()).toMatchObject({ id: 'ok-1', ok: true });
    expect(audits().filter((a) => a.caller.principal === 'platform' && !a.ok)).toHaveLength(5);
    expect(audits().filter((a) => a.caller.principal === 'wang.li')).toHaveLength(1);
    expect(audits('command.refusals_suppressed')).toEqual([]);

    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 10));
    const [summary, ...more] = audits('command.refusals_suppressed') as unknown as Json[];
    expect(more).toEqual([]);
    expect(summary).toMatchObject({ caller: PLATFORM, count: 7, unanswered: 4, byCode: { CMD_MALFORMED: 7 } });

    // A new minute, a new budget.
    await send('test.add', '{garbage');
    expect(audits().filter((a) => !a.ok && a.caller.principal === 'platform')).toHaveLength(6);
  });

  it('does not answer a name that is not a safe topic level, answers odd legal ones, and ignores its own answers', async () => {
    await send('a b', { id: 'c-1' });
    await send('x#', { id: 'c-2' });
    await send('bell\u0007', { id: 'c-3' });
    await send('y'.repeat(65), { id: 'c-4' });
    await send('test.add/res', { id: 'c-5', ok: true });
    expect(replies()).toEqual([
      {
        topic: 'cmd/a b/res',
        reply: expect.objectContaining({ id: 'c-1', ok: false, error: expect.objectContaining({ code: 'CMD_UNKNOWN' }) }),
      },
    ]);
    expect(audits().map((a) => [a.command, a.error])).toEqual([
      ['a b', 'CMD_UNKNOWN'],
      ['x#', 'CMD_UNKNOWN'],
      ['bell\u0007', 'CMD_UNKNOWN'],
      [`${'y'.repeat(64)}…`, 'CMD_UNKNOWN'],
    ]);
    expect(await router.execute('bad/name', { id: 'c-6' }, GUARD)).toMatchObject({
      id: null,
      ok: false,
      error: { code: 'CMD_UNKNOWN', details: { reason: 'unsafe-name' } },
    });
  });

  it('execute() returns the answer to the console and publishes nothing', async () => {
    expect(
      await router.execute('test.add', { id: 'e-1', args: { a: 4, b: 5 } }, { via: 'console', role: 'admin', principal: 'root' }),
    ).toEqual({ id: 'e-1', ok: true, ts: expect.any(String), result: { sum: 9 } });
    const cyclic: Json = { id: 'e-2' };
    cyclic.self = cyclic;
    expect(await router.execute('test.add', cyclic, GUARD)).toMatchObject({ id: null, ok: false, error: { code: 'CMD_MALFORMED' } });
    expect(await router.execute('test.add', undefined, GUARD)).toMatchObject({ ok: false, error: { code: 'CMD_MALFORMED' } });
    expect(replies()).toEqual([]);
    expect(audits()).toHaveLength(3);
  });

  it('never throws, even once the outbox is closed', async () => {
    outbox.close();
    await expect(send('test.add', { id: 'c-1', args: { a: 1, b: 1 } })).resolves.toBeUndefined();
    await expect(send('test.add', '{')).resolves.toBeUndefined();
    const r = await router.execute('test.add', { id: 'c-2', args: { a: 1, b: 1 } }, { via: 'cli', role: 'admin', principal: 'root' });
    expect(r).toMatchObject({ ok: false, error: { code: 'INTERNAL' } }); // the id could not be recorded: fail closed
    make();
  });

  it('refuses bad and duplicate registrations at startup', () => {
    const def = { name: 'test.add', description: '', args: z.object({}), roles: ['admin'] as const, handler: async () => ({}) };
    expect(() => router.register(def)).toThrow(/twice/);
    for (const name of ['Bad.Name', 'a/b', 'a+', '', '.x', 'x'.repeat(65)])
      expect(() => router.register({ ...def, name }), name).toThrow(GatehouseError);
    expect(router.list().map((c) => c.name)).toEqual(['test.add', 'test.fail']);
  });
});
