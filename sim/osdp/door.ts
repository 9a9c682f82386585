/**
 * A door behind a simulated reader: the lock relay (reader output 0) and the door contact
 * (reader input 0, normally closed: active while the door is shut). People are modelled
 * only as far as the gateway can see them: a resident who swiped pushes the door within a
 * second if the lock clicks, walks through and lets it swing shut a few seconds later; a
 * tailgater holds it; a burglar forces it with the lock engaged.
 */
import type { TimerHandle, Timers } from '../../gateway/core/clock.js';

export interface SimDoorOptions {
  timers: Timers;
  /** Called whenever the contact changes (true = door shut). */
  onContact: (closed: boolean) => void;
  /** A resident gives up pushing when the lock has not released this long after the swipe. */
  grantWindowMs?: number;
  /** How long a resident keeps the door open walking through. */
  walkThroughMs?: number;
}

export type DoorEvent = 'released' | 'locked' | 'opened' | 'closed' | 'forced';

export class SimDoor {
  /** Relay energised: the strike is free (fail-safe maglocks are wired so too). */
  released = false;
  /** Door contact state. */
  closed = true;
  /** What happened, for tests to read; newest last. */
  readonly history: { at: number; event: DoorEvent }[] = [];
  private readonly pending = new Set<TimerHandle>();
  private waitingForRelease: ((released: boolean) => void)[] = [];
  private readonly grantWindowMs: number;
  private readonly walkThroughMs: number;

  constructor(private readonly opts: SimDoorOptions) {
    this.grantWindowMs = opts.grantWindowMs ?? 1000;
    this.walkThroughMs = opts.walkThroughMs ?? 3000;
  }

  /** The reader's output 0 changed. */
  setRelay(on: boolean): void {
    if (on === this.released) return;
    this.released = on;
    this.note(on ? 'released' : 'locked');
    if (on) {
      const waiting = this.waitingForRelease;
      this.waitingForRelease = [];
      for (const w of waiting) w(true);
    }
  }

  /**
   * A resident who just swiped: pushes the door if the lock releases within the grant
   * window, keeps it open for the walk, then lets it close. Resolves with whether they got in.
   */
  async walkThrough(): Promise<boolean> {
    const released = this.released || (await this.awaitRelease(this.grantWindowMs));
    if (!released) return false;
    this.setClosed(false);
    await this.sleep(this.walkThroughMs);
    this.setClosed(true);
    return true;
  }

  /** Someone follows the resident and holds the door open for `ms` before letting it close. */
  async tailgate(ms: number): Promise<void> {
    this.setClosed(false);
    await this.sleep(ms);
    this.setClosed(true);
  }

  /** The door is pulled open with the lock engaged (forced entry); stays open until `shut()`. */
  force(): void {
    if (!this.released) this.note('forced');
    this.setClosed(false);
  }

  /** Someone closes the door. */
  shut(): void {
    this.setClosed(true);
  }

  cancel(): void {
    for (const h of this.pending) h.cancel();
    this.pending.clear();
    for (const w of this.waitingForRelease) w(false);
    this.waitingForRelease = [];
  }

  private setClosed(closed: boolean): void {
    if (closed === this.closed) return;
    this.closed = closed;
    this.note(closed ? 'closed' : 'opened');
    this.opts.onContact(closed);
  }

  private note(event: DoorEvent): void {
    this.history.push({ at: Date.now(), event });
    if (this.history.length > 200) this.history.shift();
  }

  private awaitRelease(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: boolean) => {
        if (done) return;
        done = true;
        this.pending.delete(h);
        h.cancel();
        resolve(v);
      };
      const h = this.opts.timers.setTimeout(() => finish(false), ms);
      this.pending.add(h);
      this.waitingForRelease.push(finish);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const h = this.opts.timers.setTimeout(() => {
        this.pending.delete(h);
        resolve();
      }, ms);
      this.pending.add(h);
    });
  }
}
