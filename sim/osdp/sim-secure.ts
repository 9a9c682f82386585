/**
 * The PD side of the secure channel for simulated readers, over the shared SecureSession
 * (drivers/osdp/secure-channel.ts): which key a challenge is answered with, and the
 * handshake / wrapped reply frames.
 */
import { encodeFrame } from '../../drivers/osdp/frame.js';
import { SCBK_D, SecureSession } from '../../drivers/osdp/secure-channel.js';
import { Reply, Scs, type OsdpFrame } from '../../drivers/osdp/types.js';

type Sqn = 0 | 1 | 2 | 3;

export class PdSecure {
  private readonly s: SecureSession;
  constructor(scbk: Uint8Array) {
    this.s = new SecureSession({ role: 'pd', scbk });
  }
  get established(): boolean {
    return this.s.established;
  }
  answerChallenge(rndA: Uint8Array): Uint8Array {
    return this.s.handleChallenge(rndA);
  }
  acceptScrypt(data: Uint8Array): Uint8Array {
    return this.s.handleScrypt(data);
  }
  unwrapCommand(frame: OsdpFrame & { raw?: Uint8Array }): { code: number; data: Uint8Array } {
    return this.s.unwrapCommand(frame, frame.raw);
  }
  wrapReply(address: number, sqn: Sqn, code: number, data: Uint8Array): Uint8Array {
    return this.s.wrapReply({ address, sqn, crc: true }, { code, data });
  }
  handshakeReply(address: number, sqn: Sqn, code: number, data: Uint8Array): Uint8Array {
    const scb = this.s.handshakeScb(code === Reply.CCRYPT ? Scs.SCS_12 : Scs.SCS_14);
    return encodeFrame({ address, reply: true, sqn, crc: true, scb, code, data });
  }
}

/**
 * A session for an osdp_CHLNG. Its SCB says which key the CP uses (0x00 SCBK-D, 0x01 the
 * reader's own); a reader with its own key refuses the install key, and a reader still in
 * install mode has no own key to answer with: both throw (the caller NAKs).
 */
export function createPdSession(readerKey: Uint8Array | undefined, chlng: OsdpFrame): PdSecure {
  const wantsDefault = chlng.scb?.data[0] === 0x00;
  if (wantsDefault && readerKey) throw new Error('reader has its own key: install key refused');
  if (!wantsDefault && !readerKey) throw new Error('reader is in install mode: no key of its own yet');
  return new PdSecure(wantsDefault ? SCBK_D : readerKey!);
}
