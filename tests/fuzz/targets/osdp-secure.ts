/**
 * OSDP secure channel (Annex D). Modes (first byte % 5):
 * 0 decryptData on arbitrary cipher text: plain bytes or a 'bad-padding' refusal, nothing else;
 * 1 an arbitrary packet offered to an established CP session as a reply: refused (it cannot
 *   carry a valid MAC) with a coded DEVICE_PROTOCOL error, and the session is then 'failed';
 * 2 round trip: a command and a reply of fuzzed code/data wrapped by one side unwrap to the
 *   same message on the other (decode(encode(x)) = x through MAC and AES);
 * 3 tamper: one byte of a wrapped packet changed is never accepted;
 * 4 the CP's handshake steps fed arbitrary CCRYPT / RMAC_I payloads.
 */
import { decodeFrame } from '../../../drivers/osdp/frame.js';
import { SCBK_D, SecureChannelError, SecureSession, decryptData } from '../../../drivers/osdp/secure-channel.js';
import { expectCoded, invariant, sameValue, type FuzzTarget } from '../target.js';

const SCBK = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
/** Deterministic "random" so every run of one input does the same. */
const counterRandom = (start: number) => {
  let n = start;
  return (len: number): Uint8Array => Uint8Array.from({ length: len }, () => n++ & 0xff);
};

function establish(): { cp: SecureSession; pd: SecureSession } {
  const cp = new SecureSession({ role: 'cp', scbk: SCBK, random: counterRandom(1) });
  const pd = new SecureSession({ role: 'pd', scbk: SCBK, random: counterRandom(101), cuid: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) });
  const rmacI = pd.handleScrypt(cp.handleCcrypt(pd.handleChallenge(cp.start())));
  cp.handleRmacI(rmacI);
  return { cp, pd };
}

const secureRefusal = (e: unknown): boolean => e instanceof SecureChannelError && e.code === 'DEVICE_PROTOCOL';

function mustRefuse(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    if (secureRefusal(e)) return;
    throw e;
  }
  invariant(false, what);
}

export const target: FuzzTarget = {
  name: 'osdp-secure',
  seeds: () => [
    Uint8Array.of(0, ...new Uint8Array(16)),
    Uint8Array.of(1, 0x53, 0x80, 0x0e, 0x00, 0x0d, 0x02, 0x16, 0x40, 1, 2, 3, 4, 0, 0),
    Uint8Array.of(2, 0x60, 0x40),
    Uint8Array.of(2, 0x6a, 0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
    Uint8Array.of(3, 7, 1, 0x61, 0x45, 0),
    Uint8Array.of(4, ...new Uint8Array(32)),
    Uint8Array.of(4, ...new Uint8Array(16)),
  ],
  fuzz(d) {
    if (d.length < 1) return;
    const rest = d.subarray(1);
    switch (d[0]! % 5) {
      case 0: {
        try {
          const plain = decryptData(SCBK, SCBK_D, rest);
          invariant(plain.length < rest.length, 'padding removed at least one byte');
        } catch (e) {
          if (!(e instanceof SecureChannelError && e.reason === 'bad-padding')) throw e;
        }
        return;
      }
      case 1: {
        const { cp } = establish();
        cp.wrapCommand({ address: 0, sqn: 1, crc: true }, { code: 0x60, data: new Uint8Array(0) });
        const f = decodeFrame(rest);
        if (!f.ok) return;
        mustRefuse(() => cp.unwrapReply(f.frame, f.raw), 'an unauthenticated reply was accepted');
        invariant(cp.state === 'failed', `session is ${cp.state} after a refused reply`);
        return;
      }
      case 2:
      case 3: {
        if (rest.length < 2) return;
        const { cp, pd } = establish();
        const tamper = d[0]! % 5 === 3;
        const [at, flip] = tamper ? [rest[0]!, rest[1]! || 1] : [0, 0];
        const message = { code: rest[tamper ? 1 : 0]!, data: rest.slice(tamper ? 2 : 1, 200) };
        const wire = cp.wrapCommand({ address: 5, sqn: 1, crc: true }, message);
        if (tamper) {
          const bad = wire.slice();
          const i = at % bad.length;
          bad[i] = bad[i]! ^ flip;
          const f = decodeFrame(bad);
          if (f.ok) mustRefuse(() => pd.unwrapCommand(f.frame, f.raw), `a packet with byte ${at % bad.length} changed was accepted`);
          return;
        }
        const f = decodeFrame(wire);
        invariant(f.ok, 'a wrapped command decodes');
        sameValue(pd.unwrapCommand(f.frame, f.raw), message, 'command survives wrap/unwrap');
        const reply = { code: message.code ^ 0x40, data: message.data.slice().reverse() };
        const r = decodeFrame(pd.wrapReply({ address: 5, sqn: 1, crc: true }, reply));
        invariant(r.ok, 'a wrapped reply decodes');
        sameValue(cp.unwrapReply(r.frame, r.raw), reply, 'reply survives wrap/unwrap');
        return;
      }
      default: {
        const cp = new SecureSession({ role: 'cp', scbk: SCBK, random: counterRandom(1) });
        cp.start();
        const half = rest.length >> 1;
        const scrypt = expectCoded(['DEVICE_PROTOCOL'], () => cp.handleCcrypt(rest.subarray(0, half)));
        if (scrypt) expectCoded(['DEVICE_PROTOCOL'], () => cp.handleRmacI(rest.subarray(half)));
      }
    }
  },
  maxLength: 600,
};
