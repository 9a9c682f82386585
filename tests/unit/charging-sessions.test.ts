import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChargingSessions, meterDelta } from '../../gateway/charging/sessions.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { Outbox } from '../../gateway/outbox/outbox.js';

const MIN = 60_000;
const guard = { via: 'console' as const, principal: 'guard-li' };

describe('ChargingSessions on the outbox database', () => {
  let dir: string;
  let clock: ManualClock;
  const open: Outbox[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-sessions-'));
    clock = new ManualClock();
  });
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function openSessions(meterIntervalMs = MIN): { outbox: Outbox; sessions: ChargingSessions } {
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    open.push(outbox);
    return { outbox, sessions: new ChargingSessions({ db: outbox.scope('charging'), clock, meterIntervalMs }) };
  }
  function closeAll(): void {
    for (const o of open.splice(0)) o.close();
  }

  it('runs a session from start to stop: meter values at the interval, energy, duration, reason', () => {
    const { sessions } = openSessions();
    const s = sessions.start({
      cabinet: 'cab-1',
      port: 3,
      sessionId: 305419896,
      meterStartWh: 12_000,
      startedBy: { via: 'uplink', principal: 'platform' },
      powerLimitW: 400,
      maxDurationMin: 480,
    });
    expect(s).toMatchObject({
      sessionId: 305419896,
      cabinet: 'cab-1',
      port: 3,
      meterStartWh: 12_000,
      startedClock: 'synced',
      startedBy: { via: 'uplink', principal: 'platform' },
      powerLimitW: 400,
      stoppedAt: null,
    });

    clock.advance(30_000);
    expect(sessions.meter('cab-1', 3, 12_001, { powerW: 160 })).toBeNull();
    clock.advance(30_000);
    expect(sessions.meter('cab-1', 3, 12_003, { powerW: 160, currentA: 2.9 })).toEqual({
      sessionId: 305419896,
      cabinet: 'cab-1',
      port: 3,
      at: clock.now(),
      meterWh: 12_003,
      energyWh: 3,
      durationS: 60,
      powerW: 160,
      currentA: 2.9,
    });
    clock.advance(10_000);
    expect(sessions.meter('cab-1', 3, 12_004)).toBeNull();
    expect(sessions.forSafety('cab-1')).toEqual([{ port: 3, startedAt: 0 }]);

    clock.advance(50_000);
    const stopped = sessions.stop('cab-1', 3, 12_020, 'full');
    expect(stopped).toMatchObject({
      sessionId: 305419896,
      meterStopWh: 12_020,
      energyWh: 20,
      durationS: 120,
      stopReason: 'full',
      stoppedAt: clock.now(),
    });
    expect(sessions.get('cab-1', 3)).toBeUndefined();
    expect(sessions.byId(305419896)).toMatchObject({ stopReason: 'full', energyWh: 20 });
    expect(sessions.forSafety('cab-1')).toEqual([]);
  });

  it('survives a restart mid-charge: the session, its energy so far and its starter come back', () => {
    let { sessions } = openSessions();
    sessions.start({ cabinet: 'cab-2', port: 1, meterStartWh: 500, startedBy: guard });
    sessions.start({ cabinet: 'cab-2', port: 2, meterStartWh: 900, startedBy: 'local' });
    clock.advance(MIN);
    expect(sessions.meter('cab-2', 1, 540)).toMatchObject({ energyWh: 40, durationS: 60 });
    clock.advance(20_000);
    sessions.meter('cab-2', 1, 550); // seen but not yet persisted (between samples)
    closeAll();

    // The gateway is down for 5 minutes; the wall clock is synced, so that time counts.
    clock.advance(5 * MIN);
    ({ sessions } = openSessions());
    const list = sessions.list('cab-2');
    expect(list.map((s) => [s.port, s.startedBy])).toEqual([
      [1, guard],
      [2, 'local'],
    ]);
    expect(list[0]).toMatchObject({ sessionId: 1, lastMeterWh: 540, energyWh: 40, elapsedMs: 6 * MIN + 20_000 });
    expect(list[1]).toMatchObject({ sessionId: 2, meterStartWh: 900 });

    // The delta since the last persisted sample is not lost: it is counted at the next reading.
    clock.advance(MIN);
    expect(sessions.meter('cab-2', 1, 600)).toMatchObject({ energyWh: 100 });
    const stopped = sessions.stop('cab-2', 1, 610, 'remote');
    expect(stopped).toMatchObject({ energyWh: 110, durationS: 7 * 60 + 20, stopReason: 'remote' });

    // Local ids continue after the highest ever used.
    expect(sessions.start({ cabinet: 'cab-2', port: 1, meterStartWh: 610, startedBy: 'local' }).sessionId).toBe(3);
  });

  it('does not count downtime when the wall clock was not synced', () => {
    clock.setState('unsynced');
    let { sessions } = openSessions();
    sessions.start({ cabinet: 'c', port: 1, meterStartWh: 0, startedBy: 'local' });
    clock.advance(MIN);
    sessions.meter('c', 1, 10);
    closeAll();
    clock.advance(60 * MIN);
    clock.setState('synced');
    ({ sessions } = openSessions());
    expect(sessions.get('c', 1)).toMatchObject({ elapsedMs: MIN, startedClock: 'unsynced' });
  });

  it('refuses a second session on a busy port, a reused id and a bad id, with coded errors', () => {
    const { sessions } = openSessions();
    sessions.start({ cabinet: 'c', port: 1, sessionId: 7, meterStartWh: 0, startedBy: 'local' });
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return `${(e as GatehouseError).code}:${String((e as GatehouseError).details?.reason ?? '')}`;
      }
    };
    expect(code(() => sessions.start({ cabinet: 'c', port: 1, meterStartWh: 0, startedBy: 'local' }))).toBe(
      'DEVICE_REFUSED:session_active',
    );
    expect(code(() => sessions.start({ cabinet: 'c', port: 2, sessionId: 7, meterStartWh: 0, startedBy: 'local' }))).toBe(
      'CMD_INVALID:session_id_used',
    );
    expect(code(() => sessions.start({ cabinet: 'c', port: 2, sessionId: 0, meterStartWh: 0, startedBy: 'local' }))).toBe('CMD_INVALID:');
    expect(code(() => sessions.stop('c', 2, 0, 'remote'))).toBe('DEVICE_REFUSED:no_session');
    expect(code(() => sessions.stop('c', 1, 0, 'bogus' as 'remote'))).toBe('INTERNAL:');
    sessions.stop('c', 1, 5, 'unplugged');
    // After it stopped the port is free; the old id stays used.
    expect(code(() => sessions.start({ cabinet: 'c', port: 1, sessionId: 7, meterStartWh: 5, startedBy: 'local' }))).toBe(
      'CMD_INVALID:session_id_used',
    );
    expect(sessions.start({ cabinet: 'c', port: 1, sessionId: 8, meterStartWh: 5, startedBy: 'local' }).sessionId).toBe(8);
  });

  it('stops with the energy so far when the cabinet cannot be read (meter null)', () => {
    const { sessions } = openSessions();
    sessions.start({ cabinet: 'c', port: 4, meterStartWh: 100, startedBy: 'local' });
    clock.advance(MIN);
    sessions.meter('c', 4, 130);
    expect(sessions.stop('c', 4, null, 'mains_loss')).toMatchObject({ meterStopWh: 130, energyWh: 30, stopReason: 'mains_loss' });
  });

  it('counts energy across a 32-bit meter wrap and treats a meter reset as counting from zero', () => {
    expect(meterDelta(100, 150)).toBe(50);
    expect(meterDelta(0xffff_fff0, 0x10)).toBe(0x20);
    expect(meterDelta(12_000, 3)).toBe(3); // controller replaced: counts from 0
    expect(meterDelta(3, 4_000_000)).toBe(0); // implausible jump: ignored rather than billed
    const { sessions } = openSessions();
    sessions.start({ cabinet: 'c', port: 1, meterStartWh: 0xffff_ff00, startedBy: 'local' });
    clock.advance(MIN);
    sessions.meter('c', 1, 0x50);
    expect(sessions.stop('c', 1, 0x60, 'full')).toMatchObject({ energyWh: 0x160 });
  });

  it('prunes stopped sessions older than the retention, never running ones', () => {
    const { sessions } = openSessions();
    sessions.start({ cabinet: 'c', port: 1, meterStartWh: 0, startedBy: 'local' });
    sessions.start({ cabinet: 'c', port: 2, meterStartWh: 0, startedBy: 'local' });
    sessions.stop('c', 1, 1, 'full');
    clock.advance(31 * 24 * 60 * MIN);
    expect(sessions.prune(30 * 24 * 60 * MIN)).toBe(1);
    expect(sessions.byId(1)).toBeUndefined();
    expect(sessions.get('c', 2)).toBeDefined();
  });
});
