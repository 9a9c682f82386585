/**
 * What the cabinet unit reports about readings it could not fully trust (issue 11/13):
 * protocol faults (a register holding a value the map cannot carry, a block the cabinet
 * refuses to give), rate-limited per field so a value stuck for a night is one event and a
 * count, not one event per poll; and a replaced cabinet (its serial number changed).
 */
import type { FieldFault } from '../../drivers/cabinet/types.js';
import type { EventInput } from '../core/events.js';
import { isGatehouseError } from '../core/errors.js';

/** The same fault on the same field is reported again at most this often, with how many polls repeated it. */
export const FAULT_REPORT_MS = 10 * 60_000;

export interface ProtocolFault {
  field: string;
  /** Protocol address of the register (or of the read that failed). */
  address: number;
  /** The raw register value, or the Modbus exception code of a refused read. */
  raw?: number;
  modbusCode?: number;
  port?: number;
  safety: boolean;
  message: string;
}

const hex = (a: number) => `0x${a.toString(16).toUpperCase().padStart(4, '0')}`;

export function protocolFaultEvent(cabinet: string, f: ProtocolFault, repeats: number): EventInput {
  return {
    class: 'device',
    type: 'device.protocol_fault',
    source: f.port === undefined ? { device: cabinet } : { device: cabinet, point: `port-${f.port}` },
    data: {
      family: 'cabinet',
      code: 'DEVICE_PROTOCOL',
      field: f.field,
      register: hex(f.address),
      ...(f.raw !== undefined ? { raw: f.raw } : {}),
      ...(f.modbusCode !== undefined ? { modbusCode: f.modbusCode } : {}),
      ...(f.port !== undefined ? { port: f.port } : {}),
      safety: f.safety,
      message: f.message,
      repeats,
    },
  };
}

/** A poll read the cabinet refused (a Modbus exception) or answered outside the map: the `poll` fault at that read's address. */
export function refusedReadFault(err: unknown, address: number): ProtocolFault {
  const modbusCode = isGatehouseError(err) ? err.details?.modbusCode : undefined;
  return {
    field: 'poll',
    address,
    safety: true,
    message: (err as Error).message,
    ...(typeof modbusCode === 'number' ? { modbusCode } : {}),
  };
}

export function fromFieldFault(f: FieldFault): ProtocolFault {
  return {
    field: f.field,
    address: f.address,
    raw: f.raw,
    safety: f.safety,
    message: f.message,
    ...(f.port !== undefined ? { port: f.port } : {}),
  };
}

/** Per field: report the first occurrence at once, then at most every FAULT_REPORT_MS with the count in between. */
export class FaultReporter {
  private readonly seen = new Map<string, { lastAt: number; repeats: number; raw: string }>();

  constructor(
    private readonly cabinet: string,
    private readonly emit: (e: EventInput) => void,
  ) {}

  report(faults: readonly ProtocolFault[], nowMono: number): void {
    for (const f of faults) {
      const key = f.field;
      const raw = `${f.raw ?? ''}/${f.modbusCode ?? ''}`;
      const s = this.seen.get(key);
      // A different bad value is news; the same one is counted until the next report.
      if (s && s.raw === raw && nowMono - s.lastAt < FAULT_REPORT_MS) {
        s.repeats++;
        continue;
      }
      this.emit(protocolFaultEvent(this.cabinet, f, s?.repeats ?? 0));
      this.seen.set(key, { lastAt: nowMono, repeats: 0, raw });
    }
  }
}

export interface IdentitySummary {
  serial: string;
  vendor?: string;
  model?: string;
  firmware?: string;
}

export function replacedEvent(device: string, family: 'cabinet', oldSerial: string, identity: IdentitySummary): EventInput {
  return {
    class: 'device',
    type: 'device.replaced',
    source: { device },
    data: {
      family,
      oldSerial,
      newSerial: identity.serial,
      ...(identity.vendor !== undefined ? { vendor: identity.vendor } : {}),
      ...(identity.model !== undefined ? { model: identity.model } : {}),
      ...(identity.firmware !== undefined ? { firmware: identity.firmware } : {}),
    },
  };
}
