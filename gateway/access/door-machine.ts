/**
 * One door's state machine: lock relay, door contact, exit button, fire override and the
 * door alarms. Pure logic with injected timers — the caller feeds it inputs (a grant, the
 * contact, the exit button, fire) and carries out what it asks for (relay commands,
 * events, anti-passback commits).
 *
 * Why the relay is driven the way it is:
 * - a momentary unlock is sent as a timed pulse, so the reader relocks by itself even if
 *   the RS-485 link dies while the door is unlocked (fail-secure);
 * - the relay is released as soon as a granted door closes again, so one grant lets one
 *   door cycle through, not everyone who arrives in the next five seconds;
 * - a door that opens while the relay is off and nobody asked to leave is forced open;
 *   one that stays open past `heldOpenMs` after a legitimate opening is held open.
 */
import type { Timers, TimerHandle } from '../core/clock.js';

export type RelayCommand = { on: true; ms?: number } | { on: false };

export type LockMode = 'normal' | 'unlocked' | 'fire';

export type DoorEventType =
  | 'door.opened'
  | 'door.closed'
  | 'door.forced'
  | 'door.forced_cleared'
  | 'door.held_open'
  | 'door.held_cleared'
  | 'door.exit_request'
  | 'door.mode';

export interface DoorEvent {
  type: DoorEventType;
  data: Record<string, unknown>;
}

export interface Passage {
  credentialId: string;
  direction: 'in' | 'out';
  door: string;
}

export interface DoorMachineOptions {
  door: string;
  unlockMs: number;
  heldOpenMs: number;
  fireUnlock: boolean;
  /** Whether a door contact is wired: without one, a grant counts as a passage at once. */
  hasContact: boolean;
  timers: Timers;
  /** Monotonic ms, for durations in events. */
  monotonic: () => number;
  relay(cmd: RelayCommand): void;
  emit(event: DoorEvent): void;
  passage(p: Passage): void;
}

export interface DoorSnapshot {
  door: string;
  mode: LockMode;
  unlocked: boolean;
  open: boolean | null;
  forced: boolean;
  heldOpen: boolean;
}

export class DoorMachine {
  private mode: LockMode = 'normal';
  private relayOn = false;
  private open: boolean | null = null;
  private forced = false;
  private held = false;
  private fire = false;
  /** A momentary unlock in progress (grant, remote open or exit request). */
  private window: { until: number; passage?: Passage; opened: boolean } | undefined;
  private windowTimer: TimerHandle | undefined;
  private heldTimer: TimerHandle | undefined;
  private openedAt = 0;
  /** What `setMode` asked for while fire had the door; restored when the fire input clears. */
  private heldMode: 'normal' | 'unlocked' = 'normal';

  constructor(private readonly opts: DoorMachineOptions) {}

  snapshot(): DoorSnapshot {
    return { door: this.opts.door, mode: this.mode, unlocked: this.relayOn, open: this.open, forced: this.forced, heldOpen: this.held };
  }

  /** A decision granted access: unlock for `unlockMs`, remember who passes. */
  grant(passage: Passage, unlockMs = this.opts.unlockMs): void {
    this.momentary(unlockMs, passage);
    if (!this.opts.hasContact) {
      this.opts.passage(passage);
      this.window!.passage = undefined;
    }
  }

  /** Remote open (guard, platform): unlock once, no credential. */
  remoteOpen(ms = this.opts.unlockMs): void {
    this.momentary(ms);
  }

  exitButton(): void {
    this.opts.emit({ type: 'door.exit_request', data: { door: this.opts.door } });
    this.momentary(this.opts.unlockMs);
  }

  /** Held unlocked (`door.unlock`) or back to normal (`door.lock`). Fire keeps priority. */
  setMode(mode: 'normal' | 'unlocked'): void {
    if (this.fire && this.opts.fireUnlock) {
      this.heldMode = mode;
      return;
    }
    this.changeMode(mode);
  }

  fireInput(active: boolean): void {
    if (active === this.fire) return;
    this.fire = active;
    if (!this.opts.fireUnlock) return;
    if (active) {
      this.heldMode = this.mode === 'fire' ? this.heldMode : (this.mode as 'normal' | 'unlocked');
      this.changeMode('fire');
    } else {
      this.changeMode(this.heldMode);
    }
  }

  /** Door contact, already translated from NO/NC wiring: true = open. */
  contact(open: boolean): void {
    if (this.open === open) return;
    const first = this.open === null;
    this.open = open;
    if (first && !open) return; // first reading after start-up: nothing happened
    if (open) this.onOpened(first);
    else this.onClosed();
  }

  /** Re-sends the relay state, e.g. after the reader came back online. */
  reassert(): void {
    if (this.mode !== 'normal') this.opts.relay({ on: true });
    else if (this.window) this.opts.relay({ on: true, ms: Math.max(100, this.window.until - this.opts.monotonic()) });
    else this.opts.relay({ on: false });
  }

  stop(): void {
    this.windowTimer?.cancel();
    this.heldTimer?.cancel();
  }

  private changeMode(mode: LockMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.endWindow(false);
    this.relayOn = mode !== 'normal';
    this.opts.relay(this.relayOn ? { on: true } : { on: false });
    this.opts.emit({ type: 'door.mode', data: { door: this.opts.door, mode } });
    if (mode !== 'normal') {
      // An unlocked door is neither forced nor held: clear what was raised.
      if (this.forced) this.clearForced();
      this.stopHeldTimer();
      if (this.held) this.clearHeld();
    } else if (this.open) {
      this.startHeldTimer();
    }
  }

  private momentary(ms: number, passage?: Passage): void {
    if (this.mode !== 'normal') {
      // Already unlocked: the grant still counts as a passage.
      if (passage) this.opts.passage(passage);
      return;
    }
    this.windowTimer?.cancel();
    const until = this.opts.monotonic() + ms;
    this.window = { until, opened: false, ...(passage ? { passage } : {}) };
    this.windowTimer = this.opts.timers.setTimeout(() => this.endWindow(true), ms);
    this.relayOn = true;
    this.opts.relay({ on: true, ms });
  }

  /** Ends a momentary unlock; `expired`: the reader relocks by itself (timed pulse). */
  private endWindow(expired: boolean): void {
    if (!this.window) return;
    this.windowTimer?.cancel();
    this.windowTimer = undefined;
    this.window = undefined;
    if (this.mode === 'normal' && this.relayOn) {
      this.relayOn = false;
      // An expired pulse has already dropped on the reader; an early end must be told.
      if (!expired) this.opts.relay({ on: false });
    }
  }

  private onOpened(afterStartup: boolean): void {
    this.openedAt = this.opts.monotonic();
    const authorised = this.mode !== 'normal' || this.window !== undefined;
    this.opts.emit({ type: 'door.opened', data: { door: this.opts.door, authorised } });
    if (this.window) {
      this.window.opened = true;
      if (this.window.passage) {
        this.opts.passage(this.window.passage);
        this.window.passage = undefined;
      }
    }
    if (!authorised && !afterStartup) {
      this.forced = true;
      this.opts.emit({ type: 'door.forced', data: { door: this.opts.door } });
    }
    if (this.mode === 'normal') this.startHeldTimer();
  }

  private onClosed(): void {
    const openMs = Math.round(this.opts.monotonic() - this.openedAt);
    this.opts.emit({ type: 'door.closed', data: { door: this.opts.door, openMs } });
    this.stopHeldTimer();
    if (this.held) this.clearHeld();
    if (this.forced) this.clearForced();
    // One grant, one door cycle: relock as soon as the door is shut again.
    if (this.window?.opened) this.endWindow(false);
  }

  private startHeldTimer(): void {
    this.stopHeldTimer();
    this.heldTimer = this.opts.timers.setTimeout(() => {
      this.heldTimer = undefined;
      // A forced door is already an alarm; held open would only repeat it.
      if (!this.open || this.mode !== 'normal' || this.held || this.forced) return;
      this.held = true;
      this.opts.emit({ type: 'door.held_open', data: { door: this.opts.door, openMs: Math.round(this.opts.monotonic() - this.openedAt) } });
    }, this.opts.heldOpenMs);
  }

  private stopHeldTimer(): void {
    this.heldTimer?.cancel();
    this.heldTimer = undefined;
  }

  private clearHeld(): void {
    this.held = false;
    this.opts.emit({ type: 'door.held_cleared', data: { door: this.opts.door } });
  }

  private clearForced(): void {
    this.forced = false;
    this.opts.emit({ type: 'door.forced_cleared', data: { door: this.opts.door } });
  }
}
