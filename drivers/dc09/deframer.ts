/**
 * Streaming DC-09 deframer for TCP: bytes in, whole `<LF>...<CR>` messages out.
 *
 * - Bytes outside a message (noise, keep-alive blanks, the tail of a message we joined half
 *   way) are skipped and counted.
 * - An LF always starts a new message: if one was in progress it had lost its CR, so it is
 *   reported as 'truncated' and dropped. That is the resynchronisation rule.
 * - The buffer never holds more than `maxMessageLength` characters: a longer message is
 *   reported once as 'overflow' and everything up to the next LF is discarded, so a client
 *   sending an endless line costs us nothing but CPU.
 *
 * Pure, no timers; messages come out as latin1 strings (DC-09 is ASCII, and latin1 maps one
 * byte to one character so the length and CRC checks see exactly what was sent).
 */
import { CR, LF, MAX_MESSAGE_LENGTH } from './frame.js';

export type Dc09DeframerOutput = { kind: 'message'; text: string } | { kind: 'error'; error: 'overflow' | 'truncated'; detail: string };

export class Dc09Deframer {
  readonly maxMessageLength: number;
  private parts: string[] = [];
  private length = 0;
  /** Inside a message (after its LF). */
  private inMessage = false;
  /** Discarding the rest of an overlong message until the next LF. */
  private discarding = false;
  skippedBytes = 0;

  constructor(opts: { maxMessageLength?: number } = {}) {
    this.maxMessageLength = opts.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  }

  /** Characters held for an incomplete message; never above maxMessageLength. */
  get buffered(): number {
    return this.length;
  }

  reset(): void {
    this.parts = [];
    this.length = 0;
    this.inMessage = false;
    this.discarding = false;
  }

  push(chunk: Uint8Array | string): Dc09DeframerOutput[] {
    const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const out: Dc09DeframerOutput[] = [];
    let i = 0;
    while (i < s.length) {
      if (!this.inMessage) {
        const lf = s.indexOf(LF, i);
        const end = lf < 0 ? s.length : lf;
        if (!this.discarding) this.skippedBytes += end - i;
        if (lf < 0) return out;
        this.discarding = false;
        this.inMessage = true;
        this.parts = [LF];
        this.length = 1;
        i = lf + 1;
        continue;
      }
      const lf = s.indexOf(LF, i);
      const cr = s.indexOf(CR, i);
      const stop = cr >= 0 && (lf < 0 || cr < lf) ? cr : -1;
      const limit = stop >= 0 ? stop + 1 : lf >= 0 ? lf : s.length;
      const take = limit - i;
      if (this.length + take > this.maxMessageLength) {
        out.push({ kind: 'error', error: 'overflow', detail: `message longer than ${this.maxMessageLength} characters` });
        this.parts = [];
        this.length = 0;
        this.inMessage = false;
        // Whatever follows belongs to the overlong message until a fresh LF.
        this.discarding = true;
        i = limit;
        continue;
      }
      this.parts.push(s.slice(i, limit));
      this.length += take;
      i = limit;
      if (stop >= 0) {
        out.push({ kind: 'message', text: this.parts.join('') });
        this.parts = [];
        this.length = 0;
        this.inMessage = false;
      } else if (lf >= 0) {
        out.push({ kind: 'error', error: 'truncated', detail: `message of ${this.length} characters cut by a new LF` });
        this.parts = [];
        this.length = 0;
        this.inMessage = false;
      }
    }
    return out;
  }
}
