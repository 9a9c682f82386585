/**
 * The DC-09 receiver as a LAN attacker meets it (issue 14.1 and 14.5): replays of captured
 * encrypted messages after a restart with an unsynced clock, idle sockets that would hold
 * every connection slot, and the default bind. Real outbox.db, real TCP on 127.0.0.0/8
 * (the kernel routes the whole block to loopback; a second address stands for a second
 * host), bounded loops, timers on a ManualClock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { AlarmsConfig, Dc09PanelConfig, Dc09ReceiverConfig } from '../../config/perimeter-schema.js';
import { parseKeyHex } from '../../drivers/dc09/cipher.js';
import { Dc09Deframer } from '../../drivers/dc09/deframer.js';
import { encodeMessage } from '../../drivers/dc09/message.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { createLoggerFactory, silentLogger, type Logger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { createDc09 } from '../../gateway/perimeter/create-dc09.js';
import { PerimeterConfig } from '../../config/perimeter-schema.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { waitFor } from '../helpers/wait.js';

const KEY = '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4';
const ACCOUNT = 'C0DE';
const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-dc09-hard-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function message(seq: string, data: string, ts: number, extended: string[] = []): string {
  return encodeMessage(
    { token: 'SIA-DCS', encrypted: true, seq, line: '0', account: ACCOUNT },
    { data: `#${ACCOUNT}|${data}`, extended, timestamp: ts },
    parseKeyHex(KEY),
  );
}

/** A gateway's DC-09 part as app.ts builds it (createDc09 on the outbox and the AlarmManager). */
async function gateway(file: string, clock: ManualClock, dc09: Record<string, unknown> = {}, log: Logger = silentLogger()) {
  const outbox = new Outbox({ file, clock, config: { checkpointIntervalMs: 0 } });
  outbox.on('error', () => undefined);
  const alarms = new AlarmManager({ db: outbox.scope('alarms'), outbox, config: AlarmsConfig.parse({}), clock, log, timers: clock });
  const config = {
    alarmPanels: [Dc09PanelConfig.parse({ id: 'panel-1', account: ACCOUNT, keySecret: 'k', supervisionS: 0 })],
    perimeter: PerimeterConfig.parse({ dc09: { host: '127.0.0.1', ...dc09 } }),
  };
  const logs = { root: log, child: () => log } as unknown as Parameters<typeof createDc09>[0]['logs'];
  const c = createDc09({ config, secrets: secretsFrom({ k: KEY }), outbox, sink: alarms, clock, timers: clock, logs })!;
  const ports = await c.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await c.stop();
    await alarms.stop();
    outbox.close();
  };
  cleanups.push(stop);
  const rows = () =>
    outbox.scope('outbox').prepare('SELECT class, body FROM events ORDER BY seq').all() as { class: string; body: string }[];
  const events = () => rows().map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
  return { c, ports, stop, events, rows, alarms };
}

async function client(
  port: number,
  localAddress = '127.0.0.1',
): Promise<{ socket: Socket; send: (m: string) => Promise<string>; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  const d = new Dc09Deframer();
  const answers: string[] = [];
  socket.on('data', (c: Buffer) => {
    for (const o of d.push(c)) if (o.kind === 'message') answers.push(o.text);
  });
  cleanups.push(() => void socket.destroy());
  const send = async (m: string) => {
    socket.write(m, 'latin1');
    const text = await waitFor(() => answers.shift(), 'an answer', 10_000);
    return /^\n[0-9A-F]{8}"(\*?[A-Z]+)"/.exec(text)?.[1] ?? text;
  };
  return { socket, send, closed };
}

describe('DC-09 replay guard across restarts', () => {
  it('refuses a captured encrypted message replayed after a restart with an unsynced clock; sequence wrap is fine', async () => {
    const file = join(tempDir(), 'outbox.db');
    // Our clock is unsynced the whole time: the timestamp window does not protect us.
    const clock = new ManualClock(T0, 'unsynced');
    const first = await gateway(file, clock);
    const panel = await client(first.ports.tcpPort);
    const captured = message('9998', 'Nri1/BA003', T0);
    expect(await panel.send(captured)).toBe('*ACK');
    expect(await panel.send(message('9998', 'Nri1/BR003', T0 + 60_000))).toBe('*ACK');
    const later = message('9999', 'Nri1/OP007', T0 + 15 * 60_000);
    expect(await panel.send(later)).toBe('*ACK');
    await first.stop();

    // Restart; the clock comes back unsynced and wrong (a day behind), as on a Pi without RTC.
    const clock2 = new ManualClock(T0 - 86_400_000, 'unsynced');
    const second = await gateway(file, clock2);
    const before = second.events().length;
    const attacker = await client(second.ports.tcpPort);
    // Older than the account's high-water mark minus the window: refused.
    expect(await attacker.send(captured)).toBe('NAK');
    // The newest message, replayed as is: its digest is remembered, so it is answered (a
    // panel may be retransmitting) but not processed a second time.
    expect(await attacker.send(later)).toBe('*ACK');
    expect(second.c.receiver.processor.counts).toMatchObject({ ack: 0, duplicate: 1, nak: 1 });
    expect(second.events()).toHaveLength(before);
    // The real panel goes on after its sequence number wrapped 9999 → 0001.
    expect(await attacker.send(message('0001', 'Nri1/BA004', T0 + 16 * 60_000))).toBe('*ACK');
    expect(
      second
        .events()
        .slice(before)
        .filter((e) => e.type === 'alarm.raised')
        .map((e) => (e.data as { kind: string }).kind),
    ).toEqual(['panel.burglary']);
  });
});

describe('DC-09 extended data end to end', () => {
  it('a verification link and coordinates reach the alarm and its recorded event', async () => {
    const clock = new ManualClock(T0, 'synced');
    const gw = await gateway(join(tempDir(), 'outbox.db'), clock);
    const panel = await client(gw.ports.tcpPort);
    const xdata = ['Vhttps://nvr.example/clip/17', 'X8.5417E', 'YN47.3769', 'KAAAAAAAAAAAAAAAA'];
    expect(await panel.send(message('0001', 'Nri1/BA03|ABack door', T0, xdata))).toBe('*ACK');
    const [alarm] = gw.alarms.list();
    expect(alarm).toMatchObject({
      kind: 'panel.burglary',
      source: { device: 'panel-1', point: 'zone-3' },
      data: {
        verificationUrl: 'https://nvr.example/clip/17',
        panelText: 'Back door',
        extended: { longitudeDeg: 8.5417, latitudeDeg: 47.3769, keyChange: true },
      },
    });
    const raised = gw.events().find((e) => e.type === 'alarm.raised')!;
    expect(raised.data).toMatchObject({
      data: {
        verificationUrl: 'https://nvr.example/clip/17',
        extended: { raw: ['Vhttps://nvr.example/clip/17', 'X8.5417E', 'YN47.3769', 'K[redacted]'] },
      },
    });
    expect(JSON.stringify(gw.events())).not.toContain('AAAAAAAAAAAAAAAA');
    // A text-only message is a panel.event with the text and no invented code.
    expect(await panel.send(message('0002', 'AService visit', T0 + 1000, ['M0026B9E4268B']))).toBe('*ACK');
    await waitFor(() => gw.events().some((e) => e.type === 'panel.event'), 'the text message recorded');
    expect(gw.events().find((e) => e.type === 'panel.event')!.data).toMatchObject({
      code: '',
      text: 'Service visit',
      panelText: 'Service visit',
      extended: { mac: '0026B9E4268B' },
    });
    // Everything recorded is what docs/asyncapi.yaml says the platform gets.
    const invalid = gw
      .rows()
      .map((r) => ({ r, v: validateMessage(`gatehouse/v1/court/gw-1/evt/${r.class}`, r.body) }))
      .filter((x) => !x.v.ok);
    expect(invalid.map((x) => x.v.errors)).toEqual([]);
  });
});

describe('DC-09 connection caps', () => {
  it('200 idle sockets from one address do not keep a real panel out; the deadline closes them; refusals name the address', async () => {
    const lines: string[] = [];
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const log = createLoggerFactory({ level: 'warn' }, { destination: sink }).child('dc09');
    const clock = new ManualClock(T0, 'synced');
    const gw = await gateway(join(tempDir(), 'outbox.db'), clock, {}, log);
    const idle: Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const s = connect({ host: '127.0.0.1', port: gw.ports.tcpPort, localAddress: '127.0.0.1' });
      s.on('error', () => undefined);
      idle.push(s);
      cleanups.push(() => void s.destroy());
    }
    const { receiver } = gw.c;
    await waitFor(
      () => receiver.stats.refusedConnections + receiver.stats.connections === 200,
      'all 200 connection attempts handled',
      20_000,
      () => receiver.stats,
    );
    expect(receiver.stats.connections).toBe(4);
    expect(receiver.openConnections).toBe(4);
    // The panel is another host on the LAN.
    const panel = await client(gw.ports.tcpPort, '127.0.0.2');
    expect(await panel.send(message('0001', 'Nri1/BA001', T0))).toBe('*ACK');
    await waitFor(
      () => lines.some((l) => l.includes('"remote":"127.0.0.1"') && l.includes('connection refused')),
      'a refusal logged with the address',
    );
    // Ten seconds without a framed message: the idle sockets are closed, the panel is not.
    clock.advance(10_000);
    await waitFor(
      () => receiver.openConnections === 1,
      'only the panel left',
      5000,
      () => receiver.stats,
    );
    expect(lines.some((l) => l.includes('"remote":"127.0.0.1"') && l.includes('no framed DC-09 message within 10 s'))).toBe(true);
    expect(await panel.send(message('0002', 'Nri1/BR001', T0 + 10_000))).toBe('*ACK');
  });

  it('idle sockets from many addresses cannot fill the total cap: the oldest one without a panel message makes room', async () => {
    const clock = new ManualClock(T0, 'synced');
    const gw = await gateway(join(tempDir(), 'outbox.db'), clock, { maxConnections: 10 });
    const { receiver } = gw.c;
    const panel = await client(gw.ports.tcpPort, '127.0.0.2');
    expect(await panel.send(message('0001', 'Nri1/BA001', T0))).toBe('*ACK');
    for (let i = 0; i < 30; i++) {
      const s = connect({ host: '127.0.0.1', port: gw.ports.tcpPort, localAddress: `127.0.1.${i + 1}` });
      s.on('error', () => undefined);
      cleanups.push(() => void s.destroy());
      await new Promise<void>((r) => s.once('connect', () => r()).once('error', () => r()));
    }
    await waitFor(
      () => receiver.stats.connections === 31,
      'every attempt accepted or evicting',
      10_000,
      () => receiver.stats,
    );
    // One slot per configured panel is kept: 9 unproven + the proven panel.
    expect(receiver.openConnections).toBe(10);
    expect(receiver.stats.evictedConnections).toBe(21);
    // The proven panel was never the one evicted, and a new panel connection still gets in.
    expect(await panel.send(message('0002', 'Nri1/BR001', T0 + 1000))).toBe('*ACK');
    const second = await client(gw.ports.tcpPort, '127.0.0.3');
    expect(await second.send(message('0003', 'Nri1/BA002', T0 + 2000))).toBe('*ACK');
  });

  it('a panel keeps at most two connections: replaying its message on many sockets does not make them all "panel" slots', async () => {
    const clock = new ManualClock(T0, 'synced');
    const gw = await gateway(join(tempDir(), 'outbox.db'), clock);
    const captured = message('0001', 'Nri1/RP000', T0);
    const clients = [];
    for (let i = 0; i < 5; i++) {
      const c = await client(gw.ports.tcpPort, `127.0.2.${i + 1}`);
      expect(await c.send(captured)).toBe('*ACK');
      clients.push(c);
    }
    await waitFor(
      () => gw.c.receiver.openConnections === 2,
      'two connections left for the panel',
      5000,
      () => gw.c.receiver.stats,
    );
    await Promise.all(clients.slice(0, 3).map((c) => c.closed));
    expect(clients.slice(3).every((c) => !c.socket.destroyed)).toBe(true);
    expect(gw.c.receiver.processor.counts).toMatchObject({ ack: 1, duplicate: 4 });
  });

  it('listens on loopback unless the installer names an interface', () => {
    expect(Dc09ReceiverConfig.parse({}).host).toBe('127.0.0.1');
  });
});
