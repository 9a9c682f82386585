/**
 * What `gatehouse check --devices` tells the installer about a reader, from how its link
 * ended up: each way of failing gets its own status and advice naming the address, the line
 * and the secret to fix.
 */
import { describe, expect, it } from 'vitest';
import { CompoundConfig } from '../../config/schema.js';
import { judge } from '../../gateway/access/probe.js';

const config = CompoundConfig.parse({
  compound: { id: 'c' },
  gateway: { id: 'g' },
  osdpBuses: [{ id: 'rs485-1', path: '/dev/ttyUSB0', baudRate: 9600 }],
  readers: [
    { id: 'gate-in', bus: 'rs485-1', address: 3 },
    { id: 'side', bus: 'rs485-1', address: 4, secure: 'off' },
  ],
});
const reader = config.readers[0]!;
const identity = { vendor: '0A1B2C', model: 1, version: 1, serial: 42, firmware: '2.1.0' };

describe('reader verdicts', () => {
  it('online over the secure channel is OK with its identity; a reader in clear is OK with a warning', () => {
    const ok = judge(reader, config, { online: true, secure: true, identity });
    expect(ok).toMatchObject({ ok: true, status: 'online', identity: { serial: '42', firmware: '2.1.0' } });
    expect(ok.detail).toBe('vendor 0A1B2C model 1 serial 42 firmware 2.1.0, secure true');
    expect(judge(config.readers[1]!, config, { online: true, secure: false }).warnings).toEqual([
      'reader side runs without secure channel: card numbers cross the RS-485 line in clear',
    ]);
  });

  it('each failure with its advice', () => {
    const cases: [Parameters<typeof judge>[2], string, RegExp][] = [
      [
        { online: false, secure: false, identity, problem: 'reader cryptogram does not match: wrong key' },
        'WRONG KEY',
        /^wrong key: the reader at address 3 on \/dev\/ttyUSB0 does not use the key in secret "osdp\.gate-in"/,
      ],
      [{ online: false, secure: false, problem: 'no key: secret "osdp.gate-in" is missing' }, 'NO KEY', /add "osdp\.gate-in"/],
      [{ online: false, secure: false }, 'NO ANSWER', /^no answer at address 3 on \/dev\/ttyUSB0: .*baud rate \(9600\)/],
      [{ online: false, secure: false, identity, problem: 'no reply to 4 commands in a row' }, 'NO ANSWER', /^no answer at address 3/],
      [{ online: false, secure: false, problem: 'line down' }, 'NO LINE', /adapter of line rs485-1 \(\/dev\/ttyUSB0\)/],
      [{ online: false, secure: false, lineError: 'ENOENT' }, 'NO LINE', /plug in the RS-485 adapter/],
      [{ online: false, secure: false, identity }, 'NO HANDSHAKE', /answers its ID but not the secure handshake/],
      [
        { online: false, secure: false, identity, problem: 'reader requires the secure channel (NAK 0x06 to CAP)' },
        'REFUSED',
        /refuses the secure channel/,
      ],
      [
        { online: false, secure: false, identity, problem: 'reader refused the install key (NAK 6): it already has its own key' },
        'WRONG KEY',
        /already has its own key/,
      ],
    ];
    for (const [outcome, status, advice] of cases) {
      const r = judge(reader, config, outcome);
      expect({ ok: r.ok, status: r.status }).toEqual({ ok: false, status });
      expect(r.advice).toMatch(advice);
    }
  });
});
