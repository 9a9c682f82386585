/**
 * From what a reader read to a decision, and what the person is shown: a card, a PIN, or a
 * card then PIN, decided by the local engine; repeated wrong PINs lock the keypad out. Also
 * the lock output a door machine's relay command becomes on the reader.
 */
import type { DoorConfig } from '../../config/schema.js';
import type { BuzzerControl, LedControl, OutputControl } from '../../drivers/osdp/types.js';
import type { Direction } from './access-events.js';
import type { RelayCommand } from './door-machine.js';
import type { Entry, PinGuessLimiter } from './keypad-entry.js';
import type { Decider, Decision } from './service-types.js';

export const GRANT_FEEDBACK: { led: LedControl; buzz: BuzzerControl } = {
  led: { led: 0, color: 'green', ms: 2000 },
  buzz: { onMs: 100, offMs: 100, count: 1 },
};
export const DENY_FEEDBACK: { led: LedControl; buzz: BuzzerControl } = {
  led: { led: 0, color: 'red', ms: 2000 },
  buzz: { onMs: 100, offMs: 100, count: 3 },
};
export const AWAIT_PIN_LED: LedControl = { led: 0, color: 'amber', ms: 10_000, blink: { onMs: 200, offMs: 200 } };

/** The decision on a keypad entry (a PIN, or a card waiting for its PIN) at `door`. */
export function decideEntry(
  decider: Decider,
  pinGuesses: PinGuessLimiter,
  base: { door: string; direction: Direction; now: number },
  e: Entry,
): Decision {
  let decision: Decision;
  if (e.kind === 'pin') {
    if (pinGuesses.lockedOut()) decision = { granted: false, reason: 'pin_locked_out', credential: '****', method: 'pin' };
    else {
      decision = decider.decide({ ...base, pin: e.pin });
      pinGuesses.record(decision.reason === 'unknown');
    }
  } else if (e.kind === 'card+pin') decision = decider.decide({ ...base, card: e.card, pin: e.pin });
  else decision = { ...decider.decide({ ...base, card: e.card }), granted: false, reason: 'pin_required' };
  return decision;
}

/** The reader output that drives the door's lock for one relay command. */
export function lockOutput(cfg: DoorConfig, cmd: RelayCommand): OutputControl {
  return cmd.on
    ? cmd.ms !== undefined
      ? { output: cfg.lock.index, action: 'pulse-on', ms: cmd.ms }
      : { output: cfg.lock.index, action: 'on' }
    : { output: cfg.lock.index, action: 'off' };
}
