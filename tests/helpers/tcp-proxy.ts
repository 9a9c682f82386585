/**
 * A TCP proxy the test controls, between the gateway and the broker, to make the network
 * misbehave the way it does in the field:
 *
 * - `pass()`      bytes flow both ways (new connections reach the broker);
 * - `blackhole()` sockets stay open but every byte is dropped, both ways, and new
 *                 connections are accepted and then hear nothing: a dead NAT mapping, a
 *                 pulled cable on the far side, a 4G modem that lost its bearer. A
 *                 connection that lost bytes stays black after `pass()`, because its
 *                 MQTT stream is corrupt; only new connections pass again.
 * - `refuse()`    new connections are accepted and reset at once (broker port closed).
 * - `resetAll()`  every open connection is reset (RST) on both sides: an abrupt close, so
 *                 the broker fires the client's last will.
 * - `hold()`      bytes from the broker to the client are kept back, not dropped, until
 *                 `release()`: a slow downstream (late PUBACKs, a command on its way) with
 *                 the connection intact. The client's bytes still reach the broker.
 * - `holdPubacks()` only the broker's PUBACKs are kept back (MQTT packets are framed to
 *                 find them; switch it on while the link is idle), everything else flows:
 *                 a broker slow to acknowledge that still talks, until `release()`.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  tainted: boolean;
  held: Buffer[];
  /** Bytes of a downstream MQTT packet not complete yet (holdPubacks framing). */
  partial: Buffer;
}

export class TcpProxy {
  private mode: ProxyMode = 'pass';
  private holding = false;
  private holdingAcks = false;
  private readonly pairs = new Set<Pair>();
  /** Connections accepted since start. */
  accepted = 0;
  /** Bytes dropped while black. */
  dropped = 0;
  /** Sees every chunk a client sends, as it arrives (to check frames on the wire). */
  tap: ((fromClient: Buffer) => void) | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.pairs.size;
  }

  static start(target: { host?: string; port: number }): Promise<TcpProxy> {
    const to = { host: target.host ?? '127.0.0.1', port: target.port };
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const proxy = new TcpProxy(server, (server.address() as { port: number }).port, to);
        server.on('connection', (s) => proxy.accept(s));
        resolve(proxy);
      });
    });
  }

  pass(): void {
    this.mode = 'pass';
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  refuse(): void {
    this.mode = 'refuse';
  }

  hold(): void {
    this.holding = true;
  }

  holdPubacks(): void {
    this.holdingAcks = true;
  }

  /** Delivers what was held back, in order, and lets bytes flow again. */
  release(): void {
    this.holding = false;
    this.holdingAcks = false;
    for (const p of this.pairs) {
      // What was held, then the start of a packet the framer was still waiting to complete.
      const out = [...p.held.splice(0), p.partial];
      p.partial = Buffer.alloc(0);
      for (const b of out) if (b.length && !p.client.destroyed) p.client.write(b);
    }
  }

  /** The bytes held back so far on open connections (to wait until something is on its way). */
  held(): Buffer {
    return Buffer.concat([...this.pairs].flatMap((p) => p.held));
  }

  resetAll(): void {
    for (const p of [...this.pairs]) this.drop(p);
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, tainted: this.mode === 'blackhole', held: [], partial: Buffer.alloc(0) };
    this.pairs.add(pair);
    client.on('close', () => this.drop(pair));
    if (!pair.tainted) {
      const upstream = createConnection(this.target);
      pair.upstream = upstream;
      upstream.on('error', () => undefined);
      // A black link hears nothing, the broker's own close (its keepalive gave up) included:
      // the client must find out by itself, as behind a dead NAT mapping.
      upstream.on('close', () => (pair.tainted ? (pair.upstream = undefined) : this.drop(pair)));
      upstream.on('data', (b: Buffer) => {
        if (this.holding && this.mode === 'pass' && !pair.tainted) pair.held.push(b);
        else if (this.holdingAcks && this.mode === 'pass' && !pair.tainted) this.framePubacks(pair, b);
        else this.forward(pair, client, b);
      });
    }
    client.on('data', (b: Buffer) => {
      this.tap?.(b);
      if (pair.upstream) this.forward(pair, pair.upstream, b);
      else this.dropped += b.length;
    });
  }

  /** Splits the broker's bytes into MQTT packets: PUBACKs (type 4) are held, the rest go on. */
  private framePubacks(pair: Pair, b: Buffer): void {
    let buf = pair.partial.length ? Buffer.concat([pair.partial, b]) : b;
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < buf.length && i <= 4; i++) {
        len += (buf[i]! & 0x7f) * mul;
        mul *= 128;
        if ((buf[i]! & 0x80) === 0) break;
      }
      if (i >= buf.length || buf.length < i + 1 + len) break; // incomplete header or body
      const packet = buf.subarray(0, i + 1 + len);
      buf = buf.subarray(i + 1 + len);
      if (packet[0]! >> 4 === 4) pair.held.push(Buffer.from(packet));
      else pair.client.write(packet);
    }
    pair.partial = Buffer.from(buf);
  }

  private forward(pair: Pair, to: Socket, b: Buffer): void {
    if (this.mode !== 'pass') pair.tainted = true;
    if (pair.tainted) {
      this.dropped += b.length;
      return;
    }
    to.write(b);
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (pair.upstream && !pair.upstream.destroyed) pair.upstream.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
