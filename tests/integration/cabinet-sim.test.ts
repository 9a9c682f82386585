/**
 * The simulated cabinets on real transports, read by an independent Modbus client
 * (modbus-serial) rather than by our own codec's transport: over TCP, and over a socat pty
 * bus shared by two RTU units, one of which goes dead. Needs socat (fails loudly if absent).
 */
import ModbusSerial from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { decodeIdentity, decodePoll, encodeCommand, identityRead, pollPlan } from '../../drivers/cabinet/registers.js';
import type { CabinetCommand } from '../../drivers/cabinet/types.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { createPtyPair, requireSocat, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const ModbusRTU = ModbusSerial.default;
type Client = InstanceType<typeof ModbusSerial.default>;

async function readPoll(client: Client, ports: number) {
  const answers: number[][] = [];
  for (const r of pollPlan(ports))
    answers.push(
      (r.fc === 4 ? await client.readInputRegisters(r.address, r.count) : await client.readHoldingRegisters(r.address, r.count)).data,
    );
  return decodePoll(ports, answers);
}

async function readIdentity(client: Client) {
  const r = identityRead();
  return decodeIdentity((await client.readInputRegisters(r.address, r.count)).data);
}

async function send(client: Client, cmd: CabinetCommand): Promise<void> {
  for (const w of encodeCommand(cmd)) {
    if (w.fc === 6) await client.writeRegister(w.address, w.values[0]!);
    else await client.writeRegisters(w.address, w.values);
  }
}

async function modbusError(p: Promise<unknown>): Promise<{ modbusCode?: number; errno?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { modbusCode?: number; errno?: string; message: string };
  }
  throw new Error('expected the request to fail');
}

function close(client: Client): Promise<void> {
  return new Promise((r) => client.close(() => r()));
}

describe('simulated cabinet over Modbus TCP', () => {
  let sim: SimulatedCabinets;
  let client: Client;
  const clock = new ManualClock();

  beforeAll(async () => {
    // Physics on a hand-driven clock; replies (slowMs) on real timers would need advancing too, so the
    // slow-reply case below drives the clock itself.
    sim = await startSimulatedCabinets({
      tcp: [{ id: 'north', port: 0, ports: 12, vendor: 'ACME', serial: 'N-0001' }],
      timers: clock,
      now: () => clock.monotonic(),
      tickMs: 1000,
      plugged: { north: [1, 2] },
    });
    client = new ModbusRTU();
    await client.connectTCP('127.0.0.1', { port: sim.tcpPort('north') });
    client.setID(1);
    client.setTimeout(1000);
  });

  afterAll(async () => {
    if (client) await close(client);
    await sim?.stop();
  });

  it('identifies itself and answers a full poll in the documented blocks', async () => {
    expect(await readIdentity(client)).toMatchObject({
      vendor: 'ACME',
      serial: 'N-0001',
      portCount: 12,
      mapVersion: { major: 1, minor: 0 },
    });
    const { status, ports } = await readPoll(client, 12);
    expect(status).toMatchObject({ mainsPresent: true, mainsVoltage: 230, smoke: false, powerOn: true });
    expect(ports.map((p) => p.state)).toEqual(['plugged', 'plugged', ...new Array(10).fill('available')]);
  });

  it('starts a session, charges as the clock advances, and stops', async () => {
    await send(client, { kind: 'start', port: 1, sessionId: 0xdeadbeef, powerLimitW: 150, maxDurationMin: 480 });
    clock.advance(3_600_000);
    const p1 = (await readPoll(client, 12)).ports[0]!;
    expect(p1).toMatchObject({ state: 'charging', sessionId: 0xdeadbeef, powerLimit: 150 });
    expect(p1.power).toBeGreaterThan(100);
    expect(p1.power).toBeLessThanOrEqual(150);
    expect(p1.energyWh).toBeGreaterThanOrEqual(100);
    await send(client, { kind: 'stop', port: 1 });
    expect((await readPoll(client, 12)).ports[0]).toMatchObject({ state: 'plugged', sessionId: 0, power: 0 });
  });

  it('a write in a wrong state returns exception 04; a bad value 03; a bad address 02', async () => {
    expect((await modbusError(send(client, { kind: 'start', port: 5, sessionId: 1, powerLimitW: 0, maxDurationMin: 60 }))).modbusCode).toBe(
      4,
    );
    expect((await modbusError(client.writeRegister(0x1104, 99))).modbusCode).toBe(3);
    expect((await modbusError(client.readInputRegisters(0x0100 + 12 * 16, 16))).modbusCode).toBe(2);
    // Still answering normally afterwards.
    expect((await readIdentity(client)).portCount).toBe(12);
  });

  it('smoke and mains loss show in the cabinet block', async () => {
    sim.inject({ kind: 'smoke', cabinet: 'north' });
    sim.inject({ kind: 'mains', cabinet: 'north', present: false });
    expect((await readPoll(client, 12)).status).toMatchObject({ smoke: true, fanOn: true, mainsPresent: false, mainsVoltage: 0 });
    sim.inject({ kind: 'smoke', cabinet: 'north', active: false });
    sim.inject({ kind: 'mains', cabinet: 'north', present: true });
  });

  it('a slow cabinet times out, then answers again', async () => {
    sim.inject({ kind: 'slow', cabinet: 'north', delayMs: 5000 });
    client.setTimeout(200);
    const err = await modbusError(client.readInputRegisters(0, 32));
    expect(err.message).toMatch(/timed out/i);
    sim.inject({ kind: 'slow', cabinet: 'north', delayMs: 0 });
    clock.advance(5000); // the late answer goes out now and is ignored (stale transaction id)
    client.setTimeout(1000);
    expect((await readIdentity(client)).vendor).toBe('ACME');
  });

  it('a reboot drops the connection, stays silent, then comes back with uptime from zero and no session', async () => {
    await send(client, { kind: 'start', port: 2, sessionId: 77, powerLimitW: 0, maxDurationMin: 60 });
    clock.advance(10_000);
    expect((await readPoll(client, 12)).status.uptimeS).toBeGreaterThan(3600);
    sim.inject({ kind: 'reboot', cabinet: 'north', downMs: 1000 });
    await waitFor(() => !client.isOpen, 'the client to see the connection dropped', 5000);
    client = new ModbusRTU();
    await client.connectTCP('127.0.0.1', { port: sim.tcpPort('north') });
    client.setID(1);
    client.setTimeout(200);
    expect((await modbusError(readIdentity(client))).message).toMatch(/timed out/i);
    clock.advance(1000);
    client.setTimeout(1000);
    const { status, ports } = await readPoll(client, 12);
    expect(status.uptimeS).toBeLessThanOrEqual(1);
    expect(ports[1]).toMatchObject({ state: 'plugged', sessionId: 0 });
  });
});

describe('socat is required', () => {
  it('fails loudly, with install instructions, when socat is missing', () => {
    expect(() => requireSocat('/nonexistent/socat')).toThrow(/socat is not installed at \/nonexistent\/socat.*apt-get install -y socat/s);
  });
});

describe('simulated cabinets on one RTU bus (socat pty)', () => {
  let pty: PtyPair;
  let sim: SimulatedCabinets;
  let client: Client;

  beforeAll(async () => {
    pty = await createPtyPair();
    sim = await startSimulatedCabinets({
      rtu: {
        path: pty.b,
        baudRate: 115_200,
        units: [
          { id: 'east', unitId: 1, ports: 12 },
          { id: 'west', unitId: 2, ports: 24 },
        ],
      },
      tickMs: 0,
      plugged: { west: [24] },
    });
    client = new ModbusRTU();
    await client.connectRTUBuffered(pty.a, { baudRate: 115_200 });
    client.setTimeout(500);
  });

  afterAll(async () => {
    if (client) await close(client);
    await sim?.stop();
    await pty?.stop();
  });

  it('each unit answers only its own address', async () => {
    client.setID(1);
    expect((await readIdentity(client)).portCount).toBe(12);
    client.setID(2);
    expect((await readIdentity(client)).portCount).toBe(24);
    const { ports } = await readPoll(client, 24);
    expect(ports).toHaveLength(24);
    expect(ports[23]!.state).toBe('plugged');
    client.setID(3);
    expect((await modbusError(readIdentity(client))).message).toMatch(/timed out/i);
  });

  it('holds each answer for its wire time at the bus baud rate, as RS-485 would', async () => {
    client.setID(2);
    // 4 requests of 8 bytes; answers of 5 + 2 x count bytes; 11 bits per character.
    const bytes = pollPlan(24).reduce((sum, r) => sum + 8 + 5 + 2 * r.count, 0);
    const wireMs = (bytes * 11 * 1000) / 115_200;
    const t0 = performance.now();
    await readPoll(client, 24);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(wireMs * 0.9);
  });

  it('start on a port in the wrong state is refused with exception 04 over RTU too', async () => {
    client.setID(2);
    expect((await modbusError(send(client, { kind: 'start', port: 1, sessionId: 5, powerLimitW: 0, maxDurationMin: 30 }))).modbusCode).toBe(
      4,
    );
    await send(client, { kind: 'start', port: 24, sessionId: 5, powerLimitW: 0, maxDurationMin: 30 });
    sim.step(60_000);
    expect((await readPoll(client, 24)).ports[23]).toMatchObject({ state: 'charging', sessionId: 5 });
  });

  it('a dead unit times out while the other keeps answering', async () => {
    sim.inject({ kind: 'dead', cabinet: 'east' });
    client.setID(1);
    client.setTimeout(200);
    expect((await modbusError(readPoll(client, 12))).message).toMatch(/timed out/i);
    client.setID(2);
    for (let i = 0; i < 3; i++) expect((await readPoll(client, 24)).ports).toHaveLength(24);
    sim.inject({ kind: 'dead', cabinet: 'east', active: false });
    client.setID(1);
    expect((await readPoll(client, 12)).ports).toHaveLength(12);
    client.setTimeout(500);
  });

  it('garbage on the line before a request is dropped after a silent gap, and the bus carries on', async () => {
    const { SerialPort } = await import('serialport');
    // Write noise from a second opener of the master end: "01 10 ... FF" claims a long FC 16 request.
    const noisy = new SerialPort({ path: pty.a, baudRate: 115_200, autoOpen: false, lock: false });
    await new Promise<void>((r, j) => noisy.open((e) => (e ? j(e) : r())));
    await new Promise<void>((r) => noisy.write(Buffer.from([0x01, 0x10, 0x00, 0x00, 0x00, 0x7b, 0xf6]), () => noisy.drain(() => r())));
    await new Promise<void>((r) => noisy.close(() => r()));
    client.setID(2);
    await waitFor(() => (sim.rtuBus!.stats.droppedBytes > 0 ? true : undefined), 'the bus to drop the noise', 2000);
    expect((await readIdentity(client)).portCount).toBe(24);
  });

  it('a corrupted CRC is detected by the client and the next answer is clean', async () => {
    sim.inject({ kind: 'crc', cabinet: 'west', count: 1 });
    client.setID(2);
    const err = await modbusError(readIdentity(client));
    expect(err.message).toMatch(/crc/i);
    expect((await readIdentity(client)).portCount).toBe(24);
  });
});
