/**
 * OSDP secure channel (spec annex D), pure: AES-128 via node:crypto, no I/O, no timers.
 *
 * Handshake (D.3):  CP osdp_CHLNG  SCS_11  RND.A
 *                   PD osdp_CCRYPT SCS_12  cUID, RND.B, client cryptogram = AES(S-ENC, RND.A || RND.B)
 *                   CP osdp_SCRYPT SCS_13  server cryptogram = AES(S-ENC, RND.B || RND.A)
 *                   PD osdp_RMAC_I SCS_14  R-MAC-I = AES(S-MAC2, AES(S-MAC1, server cryptogram))
 * Session keys (D.2): AES-ECB under the SCBK of [0x01, 0x82|0x01|0x02, RND.A[0..5], 0 x 8].
 *
 * Then every packet carries a MAC (D.4): AES-CBC over the packet from SOM up to the MAC,
 * S-MAC1 for all blocks but the last, S-MAC2 for the last; the IV is the last MAC received
 * from the other side (R-MAC-I for the CP's first command, the command's MAC for the PD's
 * reply). Only a partial last block is padded (0x80, then zeros): libosdp
 * (tests/unit-tests/test-sc.c, 16-byte MAC vector) and OSDP.Net (MessageSecureChannel.
 * GenerateMac) agree on that. The whole 16-byte MAC is the chaining state; 4 bytes are sent.
 * Data of SCS_17/18 is AES-CBC under S-ENC with IV = NOT(last MAC received), always padded
 * with 0x80 and zeros (a 16-byte payload becomes 32 bytes).
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatehouseError, type ErrorCode } from '../../gateway/core/errors.js';
import { encodeFrame, macInput, MAC_LENGTH } from './frame.js';
import { Scs, type OsdpFrame } from './types.js';

/** SCBK-D, the install-mode key every PD knows (D.8): ASCII "0123456789:;<=>?". */
export const SCBK_D: Uint8Array = Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i);

export interface SessionKeys {
  sEnc: Uint8Array;
  sMac1: Uint8Array;
  sMac2: Uint8Array;
}

export type SecureFailure =
  | 'bad-cryptogram' // the other side does not hold our key
  | 'bad-mac' // tampered, replayed or out-of-step packet
  | 'bad-padding' // decrypted data without a valid 0x80 end marker
  | 'bad-message' // wrong SCB type, direction or length for this step
  | 'not-established'; // wrap/unwrap before the handshake finished (our bug)

/** A coded secure-channel failure; `reason` says which check failed. */
export class SecureChannelError extends GatehouseError {
  readonly reason: SecureFailure;
  constructor(reason: SecureFailure, message: string) {
    const code: ErrorCode = reason === 'not-established' ? 'INTERNAL' : 'DEVICE_PROTOCOL';
    super(code, `OSDP secure channel: ${message}`, { reason });
    this.name = 'SecureChannelError';
    this.reason = reason;
  }
}

function check(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length) throw new SecureChannelError('bad-message', `${what} must be ${length} bytes, got ${bytes.length}`);
}

/** AES-128 of one 16-byte block. */
export function aesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
}

function cbc(decrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = decrypt ? createDecipheriv('aes-128-cbc', key, iv) : createCipheriv('aes-128-cbc', key, iv);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

export function deriveSessionKeys(scbk: Uint8Array, rndA: Uint8Array): SessionKeys {
  check(scbk, 16, 'SCBK');
  check(rndA, 8, 'RND.A');
  const derive = (second: number): Uint8Array => {
    const block = new Uint8Array(16);
    block[0] = 0x01;
    block[1] = second;
    block.set(rndA.subarray(0, 6), 2);
    return aesBlock(scbk, block);
  };
  return { sEnc: derive(0x82), sMac1: derive(0x01), sMac2: derive(0x02) };
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => new Uint8Array(Buffer.concat([a, b]));

/** Sent by the PD in osdp_CCRYPT. */
export const clientCryptogram = (k: SessionKeys, rndA: Uint8Array, rndB: Uint8Array): Uint8Array => aesBlock(k.sEnc, concat(rndA, rndB));
/** Sent by the CP in osdp_SCRYPT. */
export const serverCryptogram = (k: SessionKeys, rndA: Uint8Array, rndB: Uint8Array): Uint8Array => aesBlock(k.sEnc, concat(rndB, rndA));
/** Sent by the PD in osdp_RMAC_I; the first IV of the MAC chain. */
export const initialRmac = (k: SessionKeys, serverCrypto: Uint8Array): Uint8Array => aesBlock(k.sMac2, aesBlock(k.sMac1, serverCrypto));

/** The full 16-byte MAC of `message` (D.4.4); the packet carries its first 4 bytes. */
export function computeMac(k: SessionKeys, iv: Uint8Array, message: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.max(16, Math.ceil(message.length / 16) * 16));
  padded.set(message);
  if (message.length % 16 !== 0 || message.length === 0) padded[message.length] = 0x80;
  let chain = iv;
  if (padded.length > 16) chain = cbc(false, k.sMac1, iv, padded.subarray(0, padded.length - 16)).slice(-16);
  return cbc(false, k.sMac2, chain, padded.subarray(padded.length - 16));
}

const invert = (mac: Uint8Array): Uint8Array => mac.map((b) => ~b & 0xff);

/** SCS_17/18 data: pad with 0x80 + zeros to a whole block (always), AES-CBC with IV = NOT(last MAC received). */
export function encryptData(sEnc: Uint8Array, lastMacReceived: Uint8Array, data: Uint8Array): Uint8Array {
  const padded = new Uint8Array((Math.floor(data.length / 16) + 1) * 16);
  padded.set(data);
  padded[data.length] = 0x80;
  return cbc(false, sEnc, invert(lastMacReceived), padded);
}

/** Inverse of encryptData; the padding must be 0x80 followed by at most 15 zeros. */
export function decryptData(sEnc: Uint8Array, lastMacReceived: Uint8Array, cipherText: Uint8Array): Uint8Array {
  if (cipherText.length === 0 || cipherText.length % 16 !== 0) {
    throw new SecureChannelError('bad-padding', `encrypted data of ${cipherText.length} bytes is not a whole number of blocks`);
  }
  const plain = cbc(true, sEnc, invert(lastMacReceived), cipherText);
  let end = plain.length - 1;
  while (end >= plain.length - 16 && plain[end] === 0x00) end--;
  if (end < plain.length - 16 || plain[end] !== 0x80)
    throw new SecureChannelError('bad-padding', 'decrypted data lacks the 0x80 end marker');
  return plain.slice(0, end);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface PlainMessage {
  code: number;
  data: Uint8Array;
}
/** What the MAC covers besides the message: the packet header. */
export interface FrameHeader {
  address: number;
  sqn: OsdpFrame['sqn'];
  crc: boolean;
}

export interface SecureSessionOptions {
  role: 'cp' | 'pd';
  /** The reader's SCBK, or SCBK_D in install mode. */
  scbk: Uint8Array;
  /** Random source (RND.A for the CP, RND.B and default cUID for the PD); crypto.randomBytes by default. */
  random?: (length: number) => Uint8Array;
  /** PD only: the 8-byte client UID sent in osdp_CCRYPT. */
  cuid?: Uint8Array;
}

export type SecureState = 'idle' | 'handshake' | 'established' | 'failed';

/**
 * One end of one secure session. CP: start() -> handleCcrypt() -> handleRmacI(), then
 * wrapCommand()/unwrapReply(). PD: handleChallenge() -> handleScrypt(), then
 * unwrapCommand()/wrapReply(). Any failed check puts the session in 'failed': the spec
 * closes the channel (D.6), and the caller starts a new handshake.
 */
export class SecureSession {
  readonly role: 'cp' | 'pd';
  private readonly scbk: Uint8Array;
  private readonly random: (length: number) => Uint8Array;
  private readonly cuid: Uint8Array;
  private stateValue: SecureState = 'idle';
  private keys: SessionKeys | undefined;
  private rndA: Uint8Array | undefined;
  private rndB: Uint8Array | undefined;
  private serverCrypto: Uint8Array | undefined;
  /** Last full MAC of a command (C-MAC) and of a reply (R-MAC). */
  private cmac: Uint8Array = new Uint8Array(16);
  private rmac: Uint8Array = new Uint8Array(16);
  /** A command was wrapped (CP) / unwrapped (PD) and its reply is still due: one reply per command. */
  private replyDue = false;

  constructor(options: SecureSessionOptions) {
    check(options.scbk, 16, 'SCBK');
    this.role = options.role;
    this.scbk = options.scbk.slice();
    this.random = options.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.cuid = options.cuid ? options.cuid.slice() : this.random(8);
    check(this.cuid, 8, 'cUID');
  }

  get state(): SecureState {
    return this.stateValue;
  }
  get established(): boolean {
    return this.stateValue === 'established';
  }
  /** SCB data byte of SCS_11..13: 0x00 when the session uses SCBK-D, 0x01 for a reader key (D.1.1). */
  get keyFlag(): number {
    return sameBytes(this.scbk, SCBK_D) ? 0x00 : 0x01;
  }

  /** Security block for a handshake packet (SCS_11..14); SCS_14 carries 0x01 = "server cryptogram accepted". */
  handshakeScb(type: 0x11 | 0x12 | 0x13 | 0x14): { type: number; data: Uint8Array } {
    return { type, data: Uint8Array.of(type === Scs.SCS_14 ? 0x01 : this.keyFlag) };
  }

  // --- CP side ------------------------------------------------------------------------

  /** Begins a handshake; returns RND.A, the osdp_CHLNG payload (send with SCS_11). */
  start(): Uint8Array {
    this.requireRole('cp');
    this.reset('handshake');
    this.rndA = this.random(8);
    check(this.rndA, 8, 'RND.A');
    return this.rndA.slice();
  }

  /** Checks osdp_CCRYPT; returns the osdp_SCRYPT payload (send with SCS_13). */
  handleCcrypt(data: Uint8Array): Uint8Array {
    this.requireRole('cp');
    if (this.stateValue !== 'handshake' || !this.rndA || this.serverCrypto)
      this.fail('bad-message', 'osdp_CCRYPT without a pending osdp_CHLNG');
    if (data.length !== 32) this.fail('bad-message', `osdp_CCRYPT of ${data.length} bytes, expected 32`);
    const rndB = data.slice(8, 16);
    const keys = deriveSessionKeys(this.scbk, this.rndA);
    if (!sameBytes(clientCryptogram(keys, this.rndA, rndB), data.subarray(16, 32))) {
      this.fail('bad-cryptogram', 'client cryptogram does not match: the reader holds another key');
    }
    this.keys = keys;
    this.rndB = rndB;
    this.serverCrypto = serverCryptogram(keys, this.rndA, rndB);
    return this.serverCrypto.slice();
  }

  /** Checks osdp_RMAC_I; the session is established afterwards. */
  handleRmacI(data: Uint8Array): void {
    this.requireRole('cp');
    if (this.stateValue !== 'handshake' || !this.keys || !this.serverCrypto)
      this.fail('bad-message', 'osdp_RMAC_I without a pending osdp_SCRYPT');
    const expected = initialRmac(this.keys, this.serverCrypto);
    if (!sameBytes(expected, data)) this.fail('bad-cryptogram', 'R-MAC-I does not match');
    this.rmac = expected;
    this.stateValue = 'established';
  }

  /** Encodes a command as SCS_15 (no data) or SCS_17 (encrypted data) with its MAC. */
  wrapCommand(header: FrameHeader, message: PlainMessage): Uint8Array {
    this.requireRole('cp');
    const { bytes, mac } = this.wrap(header, message, false, this.rmac);
    this.cmac = mac;
    this.replyDue = true;
    return bytes;
  }

  /** Verifies and decrypts a reply to the last wrapped command. `raw`: the packet bytes as received. */
  unwrapReply(frame: OsdpFrame, raw?: Uint8Array): PlainMessage {
    this.requireRole('cp');
    // Without this a replayed reply would verify: its MAC chains from the same C-MAC.
    if (this.established && !this.replyDue) this.fail('bad-message', 'reply without a pending command (replayed?)');
    const { message, mac } = this.unwrap(frame, raw, true, this.cmac);
    this.rmac = mac;
    this.replyDue = false;
    return message;
  }

  // --- PD side ------------------------------------------------------------------------

  /** Answers osdp_CHLNG (RND.A); returns the osdp_CCRYPT payload (send with SCS_12). */
  handleChallenge(rndA: Uint8Array): Uint8Array {
    this.requireRole('pd');
    this.reset('handshake');
    if (rndA.length !== 8) this.fail('bad-message', `osdp_CHLNG of ${rndA.length} bytes, expected 8`);
    this.rndA = rndA.slice();
    this.rndB = this.random(8);
    check(this.rndB, 8, 'RND.B');
    this.keys = deriveSessionKeys(this.scbk, this.rndA);
    const out = new Uint8Array(32);
    out.set(this.cuid, 0);
    out.set(this.rndB, 8);
    out.set(clientCryptogram(this.keys, this.rndA, this.rndB), 16);
    return out;
  }

  /** Checks osdp_SCRYPT; returns the osdp_RMAC_I payload (send with SCS_14). Established afterwards. */
  handleScrypt(data: Uint8Array): Uint8Array {
    this.requireRole('pd');
    if (this.stateValue !== 'handshake' || !this.keys || !this.rndA || !this.rndB)
      this.fail('bad-message', 'osdp_SCRYPT without a pending osdp_CHLNG');
    const expected = serverCryptogram(this.keys, this.rndA, this.rndB);
    if (!sameBytes(expected, data)) this.fail('bad-cryptogram', 'server cryptogram does not match: the panel holds another key');
    this.rmac = initialRmac(this.keys, expected);
    this.stateValue = 'established';
    return this.rmac.slice();
  }

  /** Verifies and decrypts a command. `raw`: the packet bytes as received. */
  unwrapCommand(frame: OsdpFrame, raw?: Uint8Array): PlainMessage {
    this.requireRole('pd');
    const { message, mac } = this.unwrap(frame, raw, false, this.rmac);
    this.cmac = mac;
    this.replyDue = true;
    return message;
  }

  /** Encodes the reply to the last unwrapped command as SCS_16 or SCS_18 with its MAC. */
  wrapReply(header: FrameHeader, message: PlainMessage): Uint8Array {
    this.requireRole('pd');
    // A second reply would reuse the command's MAC as IV; resend the cached bytes instead.
    if (this.established && !this.replyDue) throw new SecureChannelError('not-established', 'no unanswered command to reply to');
    const { bytes, mac } = this.wrap(header, message, true, this.cmac);
    this.rmac = mac;
    this.replyDue = false;
    return bytes;
  }

  // --- shared -------------------------------------------------------------------------

  private wrap(
    header: FrameHeader,
    message: PlainMessage,
    reply: boolean,
    lastMacReceived: Uint8Array,
  ): { bytes: Uint8Array; mac: Uint8Array } {
    const keys = this.requireEstablished();
    const encrypted = message.data.length > 0;
    const type = reply ? (encrypted ? Scs.SCS_18 : Scs.SCS_16) : encrypted ? Scs.SCS_17 : Scs.SCS_15;
    const data = encrypted ? encryptData(keys.sEnc, lastMacReceived, message.data) : new Uint8Array(0);
    let mac: Uint8Array | undefined;
    const bytes = encodeFrame(
      { ...header, reply, scb: { type, data: new Uint8Array(0) }, code: message.code, data },
      { mac: (prefix) => (mac = computeMac(keys, lastMacReceived, prefix)) },
    );
    return { bytes, mac: mac! };
  }

  private unwrap(
    frame: OsdpFrame,
    raw: Uint8Array | undefined,
    reply: boolean,
    lastMacSent: Uint8Array,
  ): { message: PlainMessage; mac: Uint8Array } {
    const keys = this.requireEstablished();
    const [plainType, encryptedType] = reply ? [Scs.SCS_16, Scs.SCS_18] : [Scs.SCS_15, Scs.SCS_17];
    const type = frame.scb?.type;
    if (frame.reply !== reply || (type !== plainType && type !== encryptedType)) {
      this.fail(
        'bad-message',
        `expected a ${reply ? 'reply' : 'command'} with SCS_${plainType.toString(16)}/${encryptedType.toString(16)}, got ${type === undefined ? 'no SCB' : `SCS ${type.toString(16)}`}`,
      );
    }
    if (!frame.mac || frame.mac.length !== MAC_LENGTH) this.fail('bad-message', 'packet without a MAC');
    const prefix = macInput(raw ?? encodeFrame(frame));
    if (!prefix) this.fail('bad-message', 'packet has no MAC to verify');
    const mac = computeMac(keys, lastMacSent, prefix);
    if (!sameBytes(mac.subarray(0, MAC_LENGTH), frame.mac))
      this.fail('bad-mac', `MAC mismatch on ${reply ? 'reply' : 'command'} 0x${frame.code.toString(16)}`);
    let data = frame.data;
    if (type === encryptedType && data.length > 0) {
      try {
        data = decryptData(keys.sEnc, lastMacSent, data);
      } catch (err) {
        this.stateValue = 'failed';
        throw err;
      }
    }
    return { message: { code: frame.code, data }, mac };
  }

  private reset(state: SecureState): void {
    this.stateValue = state;
    this.keys = this.rndA = this.rndB = this.serverCrypto = undefined;
    this.cmac = new Uint8Array(16);
    this.rmac = new Uint8Array(16);
    this.replyDue = false;
  }

  private requireRole(role: 'cp' | 'pd'): void {
    if (this.role !== role) throw new SecureChannelError('not-established', `a ${this.role} session cannot act as ${role}`);
  }

  private requireEstablished(): SessionKeys {
    if (this.stateValue !== 'established' || !this.keys) throw new SecureChannelError('not-established', `session is ${this.stateValue}`);
    return this.keys;
  }

  private fail(reason: SecureFailure, message: string): never {
    this.stateValue = 'failed';
    throw new SecureChannelError(reason, message);
  }
}
