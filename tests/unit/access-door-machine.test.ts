import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { DoorMachine, type DoorEvent, type Passage, type RelayCommand } from '../../gateway/access/door-machine.js';

function rig(opts: { hasContact?: boolean; fireUnlock?: boolean } = {}) {
  const clock = new ManualClock();
  const relay: RelayCommand[] = [];
  const events: DoorEvent[] = [];
  const passages: Passage[] = [];
  const door = new DoorMachine({
    door: 'gate-1',
    unlockMs: 5000,
    heldOpenMs: 30_000,
    fireUnlock: opts.fireUnlock ?? true,
    hasContact: opts.hasContact ?? true,
    timers: clock,
    monotonic: () => clock.monotonic(),
    relay: (c) => relay.push(c),
    emit: (e) => events.push(e),
    passage: (p) => passages.push(p),
  });
  door.contact(false); // first reading: closed
  const types = () => events.map((e) => e.type);
  return { clock, relay, events, passages, door, types };
}

const alice: Passage = { credentialId: 'alice', direction: 'in', door: 'gate-1' };

describe('DoorMachine', () => {
  it('a grant unlocks with a timed pulse, the opening commits the passage, closing relocks at once', () => {
    const r = rig();
    r.door.grant(alice);
    expect(r.relay).toEqual([{ on: true, ms: 5000 }]);
    expect(r.passages).toEqual([]);
    r.clock.advance(1200);
    r.door.contact(true);
    expect(r.passages).toEqual([alice]);
    r.clock.advance(2000);
    r.door.contact(false);
    expect(r.relay.at(-1)).toEqual({ on: false });
    expect(r.types()).toEqual(['door.opened', 'door.closed']);
    expect(r.events[0]!.data).toMatchObject({ authorised: true });
    expect(r.events[1]!.data).toMatchObject({ openMs: 2000 });
    expect(r.door.snapshot()).toMatchObject({ unlocked: false, open: false, forced: false });
  });

  it('a grant nobody uses lapses: the reader relocks itself, no passage, no extra relay command', () => {
    const r = rig();
    r.door.grant(alice);
    r.clock.advance(5001);
    expect(r.relay).toEqual([{ on: true, ms: 5000 }]);
    expect(r.passages).toEqual([]);
    r.door.contact(true); // opened after the window: forced
    expect(r.types()).toEqual(['door.opened', 'door.forced']);
  });

  it('without a door contact the grant itself is the passage', () => {
    const r = rig({ hasContact: false });
    r.door.grant(alice);
    expect(r.passages).toEqual([alice]);
  });

  it('a door opened with the lock engaged is forced, and the alarm clears when it closes', () => {
    const r = rig();
    r.door.contact(true);
    expect(r.types()).toEqual(['door.opened', 'door.forced']);
    expect(r.door.snapshot().forced).toBe(true);
    r.clock.advance(60_000); // forced and left open: no held-open on top of the forced alarm
    r.door.contact(false);
    expect(r.types()).toEqual(['door.opened', 'door.forced', 'door.closed', 'door.forced_cleared']);
  });

  it('a door held open past heldOpenMs raises held open once, cleared on close', () => {
    const r = rig();
    r.door.grant(alice);
    r.door.contact(true);
    r.clock.advance(29_999);
    expect(r.types()).not.toContain('door.held_open');
    r.clock.advance(1);
    r.clock.advance(10_000);
    expect(r.types().filter((t) => t === 'door.held_open')).toHaveLength(1);
    expect(r.events.find((e) => e.type === 'door.held_open')!.data).toMatchObject({ openMs: 30_000 });
    r.door.contact(false);
    expect(r.types().slice(-2)).toEqual(['door.closed', 'door.held_cleared']);
  });

  it('the exit button unlocks without a passage and is reported', () => {
    const r = rig();
    r.door.exitButton();
    r.door.contact(true);
    expect(r.types()).toEqual(['door.exit_request', 'door.opened']);
    expect(r.passages).toEqual([]);
  });

  it('held unlocked: no forced, no held; back to normal relocks', () => {
    const r = rig();
    r.door.setMode('unlocked');
    expect(r.relay).toEqual([{ on: true }]);
    r.door.contact(true);
    r.clock.advance(120_000);
    expect(r.types()).toEqual(['door.mode', 'door.opened']);
    r.door.setMode('normal');
    expect(r.relay.at(-1)).toEqual({ on: false });
    // Still open when relocked: the held-open timer runs from now.
    r.clock.advance(30_000);
    expect(r.types().at(-1)).toBe('door.held_open');
  });

  it('fire unlocks for egress and restores the mode that was asked for meanwhile', () => {
    const r = rig();
    r.door.contact(true);
    expect(r.door.snapshot().forced).toBe(true);
    r.door.fireInput(true);
    expect(r.relay.at(-1)).toEqual({ on: true });
    expect(r.door.snapshot()).toMatchObject({ mode: 'fire', forced: false });
    r.door.setMode('unlocked'); // a guard asks while the fire is on: remembered
    r.door.fireInput(false);
    expect(r.door.snapshot().mode).toBe('unlocked');
    r.door.setMode('normal');
    expect(r.relay.at(-1)).toEqual({ on: false });
  });

  it('fire does nothing to a door without fireUnlock', () => {
    const r = rig({ fireUnlock: false });
    r.door.fireInput(true);
    expect(r.relay).toEqual([]);
    expect(r.door.snapshot().mode).toBe('normal');
  });

  it('reassert re-sends the relay state with the remaining pulse time', () => {
    const r = rig();
    r.door.grant(alice);
    r.clock.advance(2000);
    r.door.reassert();
    expect(r.relay.at(-1)).toEqual({ on: true, ms: 3000 });
    r.door.setMode('unlocked');
    r.door.reassert();
    expect(r.relay.at(-1)).toEqual({ on: true });
  });

  it('a door already open at start-up is not forced', () => {
    const clock = new ManualClock();
    const events: DoorEvent[] = [];
    const door = new DoorMachine({
      door: 'd',
      unlockMs: 5000,
      heldOpenMs: 30_000,
      fireUnlock: true,
      hasContact: true,
      timers: clock,
      monotonic: () => clock.monotonic(),
      relay: () => undefined,
      emit: (e) => events.push(e),
      passage: () => undefined,
    });
    door.contact(true);
    expect(events.map((e) => e.type)).toEqual(['door.opened']);
  });
});
