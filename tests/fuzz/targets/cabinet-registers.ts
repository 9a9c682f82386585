/**
 * Cabinet register decoding (docs/cabinet-register-map.md). Input bytes are read as 16-bit
 * words. Decoders may only refuse with DEVICE_PROTOCOL; every decoded identity, status and
 * port reading encodes back to words that decode to the same value; control writes decode to
 * a command or an exception, never a throw. First byte picks the decoder.
 */
import {
  decodeCabinetControl,
  decodeIdentity,
  decodePoll,
  decodePort,
  decodePortControl,
  decodeStatus,
  encodeIdentity,
  encodePort,
  encodeStatus,
  pollPlan,
} from '../../../drivers/cabinet/registers.js';
import { expectCoded, hex, invariant, sameValue, type FuzzTarget } from '../target.js';

const PORT3 = '0002 0222 0140 00AF 0001 1170 013B 1234 5678 0000 0190 0000 0000 0000 0000 0000';
const CAB = '0900 0001 FFC9 0000 0000 0001 0001 0001 86A0 0000 0000 0000 0000 0000 0000 0000';
const IDENT = `4743 0001 0000 000C 4143 4D45 0000 0000 0000 0000 0000 0000 4542 432D 3132 0000 0000 0000 0000 0000
  534E 3030 3031 0000 0000 0000 0000 0000 322E 342E 3100 0000`;
const words = (b: Uint8Array): number[] => Array.from({ length: b.length >> 1 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);

export const target: FuzzTarget = {
  name: 'cabinet-registers',
  // The register map's worked examples (docs/cabinet-register-map.md, tests/unit/cabinet-registers.test.ts).
  seeds: () => [
    Uint8Array.of(0, 0, ...hex(IDENT)),
    Uint8Array.of(1, 0, ...hex(CAB)),
    Uint8Array.of(2, 2, ...hex(PORT3)),
    Uint8Array.of(3, 1, ...hex(CAB + PORT3)),
    Uint8Array.of(4, 0, 1),
    Uint8Array.of(5, 3, ...hex('0001 0000 003C 0000')),
  ],
  fuzz(d) {
    if (d.length < 2) return;
    const w = words(d.subarray(2));
    const arg = d[1]!;
    switch (d[0]! % 6) {
      case 0: {
        const id = expectCoded(['DEVICE_PROTOCOL'], () => decodeIdentity(w));
        if (id) sameValue(decodeIdentity(encodeIdentity(id)), id, 'identity round trip');
        return;
      }
      case 1: {
        const s = expectCoded(['DEVICE_PROTOCOL'], () => decodeStatus(w));
        if (s) sameValue(decodeStatus(encodeStatus(s)), s, 'status round trip');
        return;
      }
      case 2: {
        const p = expectCoded(['DEVICE_PROTOCOL'], () => decodePort(w, 1 + (arg % 24)));
        if (p) sameValue(decodePort(encodePort(p), 1 + (arg % 24)), p, 'port round trip');
        return;
      }
      case 3: {
        const ports = 1 + (arg % 24);
        const plan = pollPlan(ports);
        let at = 0;
        const answers = plan.map((r) => w.slice(at, (at += r.count)));
        const poll = expectCoded(['DEVICE_PROTOCOL'], () => decodePoll(ports, answers));
        if (poll) invariant(poll.ports.length === ports, 'one reading per port');
        return;
      }
      case 4: {
        const c = decodeCabinetControl(((arg << 8) | (d[2] ?? 0)) & 0xffff);
        invariant(typeof c.ok === 'boolean', 'control decodes to a command or an exception');
        return;
      }
      default: {
        const c = decodePortControl(arg % 30, w);
        invariant(typeof c.ok === 'boolean', 'port control decodes to a command or an exception');
      }
    }
  },
  maxLength: 600,
};
