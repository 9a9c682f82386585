/**
 * Streaming OSDP deframer: bytes from the RS-485 line in, whole checked packets out.
 *
 * - Bytes before SOM (the optional 0xFF mark byte of spec 5.7, line noise, the tail of a
 *   packet we joined half way) are skipped; they are counted, not reported one by one.
 * - The buffer never holds more than `maxPacketLength` bytes: a LEN above it is rejected at
 *   once, so a hostile or broken stream cannot make us allocate.
 * - A packet whose check character fails is never yielded: we report 'check', drop only its
 *   SOM and resynchronise on the next SOM, because the real packet may start inside the
 *   bytes we took for a body.
 * - A packet that passes its check but is malformed ('scb', 'length' of the body) is dropped
 *   whole: its bytes were received intact, so none of them is a SOM of another packet.
 *
 * Pure: no timers. The transport calls reset() after an inter-character timeout (spec 5.8).
 */
import { SOM, type OsdpFrame, type OsdpFrameError } from './types.js';
import { DEFAULT_MAX_PACKET_LENGTH, MIN_PACKET_LENGTH, decodeFrame, packetLengthField } from './frame.js';

export type DeframerOutput =
  | { kind: 'frame'; frame: OsdpFrame; /** the packet's bytes (a copy), for MAC verification */ raw: Uint8Array }
  | { kind: 'error'; error: OsdpFrameError; detail: string };

export interface DeframerOptions {
  /** Largest packet accepted, in bytes (default 1440). Also the buffer size. */
  maxPacketLength?: number;
}

export class OsdpDeframer {
  readonly maxPacketLength: number;
  private readonly buffer: Uint8Array;
  private length = 0;
  /** Bytes discarded before a SOM (mark bytes and noise) since construction. */
  skippedBytes = 0;

  constructor(options: DeframerOptions = {}) {
    const max = options.maxPacketLength ?? DEFAULT_MAX_PACKET_LENGTH;
    if (!Number.isInteger(max) || max < MIN_PACKET_LENGTH || max > 0xffff) {
      throw new RangeError(`maxPacketLength must be an integer in ${MIN_PACKET_LENGTH}-65535, got ${max}`);
    }
    this.maxPacketLength = max;
    this.buffer = new Uint8Array(max);
  }

  /** Bytes currently held while waiting for the rest of a packet (never above maxPacketLength). */
  get buffered(): number {
    return this.length;
  }

  /** Forgets a partial packet, e.g. after an inter-character timeout. */
  reset(): void {
    this.length = 0;
  }

  /** Feeds received bytes; returns the packets and errors they completed, in order. */
  push(chunk: Uint8Array): DeframerOutput[] {
    const out: DeframerOutput[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.length === 0) {
        // Hunting for SOM: skip straight through the chunk without copying.
        const som = chunk.indexOf(SOM, offset);
        const end = som === -1 ? chunk.length : som;
        this.skippedBytes += end - offset;
        offset = end;
        if (som === -1) break;
      }
      const room = this.buffer.length - this.length;
      const take = Math.min(room, chunk.length - offset);
      this.buffer.set(chunk.subarray(offset, offset + take), this.length);
      this.length += take;
      offset += take;
      this.drain(out);
    }
    return out;
  }

  /** Takes every complete packet (or error) off the front of the buffer. */
  private drain(out: DeframerOutput[]): void {
    for (;;) {
      this.skipToSom();
      if (this.length < 4) return;
      const declared = packetLengthField(this.buffer);
      if (declared < MIN_PACKET_LENGTH || declared > this.maxPacketLength) {
        out.push({ kind: 'error', error: 'length', detail: `LEN ${declared} outside ${MIN_PACKET_LENGTH}-${this.maxPacketLength}` });
        this.consume(1);
        continue;
      }
      if (this.length < declared) return;
      const raw = this.buffer.slice(0, declared);
      const result = decodeFrame(raw, this.maxPacketLength);
      if (result.ok) {
        out.push({ kind: 'frame', frame: result.frame, raw });
        this.consume(declared);
      } else {
        out.push({ kind: 'error', error: result.error, detail: result.detail });
        this.consume(result.error === 'check' ? 1 : declared);
      }
    }
  }

  private skipToSom(): void {
    if (this.length === 0 || this.buffer[0] === SOM) return;
    const som = this.buffer.subarray(0, this.length).indexOf(SOM);
    const drop = som === -1 ? this.length : som;
    this.skippedBytes += drop;
    this.consume(drop);
  }

  private consume(count: number): void {
    this.buffer.copyWithin(0, count, this.length);
    this.length -= count;
  }
}
