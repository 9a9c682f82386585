/**
 * A byte-level guard between a TCP socket and aedes, reading only the MQTT fixed header
 * of each frame (type, flags, remaining length) as bytes stream past in both directions.
 *
 * - Frame size: the MQTT parser buffers a whole packet before anyone can look at it, and
 *   a packet may claim up to 256 MB, so one device on the LAN could exhaust the memory of
 *   a 1 GB gateway with a single PUBLISH. The guard closes the connection as soon as a
 *   frame announces more than the limit, before its body arrives.
 * - Queue: QoS 1/2 PUBLISH frames sent to the client minus PUBACK/PUBREC frames received
 *   is exactly what the client owes us, whatever aedes does with QoS downgrades and
 *   sessions; a client that owes more than the cap is disconnected.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

const PACKET_TYPES = [
  'reserved',
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
];
const PUBLISH = 3;
const PUBACK = 4;
const PUBREC = 5;

export type FrameViolation =
  { kind: 'frame'; packetType: string; announcedBytes: number; limit: number } | { kind: 'queue'; unacked: number; limit: number };

/** Walks frame headers across arbitrary chunk boundaries. */
class FrameScanner {
  private state: 'header' | 'length' | 'body' = 'header';
  private first = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  /** `onFrame` returns false to stop scanning (the connection is being closed). */
  constructor(private readonly onFrame: (type: number, flags: number, length: number) => boolean) {}

  scan(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'header') {
        this.first = chunk[i++]!;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === 'length') {
        const b = chunk[i++]!;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (b & 0x80) {
          if (this.lengthBytes < 4) continue;
          this.length = Number.MAX_SAFE_INTEGER; // a fifth length byte is a protocol error
        }
        if (!this.onFrame(this.first >> 4, this.first & 0x0f, this.length)) return false;
        this.remaining = this.length;
        this.state = this.remaining === 0 ? 'header' : 'body';
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'header';
      }
    }
    return true;
  }
}

export class FrameGuard extends Duplex {
  readonly remoteAddress: string | undefined;
  private violated = false;
  private unacked = 0;
  private readonly incoming: FrameScanner;
  private readonly outgoing: FrameScanner;

  constructor(
    private readonly socket: Socket,
    private readonly limits: { maxFrameBytes: number; maxUnacked: number },
    private readonly onViolation: (v: FrameViolation) => void,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = socket.remoteAddress;
    this.incoming = new FrameScanner((type, _flags, length) => {
      if (length > limits.maxFrameBytes) {
        return this.violate({
          kind: 'frame',
          packetType: PACKET_TYPES[type] ?? 'unknown',
          announcedBytes: length,
          limit: limits.maxFrameBytes,
        });
      }
      if ((type === PUBACK || type === PUBREC) && this.unacked > 0) this.unacked--;
      return true;
    });
    this.outgoing = new FrameScanner((type, flags) => {
      if (type === PUBLISH && (flags >> 1) & 0x03 && ++this.unacked > limits.maxUnacked) {
        return this.violate({ kind: 'queue', unacked: this.unacked, limit: limits.maxUnacked });
      }
      return true;
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.violated || !this.incoming.scan(chunk)) return;
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  private violate(v: FrameViolation): false {
    this.violated = true;
    this.onViolation(v);
    this.destroy(
      new Error(
        v.kind === 'frame'
          ? `MQTT frame of ${v.announcedBytes} bytes exceeds ${v.limit}`
          : `client owes ${v.unacked} acknowledgements, limit ${v.limit}`,
      ),
    );
    return false;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.violated || !this.outgoing.scan(chunk)) return cb();
    if (this.socket.write(chunk, encoding)) cb();
    else this.socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
