import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { PinAttempts } from '../../gateway/access/pin-attempts.js';

describe('PinAttempts', () => {
  it('locks out after maxAttempts failures for lockoutMs of monotonic time, then starts over', () => {
    const clock = new ManualClock();
    const p = new PinAttempts({ maxAttempts: 3, lockoutMs: 1000, clock });
    expect(p.recordFailure('a')).toBe(false);
    expect(p.recordFailure('a')).toBe(false);
    expect(p.isLockedOut('a')).toBe(false);
    expect(p.recordFailure('a')).toBe(true);
    expect(p.isLockedOut('a')).toBe(true);
    expect(p.isLockedOut('b')).toBe(false);
    // failures while locked out do not extend the lockout
    clock.advance(900);
    expect(p.recordFailure('a')).toBe(false);
    clock.advance(100);
    expect(p.isLockedOut('a')).toBe(false);
    expect(p.failures('a')).toBe(0);
    expect(p.recordFailure('a')).toBe(false);
  });

  it('a success clears the count', () => {
    const p = new PinAttempts({ maxAttempts: 2, lockoutMs: 1000, clock: new ManualClock() });
    p.recordFailure('a');
    p.recordSuccess('a');
    expect(p.recordFailure('a')).toBe(false);
    expect(p.isLockedOut('a')).toBe(false);
  });
});
