/**
 * The fleet emulator's Box (sim/fleet/box.ts) stops promptly whatever its connection is
 * doing (issue 16), against real TCP servers on 127.0.0.1 that behave like brokers gone wrong:
 *
 * - a blackhole that accepts the TCP connection and never answers the CONNECT: stop() during
 *   that connection attempt returns at once and aborts it (the socket is closed, not left open
 *   until the client's 5 s connect timeout);
 * - a half-open broker that accepts the login and then never acknowledges anything: stop()
 *   waits at most its two bounded steps (offline status, DISCONNECT) on the injected clock and
 *   then ends the client by force (a graceful end alone waits forever behind the unacknowledged
 *   offline status);
 * - a broker that refuses the login: the box remembers the refusal (node and reason), which is
 *   what `gatehouse fleet` stops on;
 * - a broker that goes silent with publishes pending: MQTT.js's keepalive timeout fails them
 *   all at once, and the box starts over on a new connection (ending the client from inside
 *   that failure callback threw a TypeError in MQTT.js and killed the fleet process).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { Box, fleetIdentity, STOP_STEP_MS } from '../../sim/fleet/box.js';
import { waitFor } from '../helpers/wait.js';

interface FakeBroker {
  server: Server;
  url: string;
  sockets: { socket: Socket; received: Buffer[]; closed: boolean }[];
}

/** A TCP server on a free port of 127.0.0.1; `onData` answers (or not) what a client sends. */
async function fakeBroker(onData: (socket: Socket, chunk: Buffer) => void): Promise<FakeBroker> {
  const sockets: FakeBroker['sockets'] = [];
  const server = createServer((socket) => {
    const entry = { socket, received: [] as Buffer[], closed: false };
    sockets.push(entry);
    socket.on('data', (chunk) => {
      entry.received.push(chunk);
      onData(socket, chunk);
    });
    socket.on('close', () => (entry.closed = true));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, url: `mqtt://127.0.0.1:${port}`, sockets };
}

/** The first byte of an MQTT packet is its type in the high nibble: 1 CONNECT, 3 PUBLISH. */
const packetType = (chunk: Buffer): number => chunk[0]! >> 4;
const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const CONNACK_NOT_AUTHORIZED = Buffer.from([0x20, 0x02, 0x00, 0x05]);

/** Rejects when `p` has not settled within `ms` of real time (a hang, not a timed result). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not return within ${ms} ms`)), ms)),
  ]);
}

describe('fleet Box stop and login refusal', () => {
  const brokers: FakeBroker[] = [];
  const boxes: Box[] = [];
  afterEach(async () => {
    for (const b of brokers.splice(0)) {
      for (const s of b.sockets) s.socket.destroy();
      await new Promise((r) => b.server.close(r));
    }
    boxes.splice(0);
  });

  const box = (url: string, clock: ManualClock, keepaliveS?: number): Box => {
    const b = new Box({
      ...(keepaliveS ? { keepaliveS } : {}),
      identity: fleetIdentity('stop', 0, 'a-secret'),
      urls: [url],
      firstUrl: 0,
      window: 4,
      clock,
      timers: clock,
      random: () => 0.5,
    });
    boxes.push(b);
    return b;
  };

  it('stop() during a connection attempt to a blackhole returns at once and aborts the attempt', async () => {
    const hole = await fakeBroker(() => undefined); // never a CONNACK
    brokers.push(hole);
    const clock = new ManualClock();
    const b = box(hole.url, clock);
    b.start();
    // The attempt is under way: the TCP connection is open and the CONNECT is in.
    await waitFor(() => hole.sockets[0]?.received.some((c) => packetType(c) === 1), 'the CONNECT at the blackhole');
    expect(b.connected).toBe(false);
    await within(b.stop(), 1000, 'stop() during a connection attempt');
    // Aborted: the socket is closed now, not at the client's connect timeout (5 s).
    await waitFor(() => hole.sockets[0]!.closed, 'the connection attempt aborted', 1000);
    // And nothing reconnects after the stop.
    clock.advance(60_000);
    expect(hole.sockets.length).toBe(1);
  });

  it('stop() on a broker that acknowledges nothing ends by force after its two bounded steps', async () => {
    const mute = await fakeBroker((socket, chunk) => {
      if (packetType(chunk) === 1) socket.write(CONNACK_ACCEPTED); // then silence: no PUBACK, ever
    });
    brokers.push(mute);
    const clock = new ManualClock();
    const b = box(mute.url, clock);
    b.start();
    await waitFor(() => b.connected, 'the box connected');
    let stopped = false;
    const stopping = b.stop().then(() => (stopped = true));
    // The offline status goes out (retained, QoS 1) and is never acknowledged.
    await waitFor(() => mute.sockets[0]!.received.some((c) => packetType(c) === 3), 'the offline status published');
    clock.advance(STOP_STEP_MS);
    // The graceful DISCONNECT waits behind the unacknowledged publish: bounded by the second step.
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    clock.advance(STOP_STEP_MS);
    await within(stopping, 1000, 'stop() after its two steps');
    await waitFor(() => mute.sockets[0]!.closed, 'the connection ended by force', 1000);
  });

  it('remembers a refused login with the node and the reason', async () => {
    const strict = await fakeBroker((socket, chunk) => {
      if (packetType(chunk) === 1) socket.write(CONNACK_NOT_AUTHORIZED);
    });
    brokers.push(strict);
    const clock = new ManualClock();
    const b = box(strict.url, clock);
    b.start();
    const refusal = await waitFor(() => b.refusal, 'the refusal remembered');
    expect(refusal).toEqual({ url: strict.url, reason: 'Connection refused: Not authorized' });
    await within(b.stop(), 1000, 'stop() after a refusal');
  });

  it('a keepalive timeout with publishes pending starts a new connection instead of crashing', async () => {
    const silent = await fakeBroker((socket, chunk) => {
      if (packetType(chunk) === 1) socket.write(CONNACK_ACCEPTED); // then nothing: no PUBACK, no PINGRESP
    });
    brokers.push(silent);
    const clock = new ManualClock();
    const b = box(silent.url, clock, 1);
    b.start();
    await waitFor(() => b.connected, 'the box connected');
    for (let i = 0; i < 3; i++) b.record('access', (seq) => ({ v: 1, seq }));
    await waitFor(() => silent.sockets[0]!.received.some((c) => packetType(c) === 3), 'the events published');
    // MQTT.js gives up on the silent link after 1.5 keepalives and fails the 3 pending publishes.
    await waitFor(() => silent.sockets[0]!.closed, 'the silent connection dropped at the keepalive timeout', 10_000);
    clock.advance(10_000); // the reconnect backoff
    await waitFor(() => b.connected && silent.sockets.length === 2, 'the box connected again');
    expect(b.unacked).toBe(3);
  }, 20_000);
});
