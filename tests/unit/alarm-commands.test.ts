/**
 * The alarm commands through the real CommandRouter and a real outbox, the whole component
 * built by createAlarms() as app.ts will: roles (an installer may list but not acknowledge),
 * the actor taken from the caller, coded refusals in the answers, argument validation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmsConfig, LinkageRule } from '../../config/perimeter-schema.js';
import { CommandsConfig } from '../../config/schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope, EventInput } from '../../gateway/core/events.js';
import { silentLogger, type LoggerFactory } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { CommandRouter } from '../../gateway/commands/router.js';
import type { Caller, CommandReply } from '../../gateway/commands/types.js';
import { doorEvent } from '../../gateway/access/access-events.js';
import { createAlarms, type AlarmsComponent } from '../../gateway/alarms/create-alarms.js';
import { conditionOfEvent, reportCondition } from '../../gateway/alarms/report.js';
import { ALARM_KINDS as ACCESS_ALARM_KINDS } from '../../gateway/access/alarm-kinds.js';

const PLATFORM: Caller = { via: 'uplink', role: 'platform', principal: 'platform' };
const GUARD: Caller = { via: 'console', role: 'guard', principal: 'anna' };
const INSTALLER: Caller = { via: 'console', role: 'installer', principal: 'ivan' };
const logs: LoggerFactory = { root: silentLogger(), child: () => silentLogger() };

describe('alarm commands through the router', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let router: CommandRouter;
  let alarms: AlarmsComponent;
  let n = 0;

  const run = (name: string, args: Record<string, unknown>, caller: Caller): Promise<CommandReply> =>
    router.execute(name, { id: `c-${++n}`, args }, caller);
  const result = (r: CommandReply): Record<string, any> => {
    if (!r.ok) throw new Error(`command failed: ${JSON.stringify(r.error)}`);
    return r.result;
  };
  /** A door condition as the access family reports it: the raw event, then the sink. */
  const report = (e: EventInput) => {
    void outbox.record(e);
    reportCondition(alarms.manager, conditionOfEvent(e), silentLogger());
  };
  const forced = (door: string, active = true) =>
    report(doorEvent({ type: active ? 'door.forced' : 'door.forced_cleared', data: { door } }));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-alarm-cmds-'));
    clock = new ManualClock();
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    router = new CommandRouter({ config: CommandsConfig.parse({}), outbox, clock, log: silentLogger(), timers: clock });
    alarms = createAlarms({
      config: {
        alarms: AlarmsConfig.parse({}),
        linkage: [LinkageRule.parse({ when: { kinds: ['door.forced'] }, do: [{ notify: 'console' }] })],
      },
      outbox,
      clock,
      timers: clock,
      logs,
    });
    alarms.manager.declareKinds(ACCESS_ALARM_KINDS);
    for (const def of alarms.commands()) router.register(def);
    alarms.linkage();
    await alarms.start();
  });
  afterEach(async () => {
    await alarms.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledge and close record the caller as actor; the answers carry the alarm with ISO times', async () => {
    const notified: string[] = [];
    alarms.linkage().on('notify', (a) => notified.push(a.kind));
    forced('gate');
    expect(notified).toEqual(['door.forced']);
    const [alarm] = result(await run('alarm.list', {}, GUARD)).alarms;
    expect(alarm).toMatchObject({
      kind: 'door.forced',
      source: { device: 'gate' },
      state: 'raised',
      active: true,
      raisedAt: new Date(clock.now()).toISOString(),
    });

    const ack = result(await run('alarm.acknowledge', { alarmId: alarm.id, note: 'on my way' }, GUARD));
    expect(ack.alarm).toMatchObject({
      id: alarm.id,
      state: 'acknowledged',
      acknowledged: { by: 'anna', role: 'guard', note: 'on my way', at: new Date(clock.now()).toISOString() },
    });
    expect(await run('alarm.close', { alarmId: alarm.id }, GUARD)).toMatchObject({ ok: false, error: { code: 'ALARM_ACTIVE' } });
    forced('gate', false);
    const closed = result(await run('alarm.close', { alarmId: alarm.id, note: 'door repaired' }, PLATFORM));
    expect(closed.alarm).toMatchObject({
      state: 'closed',
      closed: { by: 'platform', role: 'platform', note: 'door repaired', reason: 'operator' },
    });

    outbox.flush();
    const evs = outbox
      .readEvents(0, 1000)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.type.startsWith('alarm.'));
    expect(evs.map((e) => [e.type, e.data.by])).toEqual([
      ['alarm.raised', undefined],
      ['alarm.acknowledged', 'anna'],
      ['alarm.cleared', undefined],
      ['alarm.closed', 'platform'],
    ]);
  });

  it('refusals are coded in the answer: twice acknowledged, closed, unknown', async () => {
    forced('gate');
    const id = result(await run('alarm.list', {}, PLATFORM)).alarms[0].id as string;
    expect((await run('alarm.acknowledge', { alarmId: id }, GUARD)).ok).toBe(true);
    expect(await run('alarm.acknowledge', { alarmId: id }, PLATFORM)).toMatchObject({
      ok: false,
      error: { code: 'ALARM_ACKNOWLEDGED', details: { alarmId: id, by: 'anna' } },
    });
    forced('gate', false);
    expect((await run('alarm.close', { alarmId: id }, GUARD)).ok).toBe(true);
    expect(await run('alarm.close', { alarmId: id }, GUARD)).toMatchObject({ ok: false, error: { code: 'ALARM_CLOSED' } });
    expect(await run('alarm.acknowledge', { alarmId: id }, GUARD)).toMatchObject({ ok: false, error: { code: 'ALARM_CLOSED' } });
    expect(await run('alarm.close', { alarmId: '01JD0000000000000000000000' }, GUARD)).toMatchObject({
      ok: false,
      error: { code: 'ALARM_UNKNOWN' },
    });
  });

  it('an installer may list but neither acknowledge nor close', async () => {
    forced('gate');
    const listed = result(await run('alarm.list', { includeClosed: true, limit: 10 }, INSTALLER));
    expect(listed.open).toBe(1);
    const id = listed.alarms[0].id;
    expect(await run('alarm.acknowledge', { alarmId: id }, INSTALLER)).toMatchObject({ ok: false, error: { code: 'CMD_FORBIDDEN' } });
    expect(await run('alarm.close', { alarmId: id }, INSTALLER)).toMatchObject({ ok: false, error: { code: 'CMD_FORBIDDEN' } });
    expect(await run('alarm.acknowledge', { alarmId: id }, { via: 'console', role: 'admin', principal: 'root' })).toMatchObject({
      ok: true,
    });
  });

  it('validates arguments: ULID ids, notes up to 500 characters, limits 1-500', async () => {
    forced('gate');
    const id = result(await run('alarm.list', {}, GUARD)).alarms[0].id;
    expect(await run('alarm.acknowledge', { alarmId: 'nope' }, GUARD)).toMatchObject({ ok: false, error: { code: 'CMD_INVALID' } });
    expect(await run('alarm.acknowledge', { alarmId: id, note: 'x'.repeat(501) }, GUARD)).toMatchObject({
      ok: false,
      error: { code: 'CMD_INVALID' },
    });
    expect(await run('alarm.acknowledge', { alarmId: id, extra: 1 }, GUARD)).toMatchObject({ ok: false, error: { code: 'CMD_INVALID' } });
    expect(await run('alarm.list', { limit: 0 }, GUARD)).toMatchObject({ ok: false, error: { code: 'CMD_INVALID' } });
    expect(await run('alarm.list', { limit: 501 }, GUARD)).toMatchObject({ ok: false, error: { code: 'CMD_INVALID' } });
    expect((await run('alarm.acknowledge', { alarmId: id, note: 'x'.repeat(500) }, GUARD)).ok).toBe(true);
  });

  it('alarm.list puts open alarms first (priority, newest) and then recently closed ones when asked', async () => {
    report({
      class: 'alarm',
      type: 'door.held_open',
      source: { device: 'lobby' },
      data: { door: 'lobby', active: true, priority: 'medium' },
    });
    clock.advance(1000);
    forced('gate');
    clock.advance(1000);
    forced('back');
    report({
      class: 'alarm',
      type: 'door.held_open',
      source: { device: 'lobby' },
      data: { door: 'lobby', active: false, priority: 'medium' },
    });
    const lobby = alarms.manager.list().find((a) => a.source.device === 'lobby')!;
    alarms.manager.close(lobby.id, { by: 'anna' });
    expect(result(await run('alarm.list', {}, GUARD)).alarms.map((a: any) => a.source.device)).toEqual(['back', 'gate']);
    const all = result(await run('alarm.list', { includeClosed: true }, GUARD));
    expect(all.alarms.map((a: any) => [a.source.device, a.state])).toEqual([
      ['back', 'raised'],
      ['gate', 'raised'],
      ['lobby', 'closed'],
    ]);
    expect(all.open).toBe(2);
    expect(result(await run('alarm.list', { includeClosed: true, limit: 1 }, GUARD)).alarms).toHaveLength(1);
  });
});
