/**
 * The DC-09 receiver over real TCP and UDP sockets on loopback, with simulated panels
 * (plain SIA-DCS, AES-256 SIA-DCS, AES-128 Contact ID).
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { Dc09PanelConfig } from '../../config/perimeter-schema.js';
import { ManualClock, realTimers, systemClock, type Clock, type Timers } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Dc09Receiver } from '../../gateway/perimeter/dc09-receiver.js';
import { PanelService } from '../../gateway/perimeter/panel-service.js';
import { startSimulatedPanels, type SimPanelSpec, type SimulatedPanels } from '../../sim/dc09/index.js';
import { waitFor } from '../helpers/wait.js';
import { FakeOutbox, FakeSink, KEY128, KEY256, SECRETS, panels, receiverConfig } from '../unit/dc09-fixtures.js';

const SIM: SimPanelSpec[] = [
  { account: '1234', encrypted: false, periodicTestS: 0 },
  { account: 'AB12', key: KEY256, encrypted: true, periodicTestS: 0 },
  { account: '5678', key: KEY128, encrypted: true, periodicTestS: 0, format: 'ADM-CID' },
];

interface Rig {
  receiver: Dc09Receiver;
  service: PanelService;
  sink: FakeSink;
  outbox: FakeOutbox;
  ports: { tcpPort: number; udpPort: number };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function rig(o: { clock?: Clock; timers?: Timers; maxConnections?: number; panels?: Dc09PanelConfig[] } = {}): Promise<Rig> {
  const clock = o.clock ?? systemClock({ forceState: 'synced' });
  const timers = o.timers ?? realTimers;
  const sink = new FakeSink();
  const outbox = new FakeOutbox();
  const ps = o.panels ?? panels();
  const service = new PanelService({ panels: ps, sink, outbox, clock, timers, log: silentLogger() });
  const receiver = new Dc09Receiver({
    config: receiverConfig({ maxConnections: o.maxConnections ?? 200 }),
    panels: ps,
    secrets: secretsFrom(SECRETS),
    service,
    clock,
    log: silentLogger(),
  });
  const ports = await receiver.start();
  cleanups.push(() => receiver.stop());
  return { receiver, service, sink, outbox, ports };
}

async function sims(r: Rig, protocol: 'tcp' | 'udp', specs = SIM, ackTimeoutMs = 1000): Promise<SimulatedPanels> {
  const s = await startSimulatedPanels({
    host: '127.0.0.1',
    port: protocol === 'tcp' ? r.ports.tcpPort : r.ports.udpPort,
    protocol,
    panels: specs,
    ackTimeoutMs,
  });
  cleanups.push(() => s.stop());
  return s;
}

describe.each(['tcp', 'udp'] as const)('DC-09 receiver over %s', (protocol) => {
  it('ACKs plain and encrypted SIA-DCS and Contact ID events after raising and recording them', async () => {
    const r = await rig();
    const s = await sims(r, protocol);
    const [plain, aes, cid] = s.panels as [
      NonNullable<SimulatedPanels['panels'][0]>,
      NonNullable<SimulatedPanels['panels'][0]>,
      NonNullable<SimulatedPanels['panels'][0]>,
    ];
    expect(await plain.alarm(4)).toMatchObject({ answer: 'ACK', attempts: 1 });
    expect(await aes.tamper()).toMatchObject({ answer: 'ACK', attempts: 1 });
    expect(await cid.alarm(15, 2)).toMatchObject({ answer: 'ACK', attempts: 1 });
    expect(await cid.acLoss()).toMatchObject({ answer: 'ACK' });
    // ACK means the sink was already called: no waiting needed.
    expect(r.sink.isActive('panel.burglary', 'panel-plain', 'zone-4')).toBe(true);
    expect(r.sink.isActive('panel.tamper', 'panel-aes', 'area-1')).toBe(true);
    expect(r.sink.isActive('panel.burglary', 'panel-cid', 'zone-15')).toBe(true);
    expect(r.sink.isActive('panel.ac_loss', 'panel-cid', 'area-0')).toBe(true);
    expect(await cid.restore(15, 2)).toMatchObject({ answer: 'ACK' });
    expect(await aes.openClose(7, 'open')).toMatchObject({ answer: 'ACK' });
    expect(await plain.periodicTest()).toMatchObject({ answer: 'ACK' });
    expect(await plain.poll()).toMatchObject({ answer: 'ACK' });
    expect(r.sink.isActive('panel.burglary', 'panel-cid', 'zone-15')).toBe(false);
    expect(r.outbox.events.map((e) => [e.class, e.type, e.source.device])).toEqual([
      ['access', 'panel.opened', 'panel-aes'],
      ['device', 'panel.test', 'panel-plain'],
    ]);
    // Each panel is announced online once, when first heard (not on every message).
    expect(r.outbox.presence.map((e) => [e.type, e.source.device]).sort()).toEqual([
      ['device.online', 'panel-aes'],
      ['device.online', 'panel-cid'],
      ['device.online', 'panel-plain'],
    ]);
    if (protocol === 'tcp') expect(r.receiver.stats.connections).toBe(3); // several messages per connection
  });

  it('a retransmission after a lost ACK is ACKed but processed once', async () => {
    const r = await rig();
    const s = await sims(r, protocol, SIM, 200);
    for (const p of s.panels) {
      p.dropAcks(1);
      const res = await p.openClose(3, 'close');
      expect(res).toMatchObject({ answer: 'ACK', attempts: 2 });
    }
    expect(r.outbox.events.filter((e) => e.type === 'panel.closed')).toHaveLength(3);
    expect(r.receiver.processor.counts.duplicate).toBe(3);
  });

  it('a panel whose clock is off is NAKed, adopts the receiver time from the NAK and gets through', async () => {
    const r = await rig();
    const s = await sims(r, protocol, [{ account: 'AB12', key: KEY256, encrypted: true, periodicTestS: 0, clockOffsetMs: -3_600_000 }]);
    const res = await s.panels[0]!.alarm(9);
    expect(res).toMatchObject({ answer: 'ACK', attempts: 2 });
    expect(s.panels[0]!.stats.naks).toBe(1);
    expect(r.sink.raised('panel.burglary')).toHaveLength(1);
  });

  it('NAKs an unknown account and a plain message from an encrypted-only panel', async () => {
    const r = await rig();
    const s = await sims(
      r,
      protocol,
      [
        { account: '9999', encrypted: false, periodicTestS: 0 },
        { account: 'AB12', encrypted: false, periodicTestS: 0 },
      ],
      100,
    );
    for (const p of s.panels) expect(await p.alarm(1)).toMatchObject({ answer: 'NAK' });
    expect(r.sink.calls).toEqual([]);
  });
});

describe('DC-09 receiver over udp, hostile datagrams', () => {
  it('answers nothing to garbage, a 10-byte datagram or a bad CRC, and never more bytes than it got', async () => {
    const { createSocket } = await import('node:dgram');
    const { wrapBody } = await import('../../drivers/dc09/frame.js');
    const r = await rig();
    const sock = createSocket('udp4');
    cleanups.push(() => new Promise((res) => sock.close(() => res())));
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString('latin1')));
    const send = (text: string) =>
      new Promise<void>((res) => sock.send(Buffer.from(text, 'latin1'), r.ports.udpPort, '127.0.0.1', () => res()));
    await send('x');
    await send('\n0123456789'.slice(0, 10));
    await send('\n0000001F"SIA-DCS"0001L0#1234[#1234|Nri1/BA001]\r');
    // Framed with a valid CRC, but a NAK (47 bytes) would be larger than these 31: nothing.
    await send(wrapBody('"NULL"0001L0#9999[]'));
    // A full-sized message for an unknown account is NAKed: the answer is not larger than it.
    const unknown = wrapBody('"SIA-DCS"0002L0#9999[#9999|Nri1/BA001]_12:00:00,01-01-2026');
    await send(unknown);
    await waitFor(() => got.length === 1, 'one answer');
    expect(got[0]).toMatch(/"NAK"0000R0L0A0\[\]_/);
    expect(got[0]!.length).toBeLessThanOrEqual(unknown.length);
    await waitFor(() => r.receiver.stats.datagrams === 5, 'all datagrams received');
    await waitFor(
      () => r.receiver.stats.unansweredDatagrams === 4,
      'four left unanswered',
      5000,
      () => r.receiver.stats,
    );
    expect(got).toHaveLength(1);
    expect(r.sink.calls).toEqual([]);
  });
});

function rawClient(port: number): Promise<{ socket: Socket; closed: Promise<void>; received: () => string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect({ host: '127.0.0.1', port }, () => resolve({ socket, closed, received: () => text }));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

describe('DC-09 receiver against hostile TCP clients', () => {
  it('closes a client sending an endless line or garbage, while panels keep working', async () => {
    const r = await rig();
    const s = await sims(r, 'tcp');
    const huge = await rawClient(r.ports.tcpPort);
    const garbage = await rawClient(r.ports.tcpPort);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    huge.socket.write('\n');
    for (let i = 0; i < 16 && !huge.socket.destroyed; i++) huge.socket.write(chunk);
    for (let i = 0; i < 30; i++) garbage.socket.write(`\n${'X'.repeat(40)}\r`);
    await huge.closed;
    await garbage.closed;
    expect(garbage.received()).toMatch(/"NAK"0000R0L0A0\[\]/);
    expect(r.receiver.stats.closedHostile).toBe(2);
    expect(await s.panels[0]!.alarm(2)).toMatchObject({ answer: 'ACK' });
    expect(await s.panels[1]!.alarm(2)).toMatchObject({ answer: 'ACK' });
    await waitFor(() => r.receiver.openConnections === 2, 'only the panels connected');
  });

  it('refuses connections beyond maxConnectionsPerAddress and names the address', async () => {
    const r = await rig({ maxConnections: 200 });
    const clients = await Promise.all(Array.from({ length: 6 }, () => rawClient(r.ports.tcpPort)));
    await waitFor(
      () => r.receiver.stats.refusedConnections === 2,
      'two connections refused',
      5000,
      () => r.receiver.stats,
    );
    expect(r.receiver.openConnections).toBe(4);
    for (const c of clients) c.socket.destroy();
  });
});

describe('supervision with real sockets', () => {
  it('a silent panel raises panel.offline; hearing it again clears it', async () => {
    // Messages travel over real sockets; only the supervision timer runs on a ManualClock.
    const clock = new ManualClock(Date.now());
    const ps = [
      Dc09PanelConfig.parse({ id: 'panel-plain', account: '1234', supervisionS: 60 }),
      Dc09PanelConfig.parse({ id: 'panel-other', account: '4321', supervisionS: 60 }),
    ];
    const r = await rig({ clock, timers: clock, panels: ps });
    const s = await sims(r, 'tcp', [
      { account: '1234', encrypted: false, periodicTestS: 0 },
      { account: '4321', encrypted: false, periodicTestS: 0 },
    ]);
    const [silent, talking] = s.panels as [NonNullable<SimulatedPanels['panels'][0]>, NonNullable<SimulatedPanels['panels'][0]>];
    expect(await silent.periodicTest()).toMatchObject({ answer: 'ACK' });
    silent.silence();
    for (let t = 0; t < 4; t++) {
      clock.advance(40_000);
      expect(await talking.periodicTest()).toMatchObject({ answer: 'ACK' });
    }
    expect(await silent.periodicTest()).toMatchObject({ answer: 'silenced' });
    expect(r.sink.raised('panel.offline').map((c) => c.source.device)).toEqual(['panel-plain']);
    expect(r.sink.isActive('panel.offline', 'panel-plain')).toBe(true);
    silent.unsilence();
    expect(await silent.periodicTest()).toMatchObject({ answer: 'ACK' });
    expect(r.sink.isActive('panel.offline', 'panel-plain')).toBe(false);
    // The outage is recorded as device events too, like every other family's.
    const presence = r.outbox.presence.filter((e) => e.source.device === 'panel-plain');
    expect(presence.map((e) => [e.type, e.data])).toEqual([
      ['device.online', { family: 'panel' }],
      ['device.offline', { family: 'panel', reason: 'silent' }],
      ['device.online', { family: 'panel' }],
    ]);
  });
});
