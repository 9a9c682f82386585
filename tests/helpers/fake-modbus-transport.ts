/**
 * An in-memory Modbus transport for bus unit tests: each unit has a behaviour (answer,
 * stay silent, refuse with an exception, send garbage), the link can be unplugged and
 * refuse to reopen, and every request is logged so tests can check order and concurrency.
 */
import { ModbusTransportError, type ModbusTransport } from '../../drivers/modbus/transport.js';

export type UnitBehaviour =
  | { kind: 'answer'; regs?: (address: number, count: number) => number[] }
  | { kind: 'silent' }
  | { kind: 'exception'; code: number }
  | { kind: 'garbage' }
  /** Holds the answer until `release()` so a test can queue work behind it. */
  | { kind: 'manual' };

export interface FakeRequest {
  unitId: number;
  op: 'read' | 'write' | 'write1';
  address: number;
  count: number;
  values?: readonly number[];
}

export class FakeModbusTransport implements ModbusTransport {
  readonly log: FakeRequest[] = [];
  readonly units = new Map<number, UnitBehaviour>();
  readonly written = new Map<number, Map<number, number>>();
  open_ = false;
  opens = 0;
  /** While true, open() rejects like an absent USB adapter. */
  refuseOpen = false;
  inFlight = 0;
  maxInFlight = 0;
  private closeListener: ((reason: string) => void) | undefined;
  private held: (() => void)[] = [];

  describe(): string {
    return 'fake';
  }
  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
  }

  async open(): Promise<void> {
    if (this.refuseOpen) throw new ModbusTransportError('closed', 'ENOENT: no such file or directory, /dev/ttyUSB0');
    this.opens++;
    this.open_ = true;
  }
  async close(): Promise<void> {
    this.open_ = false;
  }

  /** Simulates pulling the adapter out: the link closes on its own. */
  unplug(): void {
    this.open_ = false;
    this.refuseOpen = true;
    this.closeListener?.('disconnected');
  }
  plugIn(): void {
    this.refuseOpen = false;
  }

  release(): void {
    const h = this.held.shift();
    h?.();
  }

  read(unitId: number, _fc: 3 | 4, address: number, count: number): Promise<number[]> {
    this.log.push({ unitId, op: 'read', address, count });
    return this.run(unitId, () => {
      const b = this.units.get(unitId);
      if (b?.kind === 'answer' && b.regs) return b.regs(address, count);
      const mem = this.written.get(unitId);
      return Array.from({ length: count }, (_, i) => mem?.get(address + i) ?? (address + i) & 0xffff);
    });
  }

  write(unitId: number, address: number, values: readonly number[]): Promise<void> {
    this.log.push({ unitId, op: 'write', address, count: values.length, values });
    return this.run(unitId, () => {
      let mem = this.written.get(unitId);
      if (!mem) this.written.set(unitId, (mem = new Map()));
      values.forEach((v, i) => mem.set(address + i, v));
      return [];
    }).then(() => undefined);
  }

  /** Units whose firmware has no FC 06: it answers exception 01 (illegal function). */
  readonly noFc6 = new Set<number>();

  writeSingle(unitId: number, address: number, value: number): Promise<void> {
    this.log.push({ unitId, op: 'write1', address, count: 1, values: [value] });
    if (this.noFc6.has(unitId)) return Promise.reject(new ModbusTransportError('exception', 'Modbus exception 1', 1));
    return this.run(unitId, () => {
      let mem = this.written.get(unitId);
      if (!mem) this.written.set(unitId, (mem = new Map()));
      mem.set(address, value);
      return [];
    }).then(() => undefined);
  }

  /** Coils and discrete inputs share the register memory here: a bit is a word that is not 0. */
  readBits(unitId: number, _fc: 1 | 2, address: number, count: number): Promise<boolean[]> {
    return this.read(unitId, 3, address, count).then((words) => words.map((w) => w !== 0));
  }

  writeCoils(unitId: number, address: number, values: readonly boolean[]): Promise<void> {
    return this.write(
      unitId,
      address,
      values.map((v) => (v ? 1 : 0)),
    );
  }

  private run(unitId: number, answer: () => number[]): Promise<number[]> {
    if (!this.open_) return Promise.reject(new ModbusTransportError('closed', 'Port Not Open'));
    const b = this.units.get(unitId) ?? { kind: 'answer' };
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const done = <T>(v: T): T => {
      this.inFlight--;
      return v;
    };
    switch (b.kind) {
      case 'silent':
        // Never answers; the bus's timer must give up. Counted as finished for concurrency.
        this.inFlight--;
        return new Promise(() => {});
      case 'exception':
        return Promise.resolve().then(() => {
          done(0);
          throw new ModbusTransportError('exception', `Modbus exception ${b.code}`, b.code);
        });
      case 'garbage':
        return Promise.resolve().then(() => {
          done(0);
          throw new ModbusTransportError('bad_frame', 'CRC error');
        });
      case 'manual':
        return new Promise((resolve) => this.held.push(() => resolve(done(answer()))));
      default:
        return Promise.resolve().then(() => done(answer()));
    }
  }
}
