/**
 * `gatehouse check` on RTU framing (issue 13): parity and stop bits are keys of an RTU line;
 * a framing Modbus does not have, or two devices on one line that disagree, are errors that
 * name the file, the line and the key before anything starts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const head = 'compound: { id: c }\ngateway: { id: g }\n';

describe('gatehouse check: RTU parity and stop bits', () => {
  it('accepts 8E1 and 8N2 lines, refuses 8E2 and two framings on one path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cli-framing-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      `${head}cabinets:\n  - { id: a, bus: { rtu: { path: /dev/ttyUSB0, parity: even } }, ports: 4 }\n  - { id: b, bus: { rtu: { path: /dev/ttyUSB1, stopBits: 2 } }, ports: 4 }\n`,
    );
    const ok = runCli(['check', '--config', good, '--data', join(dir, 'data')]);
    expect(ok.status, ok.stderr).toBe(0);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `${head}cabinets:\n  - { id: a, bus: { rtu: { path: /dev/ttyUSB0, parity: even, stopBits: 2 } }, ports: 4 }\n`);
    const r = runCli(['check', '--config', bad, '--data', join(dir, 'data')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /bad\.yaml:4 cabinets\[0\]\.bus\.rtu\.stopBits: parity with 2 stop bits is not a Modbus framing; use one of 8N1, 8E1, 8O1, 8N2/,
    );

    const mixed = join(dir, 'mixed.yaml');
    writeFileSync(
      mixed,
      `${head}cabinets:\n  - { id: a, bus: { rtu: { path: /dev/ttyUSB0, parity: even } }, ports: 4, unitId: 1 }\n  - { id: b, bus: { rtu: { path: /dev/ttyUSB0 } }, ports: 4, unitId: 2 }\n`,
    );
    const m = runCli(['check', '--config', mixed, '--data', join(dir, 'data')]);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(
      /\/dev\/ttyUSB0 is opened at 115200 8E1 for cabinets\[0\]; every device on one line must use the same baud rate and framing \(here 115200 8N1\)/,
    );
  });
});
