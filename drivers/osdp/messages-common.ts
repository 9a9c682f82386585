/**
 * Shared rules of the OSDP payload codecs: decoders throw
 * GatehouseError('DEVICE_PROTOCOL') naming the message and what is wrong (the bytes came
 * from the line and may be hostile); encoders throw GatehouseError('CMD_INVALID') when asked
 * to send something the message cannot express (an output pulse longer than 6553.5 s, ...).
 * Nothing else is ever thrown.
 */
import { GatehouseError } from '../../gateway/core/errors.js';

export function protocolError(message: string, detail: string): GatehouseError {
  return new GatehouseError('DEVICE_PROTOCOL', `${message}: ${detail}`);
}

export function invalidArgument(message: string, detail: string): GatehouseError {
  return new GatehouseError('CMD_INVALID', `${message}: ${detail}`);
}

export function expectLength(message: string, data: Uint8Array, length: number): void {
  if (data.length !== length) throw protocolError(message, `expected ${length} bytes, got ${data.length}`);
}

export function expectRecords(message: string, data: Uint8Array, recordLength: number): number {
  if (data.length % recordLength !== 0) {
    throw protocolError(message, `${data.length} bytes is not a whole number of ${recordLength}-byte records`);
  }
  return data.length / recordLength;
}

/** Milliseconds -> the spec's 100 ms units, rounded, within [min, max]; throws CMD_INVALID outside. */
export function toTenths(message: string, what: string, ms: number, min: number, max: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw invalidArgument(message, `${what} ${ms} ms is not a duration`);
  const units = Math.max(min, Math.round(ms / 100));
  if (units > max) throw invalidArgument(message, `${what} ${ms} ms exceeds ${max * 100} ms`);
  return units;
}

export function checkByte(message: string, what: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw invalidArgument(message, `${what} ${value} is not a byte`);
  return value;
}

export function checkBytes(message: string, what: string, bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length !== length) throw invalidArgument(message, `${what} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}
