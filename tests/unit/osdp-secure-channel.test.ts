/**
 * Secure channel (annex D) against published vectors, then end to end.
 *
 * Sources:
 * - [SIA-E] SIA OSDP specification Annex E secure-channel example (SCBK-D, ACU/host random
 *   B0..B7, PD random A0..A7, S-ENC, S-MAC1, S-MAC2, both cryptograms, R-MAC-I), as transcribed
 *   in goToMain/libosdp tests/unit-tests/test-sc-sia-vectors.c (test_scbkd_vectors). libosdp's
 *   "cp_cryptogram" is the server (host) cryptogram, "pd_cryptogram" the client cryptogram.
 * - [LIBOSDP-SC] goToMain/libosdp tests/unit-tests/test-sc.c: MAC and data-encryption vectors
 *   built on the NIST SP 800-38A F.2.1 AES-128-CBC vectors, with OSDP padding (OpenSSL
 *   cross-checked by libosdp).
 * No published vector exists for a whole MAC-protected OSDP packet (the OSDP.Net "secure"
 * packets in its command tests carry no MAC, see osdp-frame.test.ts); the MAC of a wrapped
 * packet is therefore recomputed below with direct node:crypto calls, written independently
 * of secure-channel.ts.
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OsdpDeframer } from '../../drivers/osdp/deframer.js';
import { decodeFrame, encodeFrame } from '../../drivers/osdp/frame.js';
import { decodeCcrypt, encodeLed } from '../../drivers/osdp/messages.js';
import {
  SCBK_D,
  SecureChannelError,
  SecureSession,
  clientCryptogram,
  computeMac,
  decryptData,
  deriveSessionKeys,
  encryptData,
  initialRmac,
  serverCryptogram,
  type SecureFailure,
} from '../../drivers/osdp/secure-channel.js';
import { Cmd, Reply, Scs, type OsdpFrame } from '../../drivers/osdp/types.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s
      .split(/[\s,-]+/)
      .filter(Boolean)
      .map((x) => parseInt(x, 16)),
  );

/** Independent AES helpers for cross-checks. */
const ecb = (key: Uint8Array, block: Uint8Array): Uint8Array => {
  const c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
};
const cbcEncrypt = (key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array => {
  const c = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
};
/** CBC-MAC as annex D.4 describes it, block by block with ECB (no CBC mode helper). */
function referenceMac(sMac1: Uint8Array, sMac2: Uint8Array, iv: Uint8Array, message: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (let at = 0; at < message.length; at += 16) {
    const block = new Uint8Array(16);
    const part = message.subarray(at, at + 16);
    block.set(part);
    if (part.length < 16) block[part.length] = 0x80;
    blocks.push(block);
  }
  let chain = iv;
  blocks.forEach((block, i) => {
    const x = block.map((b, k) => b ^ chain[k]!);
    chain = ecb(i === blocks.length - 1 ? sMac2 : sMac1, x);
  });
  return chain;
}

function expectFailure(fn: () => unknown, reason: SecureFailure): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecureChannelError);
    expect((err as SecureChannelError).reason).toBe(reason);
    return;
  }
  throw new Error(`expected ${reason}`);
}

const RND_A = hex('B0 B1 B2 B3 B4 B5 B6 B7'); // [SIA-E] ACU random
const RND_B = hex('A0 A1 A2 A3 A4 A5 A6 A7'); // [SIA-E] PD random

describe('annex E vectors [SIA-E]', () => {
  const keys = deriveSessionKeys(SCBK_D, RND_A);

  it('SCBK-D is "0123456789:;<=>?"', () => {
    expect(SCBK_D).toEqual(hex('30 31 32 33 34 35 36 37 38 39 3A 3B 3C 3D 3E 3F'));
  });

  it('session keys', () => {
    expect(keys.sMac1).toEqual(hex('5E 86 C6 76 60 3B DE E2 D8 BE AF E1 78 63 73 32'));
    expect(keys.sMac2).toEqual(hex('6F DA 86 E8 57 77 7E 81 13 20 35 75 82 39 17 2E'));
    expect(keys.sEnc).toEqual(hex('BF 8D C2 A8 32 9A CB 8C 67 C6 D0 CD 9A 45 16 82'));
  });

  it('client and server cryptograms, R-MAC-I', () => {
    const server = serverCryptogram(keys, RND_A, RND_B);
    expect(clientCryptogram(keys, RND_A, RND_B)).toEqual(hex('FD E5 D2 F4 28 EC 16 31 24 71 EA 3C 02 BD 77 96'));
    expect(server).toEqual(hex('26 D3 35 6E 07 76 2D 26 28 01 FC 8E 66 65 A8 91'));
    expect(initialRmac(keys, server)).toEqual(hex('B2 A3 00 57 EB 98 BA 22 29 EC 1F 87 56 62 B5 24'));
  });

  it('a CP and a PD session reproduce the whole annex E handshake', () => {
    const cp = new SecureSession({ role: 'cp', scbk: SCBK_D, random: () => RND_A.slice() });
    const pd = new SecureSession({ role: 'pd', scbk: SCBK_D, random: () => RND_B.slice(), cuid: hex('01 02 03 04 05 06 07 08') });
    expect(cp.start()).toEqual(RND_A);
    const ccrypt = pd.handleChallenge(RND_A);
    expect(decodeCcrypt(ccrypt)).toEqual({
      cuid: hex('01 02 03 04 05 06 07 08'),
      rndB: RND_B,
      cryptogram: hex('FD E5 D2 F4 28 EC 16 31 24 71 EA 3C 02 BD 77 96'),
    });
    const scrypt = cp.handleCcrypt(ccrypt);
    expect(scrypt).toEqual(hex('26 D3 35 6E 07 76 2D 26 28 01 FC 8E 66 65 A8 91'));
    const rmacI = pd.handleScrypt(scrypt);
    expect(rmacI).toEqual(hex('B2 A3 00 57 EB 98 BA 22 29 EC 1F 87 56 62 B5 24'));
    cp.handleRmacI(rmacI);
    expect(cp.established && pd.established).toBe(true);
    expect(cp.keyFlag).toBe(0x00);
    expect(cp.handshakeScb(Scs.SCS_11)).toEqual({ type: 0x11, data: hex('00') });
  });
});

describe('MAC and data encryption [LIBOSDP-SC]', () => {
  const key = hex('2b 7e 15 16 28 ae d2 a6 ab f7 15 88 09 cf 4f 3c');
  const iv = hex('00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f');
  const pt4 = hex(`6b c1 be e2 2e 40 9f 96 e9 3d 7e 11 73 93 17 2a ae 2d 8a 57 1e 03 ac 9c 9e b7 6f ac 45 af 8e 51
    30 c8 1c 46 a3 5c e4 11 e5 fb c1 19 1a 0a 52 ef f6 9f 24 45 df 4f 9b 17 ad 2b 41 7b e6 6c 37 10`);
  const keys = { sEnc: key, sMac1: key, sMac2: key };
  const notIv = iv.map((b) => ~b & 0xff); // libosdp stores ~IV as the last MAC, so the CBC IV is IV

  it('MAC of one whole block (no padding), four blocks, and a 15-byte message (0x80 padded)', () => {
    expect(computeMac(keys, iv, pt4.subarray(0, 16))).toEqual(hex('76 49 ab ac 81 19 b2 46 ce e9 8e 9b 12 e9 19 7d'));
    expect(computeMac(keys, iv, pt4)).toEqual(hex('3f f1 ca a1 68 1f ac 09 12 0e ca 30 75 86 e1 a7'));
    const pt15 = Uint8Array.from({ length: 15 }, (_, i) => i);
    expect(computeMac(keys, iv, pt15)).toEqual(hex('c5 31 1f 3d 23 d0 86 ea 86 f5 ee 7f 85 24 7b 40'));
  });

  it('MAC with distinct S-MAC1/S-MAC2 matches the independent block-by-block computation', () => {
    const k = deriveSessionKeys(SCBK_D, RND_A);
    for (const length of [1, 15, 16, 17, 31, 32, 33, 100]) {
      const msg = Uint8Array.from({ length }, (_, i) => (i * 37) & 0xff);
      expect(computeMac(k, iv, msg)).toEqual(referenceMac(k.sMac1, k.sMac2, iv, msg));
    }
  });

  it('encrypts 0, 15 and 16 bytes with 0x80 padding, and decrypts them back', () => {
    const pt15 = Uint8Array.from({ length: 15 }, (_, i) => i);
    const pt16 = Uint8Array.from({ length: 16 }, (_, i) => i);
    const ct0 = hex('4c 08 22 0c 79 d9 19 10 22 dc 66 74 87 4c ea f8');
    const ct15 = hex('c5 31 1f 3d 23 d0 86 ea 86 f5 ee 7f 85 24 7b 40');
    const ct16 = hex('7d f7 6b 0c 1a b8 99 b3 3e 42 f0 47 b9 1b 54 6f e2 fe 5b d6 c1 df cd d1 91 24 f0 3e 1a 13 4d 3b');
    expect(encryptData(key, notIv, new Uint8Array())).toEqual(ct0);
    expect(encryptData(key, notIv, pt15)).toEqual(ct15);
    expect(encryptData(key, notIv, pt16)).toEqual(ct16);
    expect(decryptData(key, notIv, ct0)).toEqual(new Uint8Array());
    expect(decryptData(key, notIv, ct15)).toEqual(pt15);
    expect(decryptData(key, notIv, ct16)).toEqual(pt16);
  });

  it('rejects bad padding: not whole blocks, no 0x80 marker, marker outside the last block, junk after it', () => {
    expectFailure(() => decryptData(key, notIv, new Uint8Array(15)), 'bad-padding');
    expectFailure(() => decryptData(key, notIv, new Uint8Array(0)), 'bad-padding');
    expectFailure(() => decryptData(key, notIv, cbcEncrypt(key, iv, new Uint8Array(16))), 'bad-padding'); // all zeros
    const markerEarly = new Uint8Array(32);
    markerEarly[3] = 0x80; // 0x80 followed by 28 zeros: more than one block of padding
    expectFailure(() => decryptData(key, notIv, cbcEncrypt(key, iv, markerEarly)), 'bad-padding');
    const junk = new Uint8Array(16);
    junk[10] = 0x80;
    junk[15] = 0x01;
    expectFailure(() => decryptData(key, notIv, cbcEncrypt(key, iv, junk)), 'bad-padding');
  });
});

/** A CP and PD with an established session, talking through encode -> deframer -> decode. */
function establish(scbkCp: Uint8Array, scbkPd: Uint8Array, seed = 1): { cp: SecureSession; pd: SecureSession } {
  let counter = seed;
  const random = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => (counter = (counter * 73 + 41) & 0xff));
  const cp = new SecureSession({ role: 'cp', scbk: scbkCp, random });
  const pd = new SecureSession({ role: 'pd', scbk: scbkPd, random });
  const rndA = cp.start();
  const scrypt = cp.handleCcrypt(pd.handleChallenge(rndA));
  cp.handleRmacI(pd.handleScrypt(scrypt));
  return { cp, pd };
}

function deframeOne(bytes: Uint8Array): { frame: OsdpFrame; raw: Uint8Array } {
  const out = new OsdpDeframer().push(Uint8Array.of(0xff, ...bytes));
  const first = out[0];
  if (out.length !== 1 || !first || first.kind !== 'frame') throw new Error(`expected one frame, got ${JSON.stringify(out)}`);
  return { frame: first.frame, raw: first.raw };
}

describe('SecureSession end to end', () => {
  const key = hex('00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF');

  it('the first wrapped command carries the MAC an independent computation expects', () => {
    let n = 0;
    const random = (len: number): Uint8Array => Uint8Array.from({ length: len }, () => n++);
    const cp = new SecureSession({ role: 'cp', scbk: key, random });
    const pd = new SecureSession({ role: 'pd', scbk: key, random });
    const rndA = cp.start();
    const ccrypt = pd.handleChallenge(rndA);
    const rndB = ccrypt.subarray(8, 16);
    cp.handleRmacI(pd.handleScrypt(cp.handleCcrypt(ccrypt)));

    // Independent: keys, cryptograms, R-MAC-I, then the MAC and ciphertext of an LED command.
    const derive = (b: number): Uint8Array => ecb(key, Uint8Array.of(0x01, b, ...rndA.subarray(0, 6), 0, 0, 0, 0, 0, 0, 0, 0));
    const [sEnc, sMac1, sMac2] = [derive(0x82), derive(0x01), derive(0x02)];
    const server = ecb(sEnc, Uint8Array.of(...rndB, ...rndA));
    const rmacI = ecb(sMac2, ecb(sMac1, server));
    const led = encodeLed([{ led: 0, color: 'green' }]);
    const bytes = cp.wrapCommand({ address: 3, sqn: 1, crc: true }, { code: Cmd.LED, data: led });
    const cipher = cbcEncrypt(
      sEnc,
      rmacI.map((b) => ~b & 0xff),
      Uint8Array.of(...led, 0x80, 0),
    );
    const macAt = bytes.length - 2 - 4;
    expect(bytes.subarray(0, 8)).toEqual(Uint8Array.of(0x53, 3, bytes.length, 0, 0x0d, 2, Scs.SCS_17, Cmd.LED));
    expect(bytes.subarray(8, macAt)).toEqual(cipher);
    expect(bytes.subarray(macAt, macAt + 4)).toEqual(referenceMac(sMac1, sMac2, rmacI, bytes.subarray(0, macAt)).subarray(0, 4));

    const { frame, raw } = deframeOne(bytes);
    expect(pd.unwrapCommand(frame, raw)).toEqual({ code: Cmd.LED, data: led });
  });

  it('100 chained command/reply exchanges, with and without data, in CRC and checksum mode', () => {
    const { cp, pd } = establish(key, key);
    for (let i = 0; i < 100; i++) {
      const sqn = ((i % 3) + 1) as 1 | 2 | 3;
      const crc = i % 4 !== 0;
      const commandData = Uint8Array.from({ length: i % 20 }, (_, k) => (k * i) & 0xff);
      const command = cp.wrapCommand({ address: 9, sqn, crc }, { code: i % 2 ? Cmd.POLL : Cmd.OUT, data: commandData });
      const c = deframeOne(command);
      expect(c.frame.scb?.type).toBe(commandData.length ? Scs.SCS_17 : Scs.SCS_15);
      // Alternate: with the received bytes, and without (re-encoded canonically).
      expect(pd.unwrapCommand(c.frame, i % 2 ? c.raw : undefined)).toEqual({ code: i % 2 ? Cmd.POLL : Cmd.OUT, data: commandData });
      const replyData = Uint8Array.from({ length: (i * 7) % 33 }, (_, k) => k ^ i);
      const reply = pd.wrapReply({ address: 9, sqn, crc }, { code: Reply.RAW, data: replyData });
      const r = deframeOne(reply);
      expect(r.frame.reply).toBe(true);
      expect(r.frame.scb?.type).toBe(replyData.length ? Scs.SCS_18 : Scs.SCS_16);
      expect(cp.unwrapReply(r.frame, r.raw)).toEqual({ code: Reply.RAW, data: replyData });
    }
  });

  it('a retransmitted command (reply lost) is byte-identical', () => {
    const { cp } = establish(key, key);
    const first = cp.wrapCommand({ address: 1, sqn: 2, crc: true }, { code: Cmd.POLL, data: new Uint8Array() });
    const again = cp.wrapCommand({ address: 1, sqn: 2, crc: true }, { code: Cmd.POLL, data: new Uint8Array() });
    expect(again).toEqual(first);
  });

  it('one tampered byte (with a correct CRC) fails the MAC and closes the session', () => {
    for (const target of ['address', 'code', 'data', 'mac'] as const) {
      const { cp, pd } = establish(key, key, 7);
      const { frame } = deframeOne(cp.wrapCommand({ address: 2, sqn: 1, crc: true }, { code: Cmd.OUT, data: hex('00 02 00 00') }));
      const tampered: OsdpFrame = { ...frame, data: frame.data.slice(), mac: frame.mac!.slice() };
      if (target === 'address') tampered.address ^= 1;
      if (target === 'code') tampered.code ^= 1;
      if (target === 'data') tampered.data[0]! ^= 1;
      if (target === 'mac') tampered.mac![3]! ^= 1;
      const { frame: received, raw } = deframeOne(encodeFrame(tampered));
      expectFailure(() => pd.unwrapCommand(received, raw), 'bad-mac');
      expect(pd.state).toBe('failed');
      expectFailure(() => pd.wrapReply({ address: 2, sqn: 1, crc: true }, { code: Reply.ACK, data: new Uint8Array() }), 'not-established');
    }
  });

  it('a replayed reply is refused, a replayed command fails the MAC', () => {
    const { cp, pd } = establish(key, key, 11);
    const first = deframeOne(cp.wrapCommand({ address: 2, sqn: 1, crc: true }, { code: Cmd.POLL, data: new Uint8Array() }));
    pd.unwrapCommand(first.frame, first.raw);
    const reply1 = deframeOne(pd.wrapReply({ address: 2, sqn: 1, crc: true }, { code: Reply.ACK, data: new Uint8Array() }));
    cp.unwrapReply(reply1.frame, reply1.raw);
    // The same reply again would pass the MAC (it chains from the same C-MAC), so the session
    // accepts exactly one reply per command.
    expectFailure(() => cp.unwrapReply(reply1.frame, reply1.raw), 'bad-message');
    expect(cp.state).toBe('failed');
    const { cp: cp2, pd: pd2 } = establish(key, key, 11);
    const c = deframeOne(cp2.wrapCommand({ address: 2, sqn: 1, crc: true }, { code: Cmd.POLL, data: new Uint8Array() }));
    pd2.unwrapCommand(c.frame, c.raw);
    pd2.wrapReply({ address: 2, sqn: 1, crc: true }, { code: Reply.ACK, data: new Uint8Array() });
    expectFailure(() => pd2.unwrapCommand(c.frame, c.raw), 'bad-mac'); // replayed command
    const { pd: pd3 } = establish(key, key, 13);
    expectFailure(() => pd3.wrapReply({ address: 2, sqn: 1, crc: true }, { code: Reply.ACK, data: new Uint8Array() }), 'not-established');
  });

  it('wrong key: the CP rejects the client cryptogram; the PD rejects a forged server cryptogram', () => {
    const cp = new SecureSession({ role: 'cp', scbk: key });
    const pd = new SecureSession({ role: 'pd', scbk: SCBK_D });
    expectFailure(() => cp.handleCcrypt(pd.handleChallenge(cp.start())), 'bad-cryptogram');
    expect(cp.state).toBe('failed');
    const pd2 = new SecureSession({ role: 'pd', scbk: key });
    pd2.handleChallenge(hex('01 02 03 04 05 06 07 08'));
    expectFailure(() => pd2.handleScrypt(new Uint8Array(16)), 'bad-cryptogram');
    const cp3 = new SecureSession({ role: 'cp', scbk: key });
    const pd3 = new SecureSession({ role: 'pd', scbk: key });
    cp3.handleCcrypt(pd3.handleChallenge(cp3.start()));
    expectFailure(() => cp3.handleRmacI(new Uint8Array(16)), 'bad-cryptogram');
  });

  it('refuses out-of-order and wrong-direction use', () => {
    const cp = new SecureSession({ role: 'cp', scbk: key });
    expectFailure(() => cp.wrapCommand({ address: 1, sqn: 1, crc: true }, { code: Cmd.POLL, data: new Uint8Array() }), 'not-established');
    expectFailure(() => cp.handleRmacI(new Uint8Array(16)), 'bad-message');
    expectFailure(() => cp.handleChallenge(new Uint8Array(8)), 'not-established');
    const { cp: cp2, pd: pd2 } = establish(key, key, 3);
    const command = deframeOne(cp2.wrapCommand({ address: 1, sqn: 1, crc: true }, { code: Cmd.POLL, data: new Uint8Array() }));
    expectFailure(() => cp2.unwrapReply(command.frame, command.raw), 'bad-message'); // a command is not a reply
    const plain = decodeFrame(encodeFrame({ address: 1, reply: false, sqn: 1, crc: true, code: Cmd.POLL, data: new Uint8Array() }));
    expectFailure(() => pd2.unwrapCommand(plain.ok ? plain.frame : (undefined as never)), 'bad-message'); // no SCB
    expect(() => new SecureSession({ role: 'cp', scbk: new Uint8Array(15) })).toThrow(SecureChannelError);
  });

  it('a new handshake after a failure works', () => {
    const { cp, pd } = establish(key, key, 5);
    cp.wrapCommand({ address: 1, sqn: 1, crc: true }, { code: Cmd.POLL, data: new Uint8Array() });
    expectFailure(
      () =>
        cp.unwrapReply({
          address: 1,
          reply: true,
          sqn: 1,
          crc: true,
          code: Reply.ACK,
          data: new Uint8Array(),
          scb: { type: Scs.SCS_16, data: new Uint8Array() },
          mac: new Uint8Array(4),
        }),
      'bad-mac',
    );
    cp.handleRmacI(pd.handleScrypt(cp.handleCcrypt(pd.handleChallenge(cp.start()))));
    expect(cp.established).toBe(true);
  });
});
