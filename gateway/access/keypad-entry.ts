/**
 * What a person types at one reader, turned into complete entries: a PIN ends with '#'
 * ('*' clears), and a card that needs a PIN (card+PIN) waits for it for `pinTimeoutMs`.
 * Pure apart from the injected timer; the caller decides what an entry means.
 */
import type { TimerHandle, Timers } from '../core/clock.js';

export type Entry =
  | { kind: 'pin'; pin: string }
  | { kind: 'card+pin'; card: string; pin: string }
  /** A card waited for its PIN and none came. */
  | { kind: 'pin-timeout'; card: string };

const MAX_DIGITS = 12;

export class KeypadEntry {
  private digits = '';
  private pendingCard: string | undefined;
  private timer: TimerHandle | undefined;

  constructor(private readonly opts: { pinTimeoutMs: number; timers: Timers; onEntry(e: Entry): void }) {}

  /** A card whose credential wants a PIN: keep it until the PIN is typed. */
  awaitPin(card: string): void {
    this.pendingCard = card;
    this.digits = '';
    this.restartTimer();
  }

  get waitingForPin(): boolean {
    return this.pendingCard !== undefined;
  }

  keys(text: string): void {
    for (const k of text) {
      if (k === '*') {
        this.digits = '';
      } else if (k === '#') {
        this.submit();
      } else if (k >= '0' && k <= '9') {
        // A runaway keypad (or a child) cannot grow the buffer: the oldest digits fall off.
        this.digits = (this.digits + k).slice(-MAX_DIGITS);
        this.restartTimer();
      }
    }
  }

  /** Drops whatever was typed, e.g. when the reader goes offline. */
  reset(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.digits = '';
    this.pendingCard = undefined;
  }

  private submit(): void {
    const pin = this.digits;
    const card = this.pendingCard;
    this.reset();
    if (!pin) return;
    this.opts.onEntry(card ? { kind: 'card+pin', card, pin } : { kind: 'pin', pin });
  }

  private restartTimer(): void {
    this.timer?.cancel();
    this.timer = this.opts.timers.setTimeout(() => {
      const card = this.pendingCard;
      this.reset();
      if (card) this.opts.onEntry({ kind: 'pin-timeout', card });
    }, this.opts.pinTimeoutMs);
  }
}

/**
 * Unknown PINs typed at one keypad. A PIN-only guess cannot be tied to a credential, so
 * brute force is limited per keypad: after `maxAttempts` unknown PINs in a row the keypad
 * refuses PINs for `lockoutMs` (cards still work). In memory: a restart forgives.
 */
export class PinGuessLimiter {
  private misses = 0;
  private lockedUntil = -Infinity;

  constructor(private readonly opts: { maxAttempts: number; lockoutMs: number; monotonic(): number }) {}

  lockedOut(): boolean {
    return this.opts.monotonic() < this.lockedUntil;
  }

  record(unknownPin: boolean): void {
    if (!unknownPin) {
      this.misses = 0;
      return;
    }
    if (++this.misses >= this.opts.maxAttempts) {
      this.misses = 0;
      this.lockedUntil = this.opts.monotonic() + this.opts.lockoutMs;
    }
  }
}
