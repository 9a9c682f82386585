/**
 * The control panel's secure channel on an in-memory line and a ManualClock: what goes on
 * the wire in which order, and that a reader is never used in clear text when it should
 * not be. The far end is the simulated readers' PD layer with the shared SecureSession.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OsdpReaderOptions } from '../../drivers/osdp/control-panel.js';
import { SCBK_D } from '../../drivers/osdp/secure-channel.js';
import { Cmd, NakCode, Scs } from '../../drivers/osdp/types.js';
import type { SimReaderOptions } from '../../sim/osdp/sim-reader.js';
import { startFakeRig, type FakeRig } from '../helpers/fake-osdp-line.js';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xc0 + i);
const OTHER = Uint8Array.from({ length: 16 }, (_, i) => i);

let current: FakeRig | undefined;
afterEach(async () => {
  await current?.cp.stop();
  current = undefined;
});
const rig = (readers: SimReaderOptions[], cp: OsdpReaderOptions[]) => (current = startFakeRig(readers, cp));
const online = (r: FakeRig, a: number) => r.cp.status().find((s) => s.address === a)?.online === true;

describe('OsdpControlPanel secure channel', () => {
  it('opens the session after ID and CAP, then wraps every command (SCS_15 without data, SCS_17 with)', async () => {
    const r = rig([{ address: 1, key: KEY }], [{ address: 1, secure: 'required', key: KEY }]);
    await r.run(100);
    expect(r.of('online', 1)).toEqual([expect.objectContaining({ secure: true })]);
    const frames = r.line.framesTo(1).map((w) => w.frame);
    expect(frames.slice(0, 4).map((f) => [f.code, f.scb?.type, f.scb?.data[0]])).toEqual([
      [Cmd.ID, undefined, undefined],
      [Cmd.CAP, undefined, undefined],
      [Cmd.CHLNG, Scs.SCS_11, 0x01], // 0x01: the reader's own key, not SCBK-D
      [Cmd.SCRYPT, Scs.SCS_13, 0x01],
    ]);
    const after = frames.slice(4);
    expect(after.length).toBeGreaterThan(10);
    expect(after.every((f) => f.scb?.type === Scs.SCS_15 || f.scb?.type === Scs.SCS_17)).toBe(true);
    expect(after.filter((f) => f.code === Cmd.POLL).every((f) => f.scb?.type === Scs.SCS_15 && f.mac?.length === 4)).toBe(true);
    await Promise.all([r.cp.output(1, [{ output: 0, action: 'on' }]), r.run(20)]);
    const out = r.line
      .framesTo(1)
      .map((w) => w.frame)
      .find((f) => f.code === Cmd.OUT)!;
    expect(out.scb?.type).toBe(Scs.SCS_17);
    expect(r.line.reader(1).outputs[0]).toBe(true);
  });

  it("reports 'secure-failed' once for a wrong key, retries at the longest backoff and never polls in clear", async () => {
    const r = rig(
      [
        { address: 1, key: OTHER },
        { address: 2, key: KEY },
      ],
      [
        { address: 1, secure: 'required', key: KEY },
        { address: 2, secure: 'required', key: KEY },
      ],
    );
    await r.run(10_000);
    expect(r.of('secure-failed', 1)).toHaveLength(1);
    expect(r.of('online', 1)).toHaveLength(0);
    expect(online(r, 2)).toBe(true);
    const codes = new Set(r.line.framesTo(1).map((w) => w.frame.code));
    expect([...codes].sort()).toEqual([Cmd.ID, Cmd.CAP, Cmd.CHLNG].sort());
    // First attempt at once, then one per 4 s (the max backoff): 3 handshakes in 10 s.
    expect(r.line.framesTo(1).filter((w) => w.frame.code === Cmd.CHLNG)).toHaveLength(3);
  });

  it('installs a key: handshake with SCBK-D, KEYSET inside the session, handshake again with the new key', async () => {
    const r = rig([{ address: 4 }], [{ address: 4, secure: 'install' }]);
    await r.run(100);
    const frames = r.line.framesTo(4).map((w) => w.frame);
    expect(frames.slice(0, 7).map((f) => [f.code, f.scb?.type, f.scb?.data[0]])).toEqual([
      [Cmd.ID, undefined, undefined],
      [Cmd.CAP, undefined, undefined],
      [Cmd.CHLNG, Scs.SCS_11, 0x00], // SCBK-D
      [Cmd.SCRYPT, Scs.SCS_13, 0x00],
      [Cmd.KEYSET, Scs.SCS_17, undefined],
      [Cmd.CHLNG, Scs.SCS_11, 0x01], // the new key
      [Cmd.SCRYPT, Scs.SCS_13, 0x01],
    ]);
    const [keySet] = r.of('key-set', 4);
    expect(keySet!.key).toHaveLength(16);
    expect(Buffer.from(keySet!.key).equals(Buffer.from(SCBK_D))).toBe(false);
    expect(Buffer.from(r.line.reader(4).key!).equals(Buffer.from(keySet!.key))).toBe(true);
    expect(r.of('online', 4)).toEqual([expect.objectContaining({ secure: true })]);
    // The key never crossed in clear: the KEYSET payload is encrypted.
    const keysetBytes = Buffer.from(r.line.framesTo(4).find((w) => w.frame.code === Cmd.KEYSET)!.bytes);
    expect(keysetBytes.indexOf(Buffer.from(keySet!.key))).toBe(-1);
  });

  it("does not flap a reader that insists on the secure channel while configured 'off'", async () => {
    const r = rig([{ address: 1, key: KEY }], [{ address: 1, secure: 'off' }]);
    await r.run(10_000);
    // ID and CAP look fine, but a reader is announced only after a good exchange in the
    // session, and the first clear query is refused: never online, so never offline either.
    expect(r.of('secure-failed', 1)).toEqual([
      { kind: 'secure-failed', address: 1, reason: expect.stringMatching(/requires the secure channel/) },
    ]);
    expect(r.of('online', 1)).toHaveLength(0);
    expect(r.of('offline', 1)).toHaveLength(0);
    expect(r.of('nak', 1).every((e) => e.code === NakCode.ENCRYPTION_REQUIRED)).toBe(true);
  });

  it('refuses keyset() on a reader without a secure channel: a key is never sent in clear', async () => {
    const r = rig([{ address: 1 }], [{ address: 1, secure: 'off' }]);
    await r.run(50);
    await expect(r.cp.keyset(1, KEY)).rejects.toMatchObject({ code: 'DEVICE_REFUSED' });
    expect(r.line.framesTo(1).some((w) => w.frame.code === Cmd.KEYSET)).toBe(false);
  });
  it('a reader that handshakes correctly then gets the security block wrong: never online, one secure-failed, retried with backoff', async () => {
    const r = rig(
      [
        { address: 1, key: KEY },
        { address: 2, key: KEY },
      ],
      [
        { address: 1, secure: 'required', key: KEY },
        { address: 2, secure: 'required', key: KEY },
      ],
    );
    r.line.reader(1).wrongSecurityBlockAfter = 0;
    await r.run(60_000);
    expect(r.of('online', 1)).toHaveLength(0);
    expect(r.of('offline', 1)).toHaveLength(0);
    const failed = r.of('secure-failed', 1);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatch(/security block/);
    // One handshake at once, then one per 4 s (the rig's longest backoff), not two a second.
    const handshakes = r.line.framesTo(1).filter((w) => w.frame.code === Cmd.CHLNG).length;
    expect(handshakes).toBeGreaterThanOrEqual(14);
    expect(handshakes).toBeLessThanOrEqual(16);
    expect(online(r, 2)).toBe(true);
  });

  it('a reader whose security block goes wrong a few exchanges into each session: one secure-failed a minute, backoff between sessions', async () => {
    const r = rig([{ address: 1, key: KEY }], [{ address: 1, secure: 'required', key: KEY }]);
    r.line.reader(1).wrongSecurityBlockAfter = 3;
    await r.run(60_000);
    // Announced online only after a good exchange inside the session, offline at the bad block.
    const online1 = r.of('online', 1).length;
    expect(online1).toBeGreaterThanOrEqual(14);
    expect(online1).toBeLessThanOrEqual(16);
    expect(r.of('offline', 1)).toHaveLength(online1);
    expect(r.of('secure-failed', 1)).toHaveLength(1);
  });
});
