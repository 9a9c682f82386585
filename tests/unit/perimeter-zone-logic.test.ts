/**
 * Zone logic, sample by sample on a ManualClock's monotonic time: contact types, debounce
 * measured on poll timestamps, IR pulse counting, supervision faults, arming with a zone in
 * alarm, bypass and its expiry, and the kinds and priorities of what is raised.
 */
import { describe, expect, it } from 'vitest';
import { ZoneConfig, type ZoneConfig as ZoneCfg } from '../../config/perimeter-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { Debouncer, ZoneLogic } from '../../gateway/perimeter/zone-logic.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';

const POLL = 100;

function rig(cfg: Partial<ZoneCfg> & { id?: string }) {
  const clock = new ManualClock();
  const sink = new FakeAlarmSink();
  const zone = new ZoneLogic(ZoneConfig.parse({ id: 'z1', module: 'm1', channel: 3, partition: 'p1', ...cfg }), sink);
  /** The physical input: for an NC zone, true = all well. */
  let input = (cfg.contact ?? 'NC') === 'NC';
  let fault = false;
  const poll = (n = 1) => {
    for (let i = 0; i < n; i++) {
      clock.advance(POLL);
      zone.sample(input, fault, clock.monotonic());
    }
  };
  return {
    clock,
    sink,
    zone,
    poll,
    /** Trips the zone physically (beam broken, contact opened), whatever its contact type. */
    trip(on = true) {
      input = (cfg.contact ?? 'NC') === 'NC' ? !on : on;
    },
    setFault(on: boolean) {
      fault = on;
    },
  };
}

describe('Debouncer', () => {
  it('commits a change only once it has held debounceMs between sample timestamps', () => {
    const d = new Debouncer(200);
    expect(d.update(true, 0)).toBe(false);
    expect(d.update(true, 100)).toBe(false);
    expect(d.update(true, 199)).toBe(false);
    expect(d.update(true, 200)).toBe(true);
    expect(d.value).toBe(true);
    // A dip shorter than debounce restarts nothing.
    expect(d.update(false, 300)).toBe(false);
    expect(d.update(true, 400)).toBe(false);
    expect(d.update(false, 500)).toBe(false);
    expect(d.update(false, 650)).toBe(false);
    expect(d.update(false, 700)).toBe(true);
  });

  it('a slack forgives a sample a few ms early, no more', () => {
    const d = new Debouncer(200, false, 5);
    d.update(true, 0);
    d.update(true, 99);
    expect(d.update(true, 194)).toBe(false);
    expect(d.update(true, 196)).toBe(true);
  });

  it('with 0 ms, the first sample showing a change commits it', () => {
    const d = new Debouncer(0);
    expect(d.update(true, 5)).toBe(true);
    expect(d.update(false, 6)).toBe(true);
  });
});

describe('ZoneLogic: contacts and debounce', () => {
  it('NC (a beam receiving): the input going inactive is the alarm; h24 always armed', () => {
    const r = rig({ type: 'h24', contact: 'NC', debounceMs: 0, partition: undefined });
    r.poll(3);
    expect(r.sink.calls).toEqual([]);
    r.trip();
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.tamper z1']);
    expect(r.sink.calls[0]).toMatchObject({ priority: 'high', data: { zone: 'z1', type: 'h24', module: 'm1', channel: 3 } });
    expect(r.zone.snapshot().state).toBe('alarm');
    r.trip(false);
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.tamper z1', 'clear zone.tamper z1']);
    expect(r.zone.snapshot().state).toBe('normal');
  });

  it('NO (a push button): the input going active is the alarm; panic is critical', () => {
    const r = rig({ type: 'panic', contact: 'NO', debounceMs: 0, partition: undefined });
    r.poll(2);
    expect(r.sink.calls).toEqual([]);
    r.trip();
    r.poll();
    expect(r.sink.raises('zone.panic', 'z1')).toEqual([expect.objectContaining({ priority: 'critical' })]);
  });

  it('fire zones raise zone.fire, critical', () => {
    const r = rig({ type: 'fire', contact: 'NO', debounceMs: 0, partition: undefined });
    r.trip();
    r.poll();
    expect(r.sink.raises('zone.fire')).toEqual([expect.objectContaining({ priority: 'critical' })]);
  });

  it('a 200 ms debounce at a 100 ms poll: raised on the third sample showing the trip', () => {
    const r = rig({ type: 'h24', debounceMs: 200, partition: undefined });
    r.poll();
    r.trip();
    r.poll(2); // seen at t and t+100: held 100 ms
    expect(r.sink.calls).toEqual([]);
    r.poll(); // t+200: held 200 ms
    expect(r.sink.log()).toEqual(['raise zone.tamper z1']);
  });

  it('a blip shorter than the debounce raises nothing', () => {
    const r = rig({ type: 'h24', debounceMs: 200, partition: undefined });
    for (let i = 0; i < 5; i++) {
      r.trip();
      r.poll(2);
      r.trip(false);
      r.poll();
    }
    expect(r.sink.calls).toEqual([]);
  });

  it('the way back to normal is debounced too', () => {
    const r = rig({ type: 'h24', debounceMs: 300, partition: undefined });
    r.trip();
    r.poll(4);
    expect(r.sink.log()).toEqual(['raise zone.tamper z1']);
    r.trip(false);
    r.poll(3);
    expect(r.sink.log()).toEqual(['raise zone.tamper z1']);
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.tamper z1', 'clear zone.tamper z1']);
  });
});

describe('ZoneLogic: IR beam pulse counting', () => {
  const beam = { type: 'h24' as const, debounceMs: 0, partition: undefined, pulses: { count: 3, windowMs: 10_000 } };

  it('raises on the count-th pulse within the window, clears when the beam is whole again', () => {
    const r = rig(beam);
    for (let i = 0; i < 2; i++) {
      r.trip();
      r.poll(3);
      r.trip(false);
      r.poll(10);
    }
    expect(r.sink.calls).toEqual([]);
    expect(r.zone.snapshot().state).toBe('normal');
    r.trip();
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.tamper z1']);
    r.trip(false);
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.tamper z1', 'clear zone.tamper z1']);
  });

  it('pulses older than the window do not count', () => {
    const r = rig(beam);
    for (let i = 0; i < 6; i++) {
      r.trip();
      r.poll();
      r.trip(false);
      r.poll(60); // 6.1 s between pulses: never 3 within 10 s
    }
    expect(r.sink.calls).toEqual([]);
  });

  it('after an alarm, counting starts again from zero', () => {
    const r = rig(beam);
    const pulse = () => {
      r.trip();
      r.poll();
      r.trip(false);
      r.poll();
    };
    pulse();
    pulse();
    pulse();
    expect(r.sink.raises()).toHaveLength(1);
    pulse();
    pulse();
    expect(r.sink.raises()).toHaveLength(1);
    pulse();
    expect(r.sink.raises()).toHaveLength(2);
  });
});

describe('ZoneLogic: supervision', () => {
  it('a cut line is a zone.fault (medium), not an alarm, and the input is ignored meanwhile', () => {
    const r = rig({ type: 'h24', debounceMs: 0, partition: undefined });
    r.setFault(true);
    r.trip(); // a cut NC loop also reads open
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.fault z1']);
    expect(r.sink.calls[0]!.priority).toBe('medium');
    expect(r.zone.snapshot().state).toBe('fault');
    r.poll(5);
    expect(r.sink.log()).toEqual(['raise zone.fault z1']);
    // Repaired with the input normal: the fault clears and nothing else happens.
    r.setFault(false);
    r.trip(false);
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.fault z1', 'clear zone.fault z1']);
    expect(r.zone.snapshot().state).toBe('normal');
  });

  it('the supervision bit is debounced like the input', () => {
    const r = rig({ type: 'h24', debounceMs: 200, partition: undefined });
    r.setFault(true);
    r.poll(2);
    expect(r.sink.calls).toEqual([]);
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.fault z1']);
  });

  it('a zone in alarm whose line is then cut: the alarm condition clears and the fault is raised', () => {
    const r = rig({ type: 'h24', debounceMs: 0, partition: undefined });
    r.trip();
    r.poll();
    r.setFault(true);
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.tamper z1', 'clear zone.tamper z1', 'raise zone.fault z1']);
  });
});

describe('ZoneLogic: perimeter zones and arming', () => {
  it('raises zone.alarm (high) only while armed; disarming clears it', () => {
    const r = rig({ type: 'perimeter', debounceMs: 0 });
    r.trip();
    r.poll();
    r.trip(false);
    r.poll();
    expect(r.sink.calls).toEqual([]);
    expect(r.zone.setArmed(true)).toBe(false);
    r.trip();
    r.poll();
    expect(r.sink.raises('zone.alarm', 'z1')).toEqual([
      expect.objectContaining({ priority: 'high', data: expect.objectContaining({ partition: 'p1' }) }),
    ]);
    r.zone.setArmed(false);
    expect(r.sink.log()).toEqual(['raise zone.alarm z1', 'clear zone.alarm z1']);
  });

  it('a zone in alarm at arming is not ready: not raised, until it has been back to normal', () => {
    const r = rig({ type: 'perimeter', debounceMs: 0 });
    r.trip();
    r.poll();
    expect(r.zone.setArmed(true)).toBe(true);
    expect(r.zone.snapshot()).toMatchObject({ armed: true, notReady: true, state: 'alarm' });
    // Arming again does not forget it.
    expect(r.zone.setArmed(true)).toBe(true);
    r.poll(10);
    expect(r.sink.calls).toEqual([]);
    r.trip(false);
    r.poll();
    expect(r.zone.snapshot().notReady).toBe(false);
    r.trip();
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.alarm z1']);
  });

  it('h24, panic and fire ignore arming', () => {
    const r = rig({ type: 'panic', contact: 'NO', debounceMs: 0, partition: undefined });
    expect(r.zone.setArmed(false)).toBe(false);
    r.trip();
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.panic z1']);
  });
});

describe('ZoneLogic: bypass', () => {
  it('a bypassed zone raises nothing, and what it had raised is cleared', () => {
    const r = rig({ type: 'h24', debounceMs: 0, partition: undefined });
    r.trip();
    r.poll();
    r.zone.bypass(r.clock.now() + 60_000);
    expect(r.sink.log()).toEqual(['raise zone.tamper z1', 'clear zone.tamper z1']);
    expect(r.zone.snapshot().state).toBe('bypassed');
    r.trip(false);
    r.poll();
    r.trip();
    r.setFault(true);
    r.poll(5);
    expect(r.sink.log()).toHaveLength(2);
  });

  it('expiry re-enables the zone and raises what still holds', () => {
    const r = rig({ type: 'perimeter', debounceMs: 0 });
    r.zone.setArmed(true);
    r.zone.bypass(r.clock.now() + 60_000);
    r.trip();
    r.poll();
    expect(r.sink.calls).toEqual([]);
    expect(r.zone.expire(r.clock.now())).toBe(false);
    r.clock.advance(60_000);
    expect(r.zone.expire(r.clock.now())).toBe(true);
    expect(r.sink.log()).toEqual(['raise zone.alarm z1']);
    expect(r.zone.snapshot().state).toBe('alarm');
  });

  it('expiry of a zone back to normal raises nothing; it alarms on the next trip', () => {
    const r = rig({ type: 'h24', debounceMs: 0, partition: undefined });
    r.zone.bypass(r.clock.now() + 1000);
    r.trip();
    r.poll();
    r.trip(false);
    r.poll();
    r.clock.advance(1000);
    r.zone.expire(r.clock.now());
    expect(r.sink.calls).toEqual([]);
    r.trip();
    r.poll();
    expect(r.sink.log()).toEqual(['raise zone.tamper z1']);
  });

  it('a zone bypassed while tripped at arming is not reported not ready; its expiry raises', () => {
    const r = rig({ type: 'perimeter', debounceMs: 0 });
    r.trip();
    r.poll();
    r.zone.bypass(r.clock.now() + 1000);
    expect(r.zone.setArmed(true)).toBe(false);
    r.zone.unbypass();
    expect(r.sink.log()).toEqual(['raise zone.alarm z1']);
  });
});
