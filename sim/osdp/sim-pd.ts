/**
 * The protocol side of a simulated reader: one command frame for its address in, the reply
 * bytes out (or nothing: an unplugged reader is silent). SQN rules as a PD keeps them (a
 * repeated SQN gets the last reply again, without executing the command twice; a wrong
 * SQN gets NAK SEQUENCE; SQN 0 starts over and drops the secure session), the secure
 * channel (PD side of the shared SecureSession, install mode with SCBK-D, KEYSET), and the
 * wire faults (corrupt CRC, BUSY, a wrong security block after a good handshake).
 */
import { crc16 } from '../../drivers/osdp/crc.js';
import { encodeFrame, macLayout } from '../../drivers/osdp/frame.js';
import { decodeKeyset } from '../../drivers/osdp/messages.js';
import { Cmd, NakCode, Reply, type OsdpFrame } from '../../drivers/osdp/types.js';
import type { ClearReply, SimReader } from './sim-reader.js';
import { replyNak } from './sim-codec.js';
import { createPdSession, type PdSecure } from './sim-secure.js';

type Sqn = 0 | 1 | 2 | 3;
const nextSqn = (s: Sqn): Sqn => (s >= 3 ? 1 : ((s + 1) as Sqn));
/** Commands a reader that requires the secure channel still takes in clear: what it takes to open one. */
const CLEAR_ALLOWED = new Set<number>([Cmd.ID, Cmd.CAP, Cmd.CHLNG, Cmd.SCRYPT]);

export class SimPd {
  private lastSqn: Sqn | undefined;
  private lastReply: Uint8Array | undefined;
  private session: PdSecure | undefined;
  /** Secured replies sent in the current session (for the wrong-security-block fault). */
  private securedReplies = 0;
  /** Commands refused for a bad MAC, replies re-sent for a repeated SQN: for tests. */
  readonly counters = { commands: 0, repeats: 0, sequenceNaks: 0, macFailures: 0, clearRefused: 0 };

  constructor(readonly reader: SimReader) {}

  get secure(): boolean {
    return this.session?.established === true;
  }

  /** A decoded command for this reader's address; returns the reply bytes, or undefined to stay silent. */
  receive(frame: OsdpFrame & { raw: Uint8Array }): Uint8Array | undefined {
    const r = this.reader;
    if (r.unplugged) return undefined;
    if (frame.sqn === 0) {
      this.lastSqn = undefined;
      this.session = undefined;
    } else if (this.lastSqn !== undefined && frame.sqn === this.lastSqn && this.lastReply) {
      // The CP did not get our reply: send it again, do not execute twice.
      this.counters.repeats++;
      return this.lastReply;
    } else if (this.lastSqn !== undefined && frame.sqn !== nextSqn(this.lastSqn)) {
      this.counters.sequenceNaks++;
      return this.finish(frame.sqn, { code: Reply.NAK, data: replyNak(NakCode.SEQUENCE) }, false);
    }
    if (r.busyNext > 0) {
      // Not processed, so the SQN is not consumed: the CP repeats the same command later.
      r.busyNext--;
      return this.encode(frame.sqn, { code: Reply.BUSY, data: new Uint8Array(0) }, false);
    }
    this.counters.commands++;
    const { reply, secured } = this.process(frame);
    return this.finish(frame.sqn, reply, secured);
  }

  private process(frame: OsdpFrame & { raw: Uint8Array }): { reply: ClearReply; secured: boolean } {
    const r = this.reader;
    const nak = (code: number) => ({ reply: { code: Reply.NAK, data: replyNak(code) }, secured: false });
    if (frame.code === Cmd.CHLNG || frame.code === Cmd.SCRYPT) {
      if (!r.secureCapable || !frame.scb) return nak(NakCode.SECURITY_BLOCK_UNSUPPORTED);
      return { reply: this.handshake(frame), secured: false };
    }
    let code = frame.code;
    let data = frame.data;
    let secured = false;
    if (frame.scb) {
      if (!this.session?.established) {
        this.counters.macFailures++;
        return nak(NakCode.SECURITY_BLOCK_UNSUPPORTED);
      }
      try {
        ({ code, data } = this.session.unwrapCommand(frame));
      } catch {
        // A bad MAC ends the session; the CP has to start a new handshake.
        this.counters.macFailures++;
        this.session = undefined;
        return nak(NakCode.SECURITY_BLOCK_UNSUPPORTED);
      }
      secured = true;
    } else {
      if (r.requireSecure && !CLEAR_ALLOWED.has(code)) {
        this.counters.clearRefused++;
        return nak(NakCode.ENCRYPTION_REQUIRED);
      }
      // A clear command ends a secure session (spec D.1); the CP must handshake again.
      this.session = undefined;
    }
    if (code === Cmd.KEYSET) {
      // A key only ever travels inside the secure channel.
      if (!secured) return nak(NakCode.ENCRYPTION_REQUIRED);
      try {
        r.key = decodeKeyset(data);
      } catch {
        return { reply: { code: Reply.NAK, data: replyNak(NakCode.COMMAND_LENGTH) }, secured };
      }
      r.requireSecure = true;
      r.emit('command', { code, data, at: performance.now() });
      return { reply: { code: Reply.ACK, data: new Uint8Array(0) }, secured };
    }
    return { reply: r.handle(code, data), secured };
  }

  /** The wrong-security-block fault: the MAC no longer verifies, the CRC still does (the frame is well formed). */
  private spoilSecurityBlock(bytes: Uint8Array): Uint8Array {
    const after = this.reader.wrongSecurityBlockAfter;
    if (after === undefined || this.securedReplies++ < after) return bytes;
    const layout = macLayout(bytes);
    if (!layout) return bytes;
    const out = Uint8Array.from(bytes);
    out[layout.macOffset] = out[layout.macOffset]! ^ 0xff;
    const crc = crc16(out, 0, out.length - 2);
    out[out.length - 2] = crc & 0xff;
    out[out.length - 1] = crc >> 8;
    return out;
  }

  private handshake(frame: OsdpFrame): ClearReply {
    const r = this.reader;
    try {
      if (frame.code === Cmd.CHLNG) {
        this.securedReplies = 0;
        this.session = createPdSession(r.key, frame);
        return { code: Reply.CCRYPT, data: this.session.answerChallenge(frame.data) };
      }
      if (!this.session) return { code: Reply.NAK, data: replyNak(NakCode.SEQUENCE) };
      return { code: Reply.RMAC_I, data: this.session.acceptScrypt(frame.data) };
    } catch {
      this.session = undefined;
      return { code: Reply.NAK, data: replyNak(NakCode.SECURITY_BLOCK_UNSUPPORTED) };
    }
  }

  private finish(sqn: Sqn, reply: ClearReply, secured: boolean): Uint8Array {
    const bytes = this.encode(sqn, reply, secured);
    this.lastSqn = sqn;
    this.lastReply = bytes;
    return bytes;
  }

  private encode(sqn: Sqn, reply: ClearReply, secured: boolean): Uint8Array {
    const address = this.reader.address;
    let bytes: Uint8Array;
    if (secured && this.session?.established) bytes = this.spoilSecurityBlock(this.session.wrapReply(address, sqn, reply.code, reply.data));
    else if (this.session && (reply.code === Reply.CCRYPT || reply.code === Reply.RMAC_I))
      bytes = this.session.handshakeReply(address, sqn, reply.code, reply.data);
    else bytes = encodeFrame({ address, reply: true, sqn, crc: true, code: reply.code, data: reply.data });
    if (this.reader.corruptCrc) {
      bytes = Uint8Array.from(bytes);
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x5a;
    }
    return bytes;
  }
}
