/**
 * The embedded broker against one hostile LAN host, with real sockets on loopback
 * addresses (Linux routes all of 127/8 to lo, so 127.0.0.2 is "another host"): a
 * slowloris of half-open connections, connections that never log in, password guessing.
 * Every loop is bounded in count and time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MqttClient, type IClientOptions } from 'mqtt';
import { connect as netConnect, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { secretsFrom } from '../../config/load.js';
import { EmbeddedBroker, type EmbeddedBrokerOptions } from '../../gateway/broker/embedded-broker.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = 'gatehouse/v1/test-court/gw-1';

function captureLog(): { log: EmbeddedBrokerOptions['log']; lines: string[] } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, dest), lines };
}

/** An MQTT.js client whose socket leaves from `localAddress`. Resolves with the CONNACK outcome. */
async function connectFrom(port: number, localAddress: string, opts: IClientOptions): Promise<{ result: string; client: MqttClient }> {
  const client = new MqttClient(() => netConnect({ port, host: '127.0.0.1', localAddress }), {
    reconnectPeriod: 0,
    connectTimeout: 8000,
    protocolVersion: 4,
    ...opts,
  });
  const result = await new Promise<string>((resolve) => {
    client.once('connect', () => resolve('ok'));
    client.once('error', (err) => resolve(err.message));
    client.once('close', () => resolve('closed'));
  });
  return { result, client };
}

/** A raw TCP socket that connects and then says nothing (or only what the test writes). */
async function halfOpen(port: number, localAddress: string): Promise<Socket> {
  const s = netConnect({ port, host: '127.0.0.1', localAddress });
  s.on('error', () => undefined);
  await new Promise<void>((r) => {
    s.once('connect', () => r());
    s.once('close', () => r());
  });
  return s;
}

describe('EmbeddedBroker connection guard', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function startBroker(
    config: EmbeddedBrokerOptions['config'],
    dataDir?: string,
  ): Promise<{ broker: EmbeddedBroker; port: number; lines: string[] }> {
    const { log, lines } = captureLog();
    const broker = new EmbeddedBroker({
      config: { host: '127.0.0.1', port: 0, ...config },
      secrets: secretsFrom({ 'devices.lock-a': 'pw-a-secret', 'devices.lock-b': 'pw-b-secret' }),
      devices: [
        { id: 'lock-a', passwordSecret: 'devices.lock-a' },
        { id: 'lock-b', passwordSecret: 'devices.lock-b' },
      ],
      internalAccounts: [{ username: 'watch', password: 'watch-pass', role: 'operator' }],
      topicRoot: ROOT,
      log,
      ...(dataDir ? { dataDir } : {}),
    });
    const { port } = await broker.start();
    cleanup.push(() => broker.stop());
    return { broker, port, lines };
  }

  it('a slowloris of 200 half-open connections from one address does not keep a lock out', async () => {
    // maxConnections 50: before the per-address cap, 66 silent sockets filled the broker.
    const { port, lines } = await startBroker({ maxConnections: 50, pending: { perAddress: 8, total: 64, connectDeadlineMs: 5000 } });
    const sockets: Socket[] = [];
    cleanup.push(() => sockets.forEach((s) => s.destroy()));
    let closedByBroker = 0;
    for (let i = 0; i < 200; i++) {
      const s = await halfOpen(port, '127.0.0.1');
      s.once('close', () => closedByBroker++);
      sockets.push(s);
    }
    await waitFor(
      () => closedByBroker >= 192,
      'all but 8 of the attacker sockets closed',
      5000,
      () => ({ closedByBroker }),
    );
    const lock = await connectFrom(port, '127.0.0.2', { clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' });
    cleanup.push(() => lock.client.endAsync(true));
    expect(lock.result).toBe('ok');
    expect(closedByBroker).toBe(192);
    expect(
      lines.some(
        (l) =>
          l.includes('embedded broker refused pending') &&
          l.includes('"remote":"127.0.0.1"') &&
          l.includes('from this address have not logged in'),
      ),
    ).toBe(true);
  });

  it('closes a socket that sends no valid CONNECT within the deadline, a slow drip included', async () => {
    const { port, lines } = await startBroker({ pending: { connectDeadlineMs: 400, perAddress: 8, total: 64 } });
    const silent = await halfOpen(port, '127.0.0.3');
    const drip = await halfOpen(port, '127.0.0.3');
    cleanup.push(() => void [silent, drip].forEach((s) => s.destroy()));
    const t0 = performance.now();
    const closed = (s: Socket) => new Promise<number>((r) => s.once('close', () => r(performance.now() - t0)));
    const [silentAt, dripAt] = [closed(silent), closed(drip)];
    // The first bytes of a CONNECT, then nothing more: the frame never completes.
    drip.write(Buffer.from([0x10, 0x30, 0x00, 0x04]));
    expect(await silentAt).toBeLessThan(3000);
    expect(await dripAt).toBeLessThan(3000);
    expect(lines.some((l) => l.includes('no valid CONNECT and login within 400 ms') && l.includes('"remote":"127.0.0.3"'))).toBe(true);
  });

  it('holds a TLS handshake to the same deadline and per-address cap', async () => {
    const { broker, lines } = await startBroker(
      { tls: { port: 0, only: true }, pending: { connectDeadlineMs: 400, perAddress: 2, total: 64 } },
      mkdtempSync(join(tmpdir(), 'gh-guard-tls-')),
    );
    const t0 = performance.now();
    const silent = await halfOpen(broker.tlsPort, '127.0.0.4');
    const second = await halfOpen(broker.tlsPort, '127.0.0.4');
    const third = await halfOpen(broker.tlsPort, '127.0.0.4');
    cleanup.push(() => void [silent, second, third].forEach((s) => s.destroy()));
    const closedAt = (s: Socket) => new Promise<number>((r) => (s.destroyed ? r(0) : s.once('close', () => r(performance.now() - t0))));
    expect(await closedAt(third)).toBeLessThan(300); // over the per-address cap: closed at once
    expect(await closedAt(silent)).toBeLessThan(3000); // no handshake within 400 ms
    expect(lines.some((l) => l.includes('no valid CONNECT and login within 400 ms') && l.includes('"remote":"127.0.0.4"'))).toBe(true);
  });

  it('connections from many addresses cannot fill the pending pool for good: the oldest is closed', async () => {
    const { port } = await startBroker({ maxConnections: 20, pending: { perAddress: 4, total: 16, connectDeadlineMs: 5000 } });
    const sockets: Socket[] = [];
    cleanup.push(() => sockets.forEach((s) => s.destroy()));
    for (let host = 10; host < 30; host++) for (let i = 0; i < 4; i++) sockets.push(await halfOpen(port, `127.0.0.${host}`));
    const lock = await connectFrom(port, '127.0.0.2', { clientId: 'lock-b', username: 'lock-b', password: 'pw-b-secret' });
    cleanup.push(() => lock.client.endAsync(true));
    expect(lock.result).toBe('ok');
  });

  it('slows password guessing from one address, refuses it after a few, and says which address', async () => {
    const guessFor = async (port: number, ms: number): Promise<{ checked: number; refused: number; perSecond: number }> => {
      let checked = 0;
      let refused = 0;
      const t0 = performance.now();
      for (let i = 0; i < 2000 && performance.now() - t0 < ms; i++) {
        const r = await connectFrom(port, '127.0.0.5', { clientId: `g${i}`, username: 'lock-a', password: `guess-${i}` });
        await r.client.endAsync(true);
        if (/Bad username or password/i.test(r.result)) checked++;
        else if (/Server unavailable/i.test(r.result)) refused++;
        else throw new Error(`unexpected answer ${r.result}`);
      }
      return { checked, refused, perSecond: (checked / (performance.now() - t0)) * 1000 };
    };
    // The same broker with throttling out of reach: the guessing rate an attacker had.
    const open = await startBroker({ authThrottle: { freeFailures: 100_000 } });
    const before = await guessFor(open.port, 1500);
    const guarded = await startBroker({ authThrottle: { maxDelayMs: 1000 } });
    const after = await guessFor(guarded.port, 3000);
    console.info(
      `password guesses checked per second from one address: ${before.perSecond.toFixed(0)} unthrottled, ${after.perSecond.toFixed(2)} throttled`,
    );
    expect(before.checked).toBeGreaterThan(100);
    // 3 free, then 250, 500, 1000 ms; after that the address is refused unchecked.
    expect(after.checked).toBeLessThanOrEqual(7);
    expect(after.refused).toBeGreaterThan(0);
    expect(after.perSecond).toBeLessThan(3);
    expect(guarded.lines.some((l) => l.includes('too many failed logins from this address') && l.includes('"remote":"127.0.0.5"'))).toBe(
      true,
    );
    expect(guarded.lines.some((l) => l.includes('"reason":"bad_password"') && l.includes('"remote":"127.0.0.5"'))).toBe(true);

    // The lock itself, from its own address, still logs in (its username delay is capped).
    const lock = await connectFrom(guarded.port, '127.0.0.2', { clientId: 'lock-a', username: 'lock-a', password: 'pw-a-secret' });
    cleanup.push(() => lock.client.endAsync(true));
    expect(lock.result).toBe('ok');
  }, 20_000);

  it('slows guesses at one username spread over many addresses', async () => {
    const { port } = await startBroker({ authThrottle: { freeFailures: 2, baseDelayMs: 200, maxDelayMs: 1600 } });
    const t0 = performance.now();
    const answers: string[] = [];
    // 12 addresses, one guess each at once: parallel attempts count as failures in flight.
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const r = await connectFrom(port, `127.0.1.${i + 1}`, { clientId: `p${i}`, username: 'lock-b', password: `nope-${i}` });
        answers.push(r.result);
        await r.client.endAsync(true);
      }),
    );
    expect(answers.every((a) => /Bad username or password/i.test(a))).toBe(true);
    // Only two were answered at once; the rest waited 200..1600 ms (capped, never refused).
    expect(performance.now() - t0).toBeGreaterThan(1500);
  });
});
