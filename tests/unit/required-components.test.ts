/**
 * Which components a compound file cannot do without (gateway/app.ts): the embedded
 * broker when locks or operators log in to it, the uplink when a platform is configured.
 */
import { describe, expect, it } from 'vitest';
import { CompoundConfig } from '../../config/schema.js';
import { requiredComponents } from '../../gateway/app.js';

const base = { compound: { id: 'c' }, gateway: { id: 'g' } };

describe('requiredComponents', () => {
  it('requires nothing of a compound without locks, operators or platform', () => {
    expect([...requiredComponents(CompoundConfig.parse(base), {}).keys()]).toEqual([]);
  });

  it('requires the broker for locks or operators, and the uplink for a platform (URL redacted)', () => {
    const config = CompoundConfig.parse({
      ...base,
      locks: [{ id: 'flat-1' }, { id: 'flat-2' }],
      broker: { operators: [{ username: 'bms', passwordSecret: 'ops.bms' }] },
    });
    const required = requiredComponents(config, { uplinkUrl: 'mqtts://gw:s3cret@platform.example:8883' });
    expect(required.get('broker')).toBe('the compound file has 2 locks and 1 operator that log in to it');
    expect(required.get('uplink')).toMatch(/configures a platform/);
    expect(required.get('uplink')).not.toContain('s3cret');
    expect([...requiredComponents(CompoundConfig.parse(base), { operators: [{ username: 'watch', password: 'x' }] }).keys()]).toEqual([
      'broker',
    ]);
  });
});
