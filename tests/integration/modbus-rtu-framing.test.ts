/**
 * Parity and stop bits of an RTU line (issue 13), from the compound file to the serial port:
 * a cabinet configured 8N1, 8E1, 8O1 or 8N2 is opened by the gateway's ModbusBus on one end
 * of a socat pty pair, the test opens the other end with the same framing (serialport), reads
 * the termios the gateway's open left on its end with `stty -F`, and decodes the FC 06 frame
 * of a power cut from the bytes, answering it like a cabinet.
 *
 * What a pty can prove (Linux): it carries bytes, not bits, so a parity error can never
 * happen on it. Its termios keeps PARODD and CSTOPB as set, which shows the configured
 * framing reached the port (8O1 and 8N2 read back as set, 8N1/8E1 not). PARENB itself is
 * dropped by the pty driver of current kernels (it reads back -parenb whatever was asked):
 * 8E1 versus 8N1 can only be told apart on a real UART, so for 8E1 the test checks what the
 * pty keeps and that the frame decodes on an 8E1-opened reader.
 */
import { execFileSync } from 'node:child_process';
import { pino } from 'pino';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { CabinetConfig } from '../../config/schema.js';
import { CABINET_CONTROL } from '../../drivers/cabinet/register-map.js';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { decodeRequestPdu, encodeResponsePdu } from '../../drivers/modbus/pdu.js';
import { RtuDeframer, frameRtu } from '../../drivers/modbus/rtu-frame.js';
import { transportFor } from '../../gateway/charging/cabinet-service.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const log = pino({ level: 'silent' });

/** The termios flags of a tty, read back as stty prints them (`-parenb`, `parodd`...). */
function termios(path: string): Set<string> {
  return new Set(
    execFileSync('stty', ['-F', path, '-a'], { encoding: 'utf8' })
      .split(/[\s;]+/)
      .filter(Boolean),
  );
}

const FRAMINGS = [
  { name: '8N1', parity: 'none', stopBits: 1, expect: ['-parodd', '-cstopb', 'cs8'] },
  { name: '8E1', parity: 'even', stopBits: 1, expect: ['-parodd', '-cstopb', 'cs8'] },
  { name: '8O1', parity: 'odd', stopBits: 1, expect: ['parodd', '-cstopb', 'cs8'] },
  { name: '8N2', parity: 'none', stopBits: 2, expect: ['-parodd', 'cstopb', 'cs8'] },
] as const;

describe('RTU line framing from the compound file to the pty', () => {
  let pty: PtyPair | undefined;
  let bus: ModbusBus | undefined;
  let peer: SerialPort | undefined;

  afterEach(async () => {
    await bus?.stop();
    if (peer?.isOpen) await new Promise((r) => peer!.close(r));
    await pty?.stop();
    bus = undefined;
    peer = undefined;
    pty = undefined;
  });

  for (const f of FRAMINGS) {
    it(`${f.name}: the gateway opens the line with it, and a cabinet end opened ${f.name} decodes the power cut (FC 06)`, async () => {
      pty = await createPtyPair();
      const cfg = CabinetConfig.parse({
        id: 'cab',
        bus: { rtu: { path: pty.a, baudRate: 19_200, parity: f.parity, stopBits: f.stopBits } },
        ports: 4,
      });
      bus = new ModbusBus({
        transport: transportFor(cfg),
        timeoutMs: 1000,
        retries: 0,
        clock: systemClock({ forceState: 'synced' }),
        timers: realTimers,
        log,
      });
      bus.start();
      await waitFor(() => bus!.isUp(), 'the gateway opened its end');

      const flags = termios(pty.a);
      for (const flag of f.expect) expect(flags, `${f.name} on the gateway's end: ${flag}`).toContain(flag);
      expect(flags).toContain('19200');

      peer = new SerialPort({ path: pty.b, baudRate: 19_200, dataBits: 8, parity: f.parity, stopBits: f.stopBits, autoOpen: false });
      await new Promise<void>((resolve, reject) => peer!.open((e) => (e ? reject(e) : resolve())));
      const deframer = new RtuDeframer('request');
      const frames: { unit: number; pdu: Buffer }[] = [];
      peer.on('data', (b: Buffer) => {
        for (const fr of deframer.push(b)) {
          frames.push(fr);
          const req = decodeRequestPdu(fr.pdu);
          if (req.fc === 6) peer!.write(frameRtu(fr.unit, encodeResponsePdu({ fc: 6, address: req.address, value: req.value })));
        }
      });
      await bus.writeSingle(7, CABINET_CONTROL.address, CABINET_CONTROL.powerCut);
      expect(frames).toHaveLength(1);
      expect(frames[0]!.unit).toBe(7);
      expect(decodeRequestPdu(frames[0]!.pdu)).toEqual({ fc: 6, address: 0x1000, value: 1 });
      expect(deframer.stats.crcErrors).toBe(0);
    });
  }
});
