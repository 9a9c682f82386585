/**
 * The link under a Modbus bus: one RS-485 line (RTU) or one TCP endpoint. The bus
 * (bus.ts) owns scheduling, timeouts, retries and availability; a transport only opens,
 * carries one request at a time and says when the link went away. Keeping it this thin is
 * what lets unit tests swap in an in-memory fake driven by a ManualClock.
 */
import ModbusSerial from 'modbus-serial';

// modbus-serial is CommonJS; under NodeNext its class is the module's `default` property
// (which the package sets to module.exports itself).
const ModbusRTU = ModbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusSerial.default>;

export type TransportConfig =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'rtu'; path: string; baudRate: number; parity?: 'none' | 'even' | 'odd'; dataBits?: 7 | 8; stopBits?: 1 | 2 };

/** Why one request failed, as far as the bus needs to know. */
export type TransportErrorKind =
  /** No answer in time: the unit may be dead. */
  | 'timeout'
  /** The unit answered with a Modbus exception: it is alive but refused. */
  | 'exception'
  /** Something came back but not a valid answer (CRC, length): noise or a confused unit. */
  | 'bad_frame'
  /** The link is not open (unplugged adapter, reset TCP connection). */
  | 'closed';

export class ModbusTransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    readonly modbusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModbusTransportError';
  }
}

export interface ModbusTransport {
  /** Opens the link; rejects if it cannot (adapter absent, connection refused). */
  open(): Promise<void>;
  /** Closes the link; never rejects. */
  close(): Promise<void>;
  /** Registers the single listener told when an open link goes away on its own. */
  onClose(listener: (reason: string) => void): void;
  /** One read of holding (3) or input (4) registers; rejects with ModbusTransportError. */
  read(unitId: number, fc: 3 | 4, address: number, count: number, timeoutMs: number): Promise<number[]>;
  /** One write multiple registers (16); rejects with ModbusTransportError. */
  write(unitId: number, address: number, values: readonly number[], timeoutMs: number): Promise<void>;
  /** One write single register (06); rejects with ModbusTransportError. */
  writeSingle(unitId: number, address: number, value: number, timeoutMs: number): Promise<void>;
  /** One read of coils (1) or discrete inputs (2), exactly `count` bits; rejects with ModbusTransportError. */
  readBits(unitId: number, fc: 1 | 2, address: number, count: number, timeoutMs: number): Promise<boolean[]>;
  /** Writes coils: one value as FC 05 (what simple relay modules accept), several as FC 15. */
  writeCoils(unitId: number, address: number, values: readonly boolean[], timeoutMs: number): Promise<void>;
  /** For logs: where this transport goes. */
  describe(): string;
}

/** Maps whatever modbus-serial throws onto the four kinds the bus reacts to. */
export function classifyModbusSerialError(err: unknown): ModbusTransportError {
  if (err instanceof ModbusTransportError) return err;
  const e = (err ?? {}) as { message?: unknown; errno?: unknown; modbusCode?: unknown; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.modbusCode === 'number') return new ModbusTransportError('exception', message, e.modbusCode, { cause: err });
  if (e.errno === 'ETIMEDOUT' || /timed out/i.test(message)) return new ModbusTransportError('timeout', message, undefined, { cause: err });
  if (/port not open/i.test(message) || e.code === 'ECONNRESET' || e.code === 'EPIPE' || /not open|closed|disconnected/i.test(message)) {
    return new ModbusTransportError('closed', message, undefined, { cause: err });
  }
  return new ModbusTransportError('bad_frame', message, undefined, { cause: err });
}

/**
 * Runs a modbus-serial request in its callback form (writeFC3/4/16 are the callback forms of
 * readHoldingRegisters, readInputRegisters and writeRegisters), with a callback that lets go of the promise
 * once called. modbus-serial keeps each request's callback in its table of 256 transaction ids
 * until the id comes round again; its own promise form's callback holds the promise, and so
 * the answer, that long: every answer outlived ~25 s of polls, survived into the old
 * generation and kept its socket chunk (issue 18: at 64 cabinets, 25 MB of heap and most of
 * the full collections).
 */
function released<T>(call: (done: (err: unknown, res?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    call(once({ settle: (err, res) => (err ? reject(err as Error) : resolve(res as T)) }));
  });
}

/**
 * The callback itself, made in a scope of its own: a closure made beside `resolve` would share
 * its context (and so the promise) with it. This one holds only the box it empties when called.
 */
function once<T>(box: { settle?: (err: unknown, res?: T) => void }): (err: unknown, res?: T) => void {
  return (err, res) => {
    const settle = box.settle;
    box.settle = undefined;
    settle?.(err, res);
  };
}

/**
 * The real transport on modbus-serial. A fresh ModbusRTU client per open: after an
 * unplugged adapter or a reset TCP connection, a reused client keeps stale transactions and
 * listeners, and starting clean is cheaper than reasoning about them.
 */
export class ModbusSerialTransport implements ModbusTransport {
  private client: ModbusClient | undefined;
  private closeListener: ((reason: string) => void) | undefined;
  private generation = 0;

  constructor(private readonly cfg: TransportConfig) {}

  describe(): string {
    return this.cfg.kind === 'tcp' ? `tcp://${this.cfg.host}:${this.cfg.port}` : `rtu:${this.cfg.path}@${this.cfg.baudRate}`;
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
  }

  async open(): Promise<void> {
    await this.close();
    const gen = ++this.generation;
    const client = new ModbusRTU();
    // Errors surface through requests and 'close'; an unhandled 'error' would crash the daemon.
    client.on('error', () => {});
    try {
      if (this.cfg.kind === 'tcp') await client.connectTCP(this.cfg.host, { port: this.cfg.port });
      else {
        await client.connectRTUBuffered(this.cfg.path, {
          baudRate: this.cfg.baudRate,
          parity: this.cfg.parity ?? 'none',
          dataBits: this.cfg.dataBits ?? 8,
          stopBits: this.cfg.stopBits ?? 1,
        });
      }
    } catch (err) {
      try {
        client.destroy(() => {});
      } catch {
        /* already gone */
      }
      throw classifyModbusSerialError(err);
    }
    if (gen !== this.generation) {
      // close() was called while connecting.
      try {
        client.destroy(() => {});
      } catch {
        /* already gone */
      }
      throw new ModbusTransportError('closed', 'transport closed while opening');
    }
    this.client = client;
    client.on('close', () => {
      if (gen !== this.generation || this.client !== client) return;
      this.client = undefined;
      this.closeListener?.('link closed');
    });
  }

  close(): Promise<void> {
    this.generation++;
    const client = this.client;
    this.client = undefined;
    if (!client) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        client.close(() => resolve());
      } catch {
        resolve();
      }
      // A serial port that vanished may never call back; do not hang a stop on it.
      setTimeout(resolve, 500).unref();
    });
  }

  async read(unitId: number, fc: 3 | 4, address: number, count: number, timeoutMs: number): Promise<number[]> {
    const client = this.requireOpen();
    client.setID(unitId);
    client.setTimeout(timeoutMs);
    try {
      const res = await released<{ data: number[] }>((done) =>
        fc === 3 ? client.writeFC3(unitId, address, count, done) : client.writeFC4(unitId, address, count, done),
      );
      if (res.data.length !== count) throw new ModbusTransportError('bad_frame', `expected ${count} registers, got ${res.data.length}`);
      return res.data;
    } catch (err) {
      throw classifyModbusSerialError(err);
    }
  }

  async write(unitId: number, address: number, values: readonly number[], timeoutMs: number): Promise<void> {
    const client = this.requireOpen();
    client.setID(unitId);
    client.setTimeout(timeoutMs);
    try {
      await released((done) => client.writeFC16(unitId, address, [...values], done));
    } catch (err) {
      throw classifyModbusSerialError(err);
    }
  }

  async writeSingle(unitId: number, address: number, value: number, timeoutMs: number): Promise<void> {
    const client = this.requireOpen();
    client.setID(unitId);
    client.setTimeout(timeoutMs);
    try {
      await client.writeRegister(address, value);
    } catch (err) {
      throw classifyModbusSerialError(err);
    }
  }

  async readBits(unitId: number, fc: 1 | 2, address: number, count: number, timeoutMs: number): Promise<boolean[]> {
    const client = this.requireOpen();
    client.setID(unitId);
    client.setTimeout(timeoutMs);
    try {
      const res = fc === 1 ? await client.readCoils(address, count) : await client.readDiscreteInputs(address, count);
      // The answer holds whole bytes; the padding bits past `count` mean nothing.
      if (res.data.length < count) throw new ModbusTransportError('bad_frame', `expected ${count} bits, got ${res.data.length}`);
      return res.data.slice(0, count);
    } catch (err) {
      throw classifyModbusSerialError(err);
    }
  }

  async writeCoils(unitId: number, address: number, values: readonly boolean[], timeoutMs: number): Promise<void> {
    const client = this.requireOpen();
    client.setID(unitId);
    client.setTimeout(timeoutMs);
    try {
      if (values.length === 1) await client.writeCoil(address, values[0]!);
      else await client.writeCoils(address, [...values]);
    } catch (err) {
      throw classifyModbusSerialError(err);
    }
  }

  private requireOpen(): ModbusClient {
    const client = this.client;
    if (!client || !client.isOpen) throw new ModbusTransportError('closed', 'Port Not Open');
    return client;
  }
}
