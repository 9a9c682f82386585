/**
 * The simulated Modbus units answer a request they cannot serve alike on both transports
 * (issue 13): exception 01 for a function code the map does not have (FC 43 read device
 * identification, FC 0x41) and exception 03 for a quantity outside the limits (a write of 0
 * registers, a read of 0 or 126). Raw bytes over a real TCP socket and over a socat pty, decoded by
 * the test, so the RTU line's framing of unknown requests is what is checked.
 */
import { createConnection, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtuDeframer, frameRtu } from '../../drivers/modbus/rtu-frame.js';
import { TcpDeframer, frameTcp } from '../../drivers/modbus/tcp-frame.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** Request PDU -> the exception PDU the map says a cabinet answers. */
const CASES: [string, Buffer, Buffer][] = [
  ['FC 43 (read device identification)', h('2B 0E 01 00'), h('AB 01')],
  ['FC 0x41 (user-defined)', h('41 00 00 00 01'), h('C1 01')],
  ['FC 16 with quantity 0', h('10 10 00 00 00 00'), h('90 03')],
  ['FC 16 with quantity 124 (above the 123 limit)', Buffer.concat([h('10 11 00 00 7C F6'), Buffer.alloc(246)]), h('90 03')],
  ['FC 03 with quantity 0', h('03 10 00 00 00'), h('83 03')],
  ['FC 04 with quantity 126', h('04 00 F0 00 7E'), h('84 03')],
];

describe('simulated units answer unsupported requests alike over TCP and RTU', () => {
  let sims: SimulatedCabinets;
  let pty: PtyPair;
  let tcp: Socket;
  let serial: SerialPort;
  const tcpAnswers: Buffer[] = [];
  /** Raw bytes from the RTU line: an exception to an unknown function code is not something a length-driven deframer can frame. */
  let rtuBytes = Buffer.alloc(0);

  beforeAll(async () => {
    pty = await createPtyPair();
    sims = await startSimulatedCabinets({
      tcp: [{ id: 'tcp-cab', ports: 4, port: 0, host: '127.0.0.1' }],
      rtu: { path: pty.b, baudRate: 115_200, units: [{ id: 'rtu-cab', unitId: 5, ports: 4 }] },
      tickMs: 0,
    });
    tcp = createConnection({ host: '127.0.0.1', port: sims.tcpPort('tcp-cab') });
    await new Promise<void>((r) => tcp.once('connect', () => r()));
    const td = new TcpDeframer();
    tcp.on('data', (b: Buffer) => {
      for (const f of td.push(b)) tcpAnswers.push(f.pdu);
    });
    serial = new SerialPort({ path: pty.a, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => serial.open((e) => (e ? reject(e) : resolve())));
    serial.on('data', (b: Buffer) => (rtuBytes = Buffer.concat([rtuBytes, b])));
  });

  afterAll(async () => {
    tcp?.destroy();
    if (serial?.isOpen) await new Promise((r) => serial.close(r));
    await sims?.stop();
    await pty?.stop();
  });

  for (const [what, request, exception] of CASES) {
    it(what, async () => {
      const t = tcpAnswers.length;
      tcp.write(frameTcp(7, 1, request));
      const overTcp = await waitFor(() => tcpAnswers[t], 'the TCP answer', 3000);
      expect(overTcp.toString('hex')).toBe(exception.toString('hex'));

      rtuBytes = Buffer.alloc(0);
      serial.write(frameRtu(5, request));
      await waitFor(() => rtuBytes.length >= 5, 'the RTU answer', 3000);
      // The whole answer frame: unit 5, the exception PDU, its CRC.
      expect(rtuBytes.toString('hex')).toBe(frameRtu(5, exception).toString('hex'));
    });
  }

  it('a good request right after an unknown one is still answered on the RTU line', async () => {
    rtuBytes = Buffer.alloc(0);
    serial.write(frameRtu(5, h('2B 0E 01 00')));
    await waitFor(() => rtuBytes.length >= 5, 'exception for FC 43', 3000);
    rtuBytes = Buffer.alloc(0);
    serial.write(frameRtu(5, h('04 00 00 00 01')));
    await waitFor(() => rtuBytes.length >= 7, 'the signature read', 3000);
    expect(rtuBytes.toString('hex')).toBe(frameRtu(5, h('04 02 47 43')).toString('hex'));
    const rd = new RtuDeframer('response');
    expect(rd.push(rtuBytes)[0]!.pdu.toString('hex')).toBe('04024743');
  });
});
