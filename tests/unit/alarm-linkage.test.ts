/**
 * Linkage on a real AlarmManager and outbox with a hand-driven clock: rule matching, output
 * on/off timing and its extension, camera preset + snapshot attached as media, a failing or
 * hanging camera never touching the alarm, console notifications, and linkage.executed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { LinkageRule } from '../../config/perimeter-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { LinkageEngine } from '../../gateway/alarms/linkage.js';
import type { Alarm, AlarmCondition, CameraLinkage, OutputDriver } from '../../gateway/alarms/types.js';
import { alarmTestbed } from '../helpers/alarm-testbed.js';

const tick = () => new Promise<void>((r) => setImmediate(r));
const rule = (r: unknown) => LinkageRule.parse(r);
const zone = (point: string, priority: AlarmCondition['priority'] = 'high'): AlarmCondition => ({
  kind: 'zone.alarm',
  source: { device: 'inputs-1', point },
  priority,
});

describe('LinkageEngine', () => {
  let dir: string;
  let clock: ManualClock;
  let outbox: Outbox;
  let manager: AlarmManager;
  let engine: LinkageEngine | undefined;
  let calls: string[];
  const outputs: OutputDriver = { setOutput: async (o, on) => void calls.push(`${o}:${on ? 'on' : 'off'}@${clock.monotonic()}`) };

  const make = (rules: unknown[], cameras?: CameraLinkage, out: OutputDriver | null = outputs) => {
    engine = new LinkageEngine({
      rules: rules.map(rule),
      manager,
      ...(out ? { outputs: out } : {}),
      ...(cameras ? { cameras } : {}),
      timers: clock,
      clock,
      outbox,
      log: silentLogger(),
    });
    engine.start();
    return engine;
  };
  const executed = (): Record<string, unknown>[] => {
    outbox.flush();
    return outbox
      .readEvents(0, 10_000)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.type === 'linkage.executed')
      .map((e) => e.data);
  };

  beforeEach(() => {
    ({ dir, clock, outbox, manager } = alarmTestbed('gh-linkage-'));
    calls = [];
    engine = undefined;
  });
  afterEach(async () => {
    await engine?.stop();
    await manager.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('matches on sources (device or point), kinds and minPriority, all given conditions together', () => {
    const a = { kind: 'zone.alarm', source: { device: 'inputs-1', point: 'fence-n' }, priority: 'medium' } as Alarm;
    expect(LinkageEngine.matches(rule({ when: {}, do: [{ notify: 'console' }] }), a)).toBe(true);
    expect(LinkageEngine.matches(rule({ when: { sources: ['fence-n'] }, do: [{ notify: 'console' }] }), a)).toBe(true);
    expect(LinkageEngine.matches(rule({ when: { sources: ['inputs-1'] }, do: [{ notify: 'console' }] }), a)).toBe(true);
    expect(LinkageEngine.matches(rule({ when: { sources: ['gate'] }, do: [{ notify: 'console' }] }), a)).toBe(false);
    expect(LinkageEngine.matches(rule({ when: { kinds: ['zone.alarm', 'door.forced'] }, do: [{ notify: 'console' }] }), a)).toBe(true);
    expect(LinkageEngine.matches(rule({ when: { kinds: ['door.forced'] }, do: [{ notify: 'console' }] }), a)).toBe(false);
    expect(LinkageEngine.matches(rule({ when: { minPriority: 'medium' }, do: [{ notify: 'console' }] }), a)).toBe(true);
    expect(LinkageEngine.matches(rule({ when: { minPriority: 'high' }, do: [{ notify: 'console' }] }), a)).toBe(false);
    expect(
      LinkageEngine.matches(
        rule({ when: { sources: ['fence-n'], kinds: ['zone.alarm'], minPriority: 'critical' }, do: [{ notify: 'console' }] }),
        a,
      ),
    ).toBe(false);
  });

  it('turns an output on for its seconds, then off; re-triggers do not restart it, re-activation does', async () => {
    make([{ when: { kinds: ['zone.alarm'] }, do: [{ output: 'siren-1', seconds: 60 }] }]);
    manager.raise(zone('fence-n'));
    await tick();
    expect(calls).toEqual(['siren-1:on@0']);
    clock.advance(59_999);
    manager.raise(zone('fence-n'));
    await tick();
    expect(calls).toEqual(['siren-1:on@0']);
    clock.advance(1);
    await tick();
    expect(calls).toEqual(['siren-1:on@0', 'siren-1:off@60000']);
    expect(engine!.outputsOn()).toEqual({});
    // Cleared, then back: it fires again.
    manager.clear('zone.alarm', { device: 'inputs-1', point: 'fence-n' });
    clock.advance(1000);
    manager.raise(zone('fence-n'));
    await tick();
    expect(calls.at(-1)).toBe('siren-1:on@61000');
    expect(executed().map((e) => [e.action, e.target, e.ok, e.seconds])).toEqual([
      ['output', 'siren-1', true, 60],
      ['output', 'siren-1', true, 60],
    ]);
  });

  it('a second trigger extends the output to the later end and never shortens it', async () => {
    make([
      { when: { sources: ['fence-n'] }, do: [{ output: 'siren-1', seconds: 60 }] },
      { when: { sources: ['fence-s'] }, do: [{ output: 'siren-1', seconds: 10 }] },
    ]);
    manager.raise(zone('fence-n'));
    clock.advance(30_000);
    manager.raise(zone('fence-e')); // matches nothing
    manager.raise(zone('fence-s')); // ends at 40 s, before 60 s: no change
    expect(engine!.outputsOn()).toEqual({ 'siren-1': 60_000 });
    manager.clear('zone.alarm', { device: 'inputs-1', point: 'fence-n' });
    manager.raise(zone('fence-n')); // re-activated at 30 s: now until 90 s
    expect(engine!.outputsOn()).toEqual({ 'siren-1': 90_000 });
    clock.advance(30_000);
    await tick();
    expect(calls).toEqual(['siren-1:on@0']);
    clock.advance(30_000);
    await tick();
    expect(calls).toEqual(['siren-1:on@0', 'siren-1:off@90000']);
    // The first switch-on is reported once the driver answered; the others needed no driver call.
    expect(executed().map((e) => [e.rule, e.extended])).toEqual([
      [1, false],
      [0, true],
      [0, undefined],
    ]);
  });

  it('stop turns held outputs off', async () => {
    make([{ when: {}, do: [{ output: 'strobe', seconds: 600 }] }]);
    manager.raise(zone('a'));
    await tick();
    await engine!.stop();
    expect(calls).toEqual(['strobe:on@0', 'strobe:off@0']);
    clock.advance(600_000);
    manager.raise(zone('b'));
    await tick();
    expect(calls).toHaveLength(2);
  });

  it('moves the camera to its preset, then takes a snapshot attached to the alarm', async () => {
    const cam: string[] = [];
    const cameras: CameraLinkage = {
      gotoPreset: async (c, p) => void cam.push(`preset ${c} ${p}`),
      snapshot: async (c, a) => (cam.push(`snapshot ${c} ${a.kind}`), 'media-42'),
    };
    make([{ when: { kinds: ['door.forced'] }, do: [{ camera: 'cam-gate', preset: 'gate' }, { notify: 'console' }] }], cameras);
    const notified: [string, number][] = [];
    engine!.on('notify', (a, r) => notified.push([a.id, r.rule]));
    const a = manager.raise({ kind: 'door.forced', source: { device: 'gate' }, priority: 'high' });
    expect(notified).toEqual([[a.id, 0]]);
    await tick();
    expect(cam).toEqual(['preset cam-gate gate', 'snapshot cam-gate door.forced']);
    expect(manager.get(a.id)!.media).toEqual(['media-42']);
    expect(executed()).toEqual([
      { rule: 0, alarmId: a.id, kind: 'door.forced', alarmSource: { device: 'gate' }, action: 'notify', target: 'console', ok: true },
      {
        rule: 0,
        alarmId: a.id,
        kind: 'door.forced',
        alarmSource: { device: 'gate' },
        action: 'camera',
        target: 'cam-gate',
        preset: 'gate',
        ok: true,
        mediaId: 'media-42',
      },
    ]);
    outbox.flush();
    expect(outbox.readEvents(0, 100).map((r) => JSON.parse(r.body).type)).toContain('alarm.media');
  });

  it('a failing or hanging camera never affects the alarm, and a missing driver is reported', async () => {
    const failing: CameraLinkage = {
      gotoPreset: () => {
        throw new Error('ptz refused');
      },
      snapshot: () => Promise.reject(new Error('rtsp timeout')),
    };
    make([{ when: { kinds: ['door.forced'] }, do: [{ camera: 'cam-1', preset: 'p1' }] }], failing);
    const a = manager.raise({ kind: 'door.forced', source: { device: 'gate' }, priority: 'high' });
    expect(a.state).toBe('raised');
    await tick();
    expect(manager.get(a.id)).toMatchObject({ state: 'raised', media: [] });
    expect(executed()).toMatchObject([{ action: 'camera', ok: false, error: 'preset: ptz refused; snapshot: rtsp timeout' }]);
    await engine!.stop();

    const hanging: CameraLinkage = { gotoPreset: () => new Promise(() => undefined), snapshot: () => new Promise(() => undefined) };
    make([{ when: { kinds: ['door.forced'] }, do: [{ camera: 'cam-1', preset: 'p1' }] }], hanging);
    const b = manager.raise({ kind: 'door.forced', source: { device: 'lobby' }, priority: 'high' });
    manager.acknowledge(b.id, { by: 'guard' });
    manager.clear('door.forced', { device: 'lobby' });
    expect(manager.close(b.id, { by: 'guard' }).state).toBe('closed');
    await engine!.stop();

    make([{ when: {}, do: [{ camera: 'cam-1' }, { output: 'siren-1', seconds: 5 }] }], undefined, null);
    manager.raise({ kind: 'door.forced', source: { device: 'back' }, priority: 'high' });
    await tick();
    expect(executed().slice(-2)).toMatchObject([
      { action: 'camera', target: 'cam-1', ok: false, error: 'no camera driver' },
      { action: 'output', target: 'siren-1', ok: false, error: 'no output driver' },
    ]);
  });

  it('a failing output is reported and the alarm goes on', async () => {
    make([{ when: {}, do: [{ output: 'siren-1', seconds: 5 }] }], undefined, {
      setOutput: () => Promise.reject(new Error('modbus timeout')),
    });
    const a = manager.raise(zone('a'));
    await tick();
    expect(manager.get(a.id)!.state).toBe('raised');
    expect(executed()).toMatchObject([{ action: 'output', ok: false, error: 'modbus timeout' }]);
    clock.advance(5000);
    await tick();
  });
});
