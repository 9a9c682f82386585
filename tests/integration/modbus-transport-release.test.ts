/**
 * Issue 18: the modbus-serial transport lets go of each answer once the caller has it.
 * modbus-serial keeps a request's callback in its table of 256 transaction ids until the id
 * comes round again; through its promise form that callback held every answer for ~256
 * requests, which at 64 cabinets was 25 MB of heap and most full collections. Real Modbus TCP
 * (the cabinet simulator's server), real reads and writes; answers tracked with WeakRefs.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { CABINET } from '../../drivers/cabinet/register-map.js';
import { ModbusSerialTransport } from '../../drivers/modbus/transport.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('ModbusSerialTransport keeps no answer', () => {
  let sims: SimulatedCabinets | undefined;
  let transport: ModbusSerialTransport | undefined;
  afterEach(async () => {
    await transport?.close();
    await sims?.stop();
  });

  it('answers read over TCP are collectable once dropped (writes go the same way: cabinet-service tests)', async () => {
    sims = await startSimulatedCabinets({ tcp: [{ id: 'cab-1', ports: 4, port: 0, host: '127.0.0.1' }] });
    transport = new ModbusSerialTransport({ kind: 'tcp', host: '127.0.0.1', port: sims.tcpPort('cab-1') });
    await transport.open();
    // In a function of its own, so no local of this test's frame still holds the last answer.
    const readAll = async (t: ModbusSerialTransport): Promise<WeakRef<number[]>[]> => {
      const refs: WeakRef<number[]>[] = [];
      for (let i = 0; i < 40; i++) {
        const words = await t.read(1, 4, CABINET.address, CABINET.count, 1000);
        expect(words).toHaveLength(CABINET.count);
        refs.push(new WeakRef(words));
      }
      return refs;
    };
    const refs = await readAll(transport);
    // WeakRefs hold their target until the end of the job that created or read them.
    await new Promise<void>((r) => setImmediate(r));
    gc();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    expect(alive, 'answers still reachable after the reads returned and were dropped').toBe(0);
  });
});
