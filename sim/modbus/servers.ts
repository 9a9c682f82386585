/**
 * Transports for simulated Modbus devices (charging cabinets, digital input modules), on
 * our own pure codecs (drivers/modbus/) rather than a library server: that is what lets the
 * simulator stop answering (dead unit), corrupt a CRC or answer late on demand, and serve
 * several unit ids on one RTU line.
 *
 * - `ModbusTcpServer`: one Modbus TCP endpoint per device (node:net).
 * - `ModbusRtuLine`: one serial line (the slave end of a socat pty pair) shared by several
 *   devices, each answering only its own unit id, with the wire time of each exchange at
 *   the configured baud rate so bus timing looks like RS-485.
 *
 * A device is anything with `handle(request) -> response` and the fault knobs below.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import type { TimerHandle, Timers } from '../../gateway/core/clock.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import type { Logger } from '../../gateway/core/log.js';
import { decodeRequestPdu, encodeResponsePdu, type ModbusRequest, type ModbusResponse } from '../../drivers/modbus/pdu.js';
import { crcOk, frameRtu, RtuDeframer } from '../../drivers/modbus/rtu-frame.js';
import { frameTcp, TcpDeframer } from '../../drivers/modbus/tcp-frame.js';

/** What the servers need from a simulated device. */
export interface SimModbusUnit {
  readonly id: string;
  /** Silent: answers nothing (a dead or rebooting unit). */
  dead: boolean;
  /** The next `corruptNext` RTU answers go out with a broken CRC. */
  corruptNext: number;
  /** Every answer waits this long first. */
  slowMs: number;
  /** Throws GatehouseError DEVICE_PROTOCOL with `details.exception` for a request to refuse. */
  handle(req: ModbusRequest): ModbusResponse;
}

/** The answer to one request PDU, or undefined when a unit must stay silent. */
function answer(cabinet: SimModbusUnit, pdu: Buffer, broadcast: boolean): Buffer | undefined {
  if (cabinet.dead) return undefined;
  let res: ModbusResponse;
  try {
    res = cabinet.handle(decodeRequestPdu(pdu));
  } catch (err) {
    const exception = isGatehouseError(err) ? err.details?.exception : undefined;
    if (typeof exception !== 'number') return undefined;
    res = { fc: pdu[0]! & 0x7f, exception };
  }
  // A broadcast (unit 0) is executed but never answered (Modbus over Serial Line 2.1).
  return broadcast ? undefined : encodeResponsePdu(res);
}

class Delayer {
  private readonly pending = new Set<TimerHandle>();
  constructor(private readonly timers: Timers) {}
  run(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const h = this.timers.setTimeout(() => {
      this.pending.delete(h);
      fn();
    }, ms);
    this.pending.add(h);
  }
  cancelAll(): void {
    for (const h of this.pending) h.cancel();
    this.pending.clear();
  }
}

export class ModbusTcpServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly delayer: Delayer;
  port = 0;

  constructor(
    readonly cabinet: SimModbusUnit,
    private readonly opts: { host?: string; port: number; timers: Timers; log: Logger },
  ) {
    this.delayer = new Delayer(opts.timers);
  }

  async start(): Promise<number> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const deframer = new TcpDeframer();
    socket.on('data', (chunk) => {
      for (const f of deframer.push(chunk)) {
        const pdu = answer(this.cabinet, f.pdu, false);
        if (!pdu) continue;
        this.delayer.run(this.cabinet.slowMs, () => socket.writable && socket.write(frameTcp(f.transactionId, f.unit, pdu)));
      }
      if (deframer.bad) {
        this.opts.log.debug({ cabinet: this.cabinet.id, why: deframer.bad }, 'sim Modbus unit dropping a non-Modbus connection');
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Drops every connection, as a rebooting device does. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.delayer.cancelAll();
    this.dropConnections();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

export interface RtuBusOptions {
  path: string;
  baudRate: number;
  timers: Timers;
  log: Logger;
  /** Hold each answer for the wire time of request + response at baudRate (default true). */
  emulateWire?: boolean;
}

/** Bits per character on RS-485: start + 8 data + parity or second stop + stop. */
const BITS_PER_CHAR = 11;
/** Silence after which a partial request is dropped. */
const IDLE_RESET_MS = 20;
/** Bytes kept of a burst the deframer could not frame (longer than any RTU frame). */
const MAX_BURST = 512;

export class ModbusRtuLine {
  private port: SerialPort | undefined;
  private readonly deframer = new RtuDeframer('request');
  private readonly delayer: Delayer;
  private readonly units = new Map<number, SimModbusUnit>();
  private idle: TimerHandle | undefined;
  /**
   * The bytes since the last frame. The length-driven deframer cannot frame a request it
   * does not know (FC 43, a write whose quantity is 0): at the silence that ends a frame
   * (what 3.5 character times are on a real line), a burst with a good CRC is one such
   * request, answered with the exception the TCP server gives (01 or 03).
   */
  private burst: Buffer = Buffer.alloc(0);

  constructor(private readonly opts: RtuBusOptions) {
    this.delayer = new Delayer(opts.timers);
  }

  attach(unitId: number, cabinet: SimModbusUnit): void {
    if (!Number.isInteger(unitId) || unitId < 1 || unitId > 247) throw new Error(`unit id must be 1-247, got ${unitId}`);
    if (this.units.has(unitId)) throw new Error(`unit id ${unitId} is used twice on ${this.opts.path}`);
    this.units.set(unitId, cabinet);
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', (err) => this.opts.log.debug({ path: this.opts.path, err: err.message }, 'sim RTU bus error'));
  }

  get stats() {
    return this.deframer.stats;
  }

  private onData(chunk: Buffer): void {
    this.idle?.cancel();
    this.idle = undefined;
    this.burst = Buffer.concat([this.burst, chunk]).subarray(-MAX_BURST);
    const frames = this.deframer.push(chunk);
    for (const f of frames) this.respond(f.unit, f.pdu);
    if (frames.length) this.burst = this.burst.subarray(this.burst.length - Math.min(this.burst.length, this.deframer.pending));
    // A real RTU receiver ends a frame at 3.5 silent characters. A pty keeps no timing, so
    // leftovers (garbage claiming a long frame) are dropped after a generous silent gap
    // instead, or they would swallow the next requests.
    if (this.deframer.pending > 0 || this.burst.length > 0) this.idle = this.opts.timers.setTimeout(() => this.silence(), IDLE_RESET_MS);
  }

  private silence(): void {
    const b = this.burst;
    this.burst = Buffer.alloc(0);
    this.deframer.reset();
    if (b.length >= 4 && crcOk(b)) this.respond(b[0]!, b.subarray(1, b.length - 2));
  }

  private respond(unit: number, request: Buffer): void {
    const targets = unit === 0 ? [...this.units.values()] : [this.units.get(unit)].filter((c): c is SimModbusUnit => c !== undefined);
    for (const cabinet of targets) {
      const pdu = answer(cabinet, request, unit === 0);
      if (!pdu) continue;
      const frame = frameRtu(unit, pdu);
      if (cabinet.corruptNext > 0) {
        cabinet.corruptNext--;
        frame[frame.length - 1] = frame[frame.length - 1]! ^ 0x5a;
      }
      const wireMs =
        this.opts.emulateWire === false ? 0 : (((request.length + 3 + frame.length) * BITS_PER_CHAR) / this.opts.baudRate) * 1000;
      this.delayer.run(wireMs + cabinet.slowMs, () => this.port?.isOpen && this.port.write(frame));
    }
  }

  async stop(): Promise<void> {
    this.delayer.cancelAll();
    this.idle?.cancel();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}
