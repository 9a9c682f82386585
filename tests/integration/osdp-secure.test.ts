/**
 * The OSDP secure channel over a real serial line: simulated readers with their own keys
 * (or in install mode) and a control panel that must never fall back to clear text. A tap
 * on the simulated line sees every byte the readers receive and send.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cardHexFromRaw, rawFromCardHex } from '../../drivers/osdp/card.js';
import { SCBK_D } from '../../drivers/osdp/secure-channel.js';
import { Cmd } from '../../drivers/osdp/types.js';
import { startOsdpRig, type OsdpRig } from '../helpers/osdp-rig.js';
import { waitFor } from '../helpers/wait.js';

const KEY_1 = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const KEY_2 = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + 3 * i);
const WRONG = Uint8Array.from({ length: 16 }, (_, i) => 0x55 ^ i);

let rig: OsdpRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
}

describe('OSDP secure channel over a pty', () => {
  it("brings a 'required' reader online secure and its card crosses the wire encrypted (a clear reader's does not)", async () => {
    rig = await startOsdpRig({
      sim: [{ address: 1, key: KEY_1 }, { address: 2 }],
      cp: [
        { address: 1, secure: 'required', key: KEY_1 },
        { address: 2, secure: 'off' },
      ],
    });
    const r = rig;
    const line: Buffer[] = [];
    r.sim.tap((_dir, bytes) => line.push(Buffer.from(bytes)));
    await waitFor(
      () => r.online(1) && r.online(2),
      'both readers online',
      5000,
      () => r.cp.stats(),
    );
    expect(r.of('online', 1)[0]).toMatchObject({ secure: true });
    expect(r.cp.status().find((s) => s.address === 1)).toMatchObject({ online: true, secure: true });
    expect(r.sim.pd(1).secure).toBe(true);

    const cardHex = '1ABCDEF';
    const cardBytes = rawFromCardHex(cardHex, 26);
    r.sim.reader(1).swipe(cardHex);
    const card = await waitFor(() => r.of('card', 1)[0], 'card from the secure reader');
    expect(cardHexFromRaw(card.bits, card.data)).toBe(cardHex);
    // Commands to the secure reader are wrapped too, and work.
    await r.cp.output(1, [{ output: 0, action: 'pulse-on', ms: 500 }]);
    expect(r.sim.reader(1).outputs[0]).toBe(true);
    expect(contains(Buffer.concat(line), cardBytes), 'card bytes seen in clear on the line').toBe(false);
    expect(r.sim.pd(1).counters.clearRefused).toBe(0);

    // The same card on the clear-text reader is visible on the tap: the check above can fail.
    r.sim.reader(2).swipe(cardHex);
    await waitFor(() => r.of('card', 2)[0], 'card from the clear reader');
    await waitFor(() => contains(Buffer.concat(line), cardBytes), 'card bytes in clear from reader 2', 2000);
  });

  it("keeps a reader with another key offline with 'secure-failed', never in clear, while the others work", async () => {
    rig = await startOsdpRig({
      sim: [
        { address: 1, key: KEY_1 },
        { address: 2, key: KEY_2 },
      ],
      cp: [
        { address: 1, secure: 'required', key: WRONG },
        { address: 2, secure: 'required', key: KEY_2 },
      ],
    });
    const r = rig;
    const reached: number[] = [];
    r.sim.reader(1).on('command', (c) => reached.push(c.code));
    await waitFor(
      () => r.of('secure-failed', 1)[0],
      'secure-failed for reader 1',
      5000,
      () => r.cp.stats(),
    );
    expect(r.of('secure-failed', 1)[0]!.reason).toMatch(/wrong key/);
    await waitFor(() => r.online(2), 'reader 2 online', 5000);
    // A few more handshake retries: still no online, no second event, and nothing but set-up in clear.
    await new Promise((res) => setTimeout(res, 1500));
    expect(r.of('online', 1)).toHaveLength(0);
    expect(r.online(1)).toBe(false);
    expect(r.of('secure-failed', 1)).toHaveLength(1);
    expect(r.sim.pd(1).counters.clearRefused).toBe(0);
    // Only ID and CAP (which open a channel) ever reached the reader's application layer.
    expect(reached.length).toBeGreaterThan(0);
    expect(reached.filter((c) => c !== Cmd.ID && c !== Cmd.CAP)).toEqual([]);
    const err = await r.cp.output(1, [{ output: 0, action: 'on' }]).catch((e: { code?: string }) => e);
    expect(err).toMatchObject({ code: 'DEVICE_OFFLINE' });
    expect(r.sim.reader(1).outputs[0]).toBe(false);
  });

  it("installs a fresh key on an 'install' reader with KEYSET, then runs secure with the new key", async () => {
    rig = await startOsdpRig({ sim: [{ address: 5 }], cp: [{ address: 5, secure: 'install' }] });
    const r = rig;
    const keySet = await waitFor(
      () => r.of('key-set', 5)[0],
      'key-set event',
      5000,
      () => r.cp.stats(),
    );
    expect(keySet.key).toHaveLength(16);
    expect(Buffer.from(keySet.key).equals(Buffer.from(SCBK_D))).toBe(false);
    await waitFor(
      () => r.online(5),
      'reader 5 online after KEYSET',
      5000,
      () => r.cp.stats(),
    );
    expect(r.of('online', 5)[0]).toMatchObject({ secure: true });
    // The reader now holds exactly the key the event carried, and refuses clear text.
    expect(Buffer.from(r.sim.reader(5).key!).equals(Buffer.from(keySet.key))).toBe(true);
    expect(r.sim.reader(5).requireSecure).toBe(true);
    r.sim.reader(5).typePin('42#');
    expect((await waitFor(() => r.of('keypad', 5)[0], 'keypad over the new session')).keys).toBe('42#');

    // A later rotation through the API: KEYSET over the session, then a new handshake on the next (re)connect.
    await r.cp.keyset(5, KEY_2);
    expect(Buffer.from(r.sim.reader(5).key!).equals(Buffer.from(KEY_2))).toBe(true);
    expect(r.of('key-set', 5)).toHaveLength(2);
  });

  it('brings secure readers back after the adapter was unplugged (socat killed and restarted)', async () => {
    rig = await startOsdpRig({
      sim: [{ address: 1, key: KEY_1 }, { address: 2 }],
      cp: [
        { address: 1, secure: 'required', key: KEY_1 },
        { address: 2, secure: 'off' },
      ],
    });
    const r = rig;
    await waitFor(() => r.online(1) && r.online(2), 'both readers online', 5000);
    await r.unplugAdapter();
    await waitFor(() => r.of('offline').length === 2, 'both offline', 5000);
    await r.plugAdapter();
    await waitFor(
      () => r.online(1) && r.online(2),
      'both back',
      10_000,
      () => r.cp.stats(),
    );
    expect(r.of('online', 1).at(-1)).toMatchObject({ secure: true });
    r.sim.reader(1).swipe('0000007');
    await waitFor(() => r.of('card', 1)[0], 'card after reconnect');
  });
});
