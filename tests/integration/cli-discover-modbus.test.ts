/**
 * `gatehouse discover --modbus` through the real CLI against simulated units on real
 * transports: a socat pty pair as the RS-485 line (two cabinets and an input module sharing
 * it, one dead unit), and Modbus TCP servers. The YAML it prints is pasted into a compound
 * file that `gatehouse check` accepts; Ctrl-C mid-scan prints what was found so far.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { realTimers } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { silentLogger } from '../../gateway/core/log.js';
import type { ModbusRequest, ModbusResponse } from '../../drivers/modbus/pdu.js';
import { ModbusRtuLine, ModbusTcpServer, type SimModbusUnit } from '../../sim/modbus/servers.js';
import { SimCabinet } from '../../sim/cabinet/sim-cabinet.js';
import { SimInputModule } from '../../sim/perimeter/sim-module.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const log = silentLogger();
const children: ChildProcess[] = [];
const stops: (() => Promise<void>)[] = [];
let pty: PtyPair | undefined;
let dir: string | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  for (const s of stops.splice(0)) await s();
  await pty?.stop();
  pty = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A Modbus device of another maker: it answers, but every request with exception 01. */
class ForeignUnit implements SimModbusUnit {
  readonly id = 'foreign';
  dead = false;
  corruptNext = 0;
  slowMs = 0;
  handle(req: ModbusRequest): ModbusResponse {
    throw new GatehouseError('DEVICE_PROTOCOL', `FC ${req.fc} not served`, { exception: 1 });
  }
}

async function rtuLine(units: [number, SimModbusUnit][], baudRate = 19_200): Promise<PtyPair> {
  pty = await createPtyPair();
  const line = new ModbusRtuLine({ path: pty.b, baudRate, timers: realTimers, log });
  for (const [id, u] of units) line.attach(id, u);
  await line.start();
  stops.push(() => line.stop());
  return pty;
}

async function scan(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawnCli(['discover', '--modbus', ...args]);
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, out, err };
}

function yamlPart(out: string): Record<string, unknown[]> {
  const at = out.indexOf('# For the compound file');
  expect(at).toBeGreaterThan(0);
  return parseYaml(out.slice(at)) as Record<string, unknown[]>;
}

describe('gatehouse discover --modbus on an RS-485 line', () => {
  it('finds exactly the three live units (not the dead one), with progress lines, and prints YAML check accepts', async () => {
    const dead = new SimCabinet({ id: 'dead', ports: 4 });
    dead.dead = true;
    const p = await rtuLine([
      [3, new SimCabinet({ id: 'c3', ports: 12, vendor: 'ACME', model: 'EBC-12', serial: 'SN-0003', firmware: '2.4.1' })],
      [5, dead],
      [7, new SimInputModule({ id: 'm7', channels: 8, coils: 4 })],
      [12, new SimCabinet({ id: 'c12', ports: 8, vendor: 'ACME', model: 'EBC-8', serial: 'SN-0012' })],
    ]);
    const r = await scan([p.a, '--baud', '19200', '--units', '1-16', '--timeout', '300']);
    expect(r.err).not.toMatch(/Error|at .*\.js:\d+/);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').filter((l) => /^unit +\d+ /.test(l));
    expect(lines).toEqual([
      expect.stringMatching(
        /^unit +3 +Gatehouse cabinet: vendor ACME model EBC-12 serial SN-0003 firmware 2\.4\.1, 12 ports, register map 1\.0$/,
      ),
      expect.stringMatching(/^unit +7 +input module: 8 discrete inputs, 4 coils \(outputs\)$/),
      expect.stringMatching(/^unit +12 +Gatehouse cabinet: vendor ACME model EBC-8 serial SN-0012 .*8 ports/),
    ]);
    expect(r.out).toMatch(/^3 unit\(s\) found on .* at 19200 baud 8N1$/m);
    // Not a terminal: plain progress lines on stderr, each tenth and each unit found.
    expect(r.err).not.toContain('\r');
    expect(r.err).toMatch(/^scanning Modbus unit ids 1-16 on /m);
    expect(r.err).toMatch(/^scanned 2\/16 unit ids \(12%\), 0 found, about \d+ s left$/m);
    expect(r.err).toMatch(/^found: unit 7: input module: 8 discrete inputs/m);
    expect(r.err).toMatch(/^scanned 16\/16 unit ids \(100%\), 3 found$/m);

    const yaml = yamlPart(r.out);
    expect(yaml.cabinets).toEqual([
      { id: 'cabinet-3', name: 'ACME EBC-12 SN-0003', bus: { rtu: { path: p.a, baudRate: 19200 } }, unitId: 3, ports: 12 },
      { id: 'cabinet-12', name: 'ACME EBC-8 SN-0012', bus: { rtu: { path: p.a, baudRate: 19200 } }, unitId: 12, ports: 8 },
    ]);
    expect(yaml.inputModules).toEqual([
      { id: 'module-7', bus: { rtu: { path: p.a, baudRate: 19200 } }, unitId: 7, channels: 8, outputs: { address: 0, count: 4 } },
    ]);
    // Pasted under a compound's ids, it is a file the gateway accepts.
    dir = mkdtempSync(join(tmpdir(), 'gh-disc-'));
    const at = r.out.indexOf('# For the compound file');
    writeFileSync(join(dir, 'c.yaml'), `compound: { id: c1 }\ngateway: { id: gw-1 }\n${r.out.slice(at)}`);
    const check = runCli(['check', '--config', join(dir, 'c.yaml'), '--data', join(dir, 'data')]);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  }, 60_000);

  it('takes --parity (8E1 in the report and the YAML) and lists a unit of another maker as present but not ours', async () => {
    const p = await rtuLine([
      [2, new ForeignUnit()],
      [4, new SimInputModule({ id: 'm4', channels: 16, coils: 2 })],
    ]);
    const r = await scan([p.a, '--baud', '19200', '--parity', 'even', '--units', '1-5', '--timeout', '300']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^unit +2 +present but not ours: not a Gatehouse cabinet \(exception 01\) and no discrete inputs at 0$/m);
    expect(r.out).toMatch(/^unit +4 +input module: 16 discrete inputs, 2 coils/m);
    expect(r.out).toMatch(/2 unit\(s\) found on .* at 19200 baud 8E1/);
    expect(r.out).toMatch(/^# unit 2: present but not ours/m);
    expect(yamlPart(r.out).inputModules).toEqual([
      {
        id: 'module-4',
        bus: { rtu: { path: p.a, baudRate: 19200, parity: 'even' } },
        unitId: 4,
        channels: 16,
        outputs: { address: 0, count: 2 },
      },
    ]);
  }, 60_000);

  it('Ctrl-C mid-scan stops cleanly and prints the units found so far', async () => {
    const p = await rtuLine([[2, new SimCabinet({ id: 'c2', ports: 6, vendor: 'ACME', model: 'EBC-6', serial: 'SN-0002' })]]);
    const child = spawnCli(['discover', '--modbus', p.a, '--baud', '19200', '--timeout', '200']);
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((r) => child.on('exit', r));
    await waitFor(
      () => /^found: unit 2: Gatehouse cabinet/m.test(err),
      'the scan to find unit 2',
      20_000,
      () => err,
    );
    child.kill('SIGINT');
    const code = await exit;
    expect(code).toBe(1);
    expect(err).toMatch(/stopping after the unit being asked \(Ctrl-C again: at once\)/);
    expect(err).toMatch(/interrupted after \d+ of 247 unit ids/);
    expect(err).not.toMatch(/Error|at .*\.js:\d+/);
    expect(out).toMatch(/^unit +2 +Gatehouse cabinet: vendor ACME model EBC-6 serial SN-0002/m);
    expect(out).toMatch(/^1 unit\(s\) found on .* \(scan interrupted at unit id \d+\)$/m);
    const scanned = Number(/interrupted after (\d+) of 247/.exec(err)![1]);
    expect(scanned).toBeLessThan(247);
    expect(yamlPart(out).cabinets).toHaveLength(1);
  }, 60_000);
});

describe('gatehouse discover --modbus tcp://HOST:PORT', () => {
  it('identifies a cabinet behind a Modbus TCP endpoint (one device, though it answers every unit id)', async () => {
    const server = new ModbusTcpServer(new SimCabinet({ id: 'tc', ports: 10, vendor: 'ACME', model: 'EBC-10', serial: 'SN-TCP1' }), {
      port: 0,
      timers: realTimers,
      log,
    });
    const port = await server.start();
    stops.push(() => server.stop());
    const r = await scan([`tcp://127.0.0.1:${port}`, '--units', '1-8', '--timeout', '2000']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter((l) => /^unit /.test(l))).toEqual([
      expect.stringMatching(/^unit +1 +Gatehouse cabinet: vendor ACME model EBC-10 serial SN-TCP1 .*10 ports/),
    ]);
    expect(yamlPart(r.out).cabinets).toEqual([
      { id: 'cabinet-1', name: 'ACME EBC-10 SN-TCP1', bus: { tcp: { host: '127.0.0.1', port } }, unitId: 1, ports: 10 },
    ]);
    expect(r.err).toMatch(/^scanned 8\/8 unit ids \(100%\), 8 found$/m);
  }, 60_000);

  it('says so (exit 1) when nothing listens, and refuses bad arguments (exit 2)', async () => {
    const server = new ModbusTcpServer(new SimCabinet({ id: 'x', ports: 1 }), { port: 0, timers: realTimers, log });
    const port = await server.start();
    await server.stop();
    const r = await scan([`tcp://127.0.0.1:${port}`, '--units', '1-2']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot open tcp:\/\/127\.0\.0\.1:\d+: .*is the address right/);
    expect((await scan(['/dev/null', '--parity', 'mark'])).code).toBe(2);
    expect((await scan(['/dev/null', '--units', '0-300'])).err).toMatch(/--units must be FROM-TO within 1-247/);
  }, 60_000);
});
