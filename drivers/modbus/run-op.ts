/**
 * Puts one queued request on the transport: the one place that maps an `Op` of the bus's
 * queue to the transport call of its function code. Apart from bus-types.ts, which holds
 * only types and the checks that run before anything reaches the wire.
 */
import type { Op, OpResult } from './bus-types.js';
import type { ModbusTransport } from './transport.js';

export function runOp(transport: ModbusTransport, unitId: number, op: Op, timeoutMs: number): Promise<OpResult> {
  switch (op.kind) {
    case 'read':
      return transport.read(unitId, op.fc, op.address, op.count, timeoutMs);
    case 'write':
      return transport.write(unitId, op.address, op.values, timeoutMs).then(() => []);
    case 'write1':
      return transport.writeSingle(unitId, op.address, op.value, timeoutMs).then(() => []);
    case 'bits':
      return transport.readBits(unitId, op.fc, op.address, op.count, timeoutMs);
    case 'coils':
      return transport.writeCoils(unitId, op.address, op.values, timeoutMs).then(() => []);
  }
}
