/**
 * `gatehouse discover --modbus PATH|tcp://HOST:PORT`: which Modbus units answer on an RS-485
 * line (or behind a Modbus TCP endpoint), what they are, and the YAML to paste into the
 * compound file. Progress goes to stderr (a bar on a terminal, plain lines otherwise), the
 * results and the YAML to stdout. Ctrl-C stops after the unit being asked and prints what
 * was found so far.
 *
 * Exit status: 0 when the scan finished and found a unit, 1 when it found none, could not
 * open the line or was interrupted, 2 for bad arguments.
 */
import { systemClock } from '../core/clock.js';
import { scanUnits, type ScannedUnit } from '../../drivers/modbus/scan.js';
import { ModbusSerialTransport, type TransportConfig } from '../../drivers/modbus/transport.js';
import { ScanProgress, formatSeconds, type ProgressOut } from './progress.js';

export interface DiscoverModbusArgs {
  target: string;
  baud?: string;
  parity?: string;
  units?: string;
  timeout?: string;
}

export interface DiscoverIo {
  stdout: ProgressOut;
  stderr: ProgressOut;
}

const PARITIES = ['none', 'even', 'odd'] as const;
type Parity = (typeof PARITIES)[number];

/** Wire time of `chars` characters (start + 8 data + parity or stop + stop) at `baud`. */
const wireMs = (chars: number, baud: number) => Math.ceil(((chars * 11) / baud) * 1000);

export async function discoverModbus(
  a: DiscoverModbusArgs,
  io: DiscoverIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const fail = (msg: string) => {
    io.stderr.write(`gatehouse discover: ${msg}\n`);
    return 2;
  };
  const tcp = /^tcp:\/\/([^\s:/]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\/?$/.exec(a.target);
  const baud = a.baud === undefined ? 9600 : Number(a.baud);
  if (!Number.isInteger(baud) || baud < 1200 || baud > 921_600)
    return fail('--baud must be a whole number of baud, 1200-921600 (e.g. 9600, 19200, 115200)');
  const parity = (a.parity ?? 'none') as Parity;
  if (!PARITIES.includes(parity)) return fail('--parity must be even, none or odd');
  const m = /^(\d{1,3})-(\d{1,3})$/.exec(a.units ?? '1-247');
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (!m || from < 1 || from > to || to > 247) return fail('--units must be FROM-TO within 1-247, e.g. 1-32');
  // A silent id costs the probe timeout: short, but longer than a 1-register exchange on the wire.
  const probeDefault = tcp ? 300 : Math.max(100, 60 + 2 * wireMs(15, baud));
  const probeTimeoutMs = a.timeout === undefined ? probeDefault : Number(a.timeout);
  if (!Number.isInteger(probeTimeoutMs) || probeTimeoutMs < 10 || probeTimeoutMs > 10_000)
    return fail('--timeout must be milliseconds per unit id, 10-10000');
  // The identity block is 32 registers: 77 characters with the request.
  const readTimeoutMs = Math.max(probeTimeoutMs, tcp ? 500 : 100 + 2 * wireMs(77, baud));

  const cfg: TransportConfig = tcp
    ? { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]) }
    : { kind: 'rtu', path: a.target, baudRate: baud, parity, stopBits: 1, dataBits: 8 };
  const where = tcp ? a.target : `${a.target} at ${baud} baud 8${parity[0]!.toUpperCase()}1`;
  const transport = new ModbusSerialTransport(cfg);
  try {
    await transport.open();
  } catch (err) {
    io.stderr.write(
      `gatehouse discover: cannot open ${a.target}: ${(err as Error).message} ` +
        (tcp
          ? '(is the address right and the device on?)\n'
          : '(is the RS-485 adapter plugged in, and is the daemon stopped? it holds the line)\n'),
    );
    return 1;
  }
  const units = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  io.stderr.write(
    `scanning Modbus unit ids ${from}-${to} on ${where}, ${probeTimeoutMs} ms per silent id (about ${formatSeconds(Math.ceil((units.length * probeTimeoutMs) / 1000))} at most); Ctrl-C stops with what was found\n`,
  );
  const progress = new ScanProgress({ total: units.length, items: 'unit ids', out: io.stderr, clock: systemClock() });
  let interrupted = false;
  const onSigint = () => {
    // A second Ctrl-C does not wait for the unit being asked.
    if (interrupted) process.exit(1);
    progress.line('stopping after the unit being asked (Ctrl-C again: at once)…');
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  let result;
  try {
    result = await scanUnits(transport, {
      units,
      probeTimeoutMs,
      readTimeoutMs,
      stopped: () => interrupted,
      onUnit: (unitId, _i, unit) => progress.step(`unit ${unitId}`, unit ? `unit ${unitId}: ${describeUnit(unit)}` : undefined),
    });
  } catch (err) {
    progress.end();
    io.stderr.write(`gatehouse discover: the line went away during the scan (${(err as Error).message}); nothing more can be read\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await transport.close();
  }
  progress.end();
  const found = tcp ? collapseTcp(result.found, result.scanned) : result.found;
  if (result.interrupted)
    io.stderr.write(`interrupted after ${result.scanned} of ${units.length} unit ids: these are the units found so far\n`);
  for (const u of found) io.stdout.write(`unit ${String(u.unitId).padStart(3)}  ${describeUnit(u)}\n`);
  io.stdout.write(
    `${found.length} unit(s) found on ${where}${result.interrupted ? ` (scan interrupted at unit id ${from + result.scanned})` : ''}\n`,
  );
  const yaml = yamlFor(found, cfg);
  if (yaml) io.stdout.write(`\n# For the compound file (rename the ids, set names; zones go on the module channels):\n${yaml}`);
  return found.length && !result.interrupted ? 0 : 1;
}

export function describeUnit(u: ScannedUnit): string {
  if (u.kind === 'cabinet') {
    const i = u.identity;
    return `Gatehouse cabinet: vendor ${i.vendor} model ${i.model} serial ${i.serial} firmware ${i.firmware}, ${i.portCount} ports, register map ${i.mapVersion.major}.${i.mapVersion.minor}`;
  }
  if (u.kind === 'input-module')
    return `input module: ${u.channels} discrete inputs, ${u.coils ? `${u.coils} coils (outputs)` : 'no coils'}`;
  return `present but not ours: ${u.note}`;
}

/**
 * A Modbus TCP device that is not a gateway ignores the MBAP unit id (register map §1): it
 * answers every id alike. A cabinet is known by its serial number, so its other ids are
 * dropped; other devices only when every id asked answered the same.
 */
function collapseTcp(found: ScannedUnit[], scanned: number): ScannedUnit[] {
  const serials = new Set<string>();
  const unique = found.filter((u) => {
    if (u.kind !== 'cabinet') return true;
    const seen = serials.has(u.identity.serial);
    serials.add(u.identity.serial);
    return !seen;
  });
  if (unique.length < 2 || found.length !== scanned) return unique;
  const key = (u: ScannedUnit) => JSON.stringify({ ...u, unitId: 0 });
  return unique.every((u) => key(u) === key(unique[0]!)) ? [unique[0]!] : unique;
}

function yamlFor(found: ScannedUnit[], cfg: TransportConfig): string {
  const bus =
    cfg.kind === 'tcp'
      ? `{ tcp: { host: ${JSON.stringify(cfg.host)}, port: ${cfg.port} } }`
      : `{ rtu: { path: ${JSON.stringify(cfg.path)}, baudRate: ${cfg.baudRate}${cfg.parity && cfg.parity !== 'none' ? `, parity: ${cfg.parity}` : ''} } }`;
  const q = JSON.stringify;
  const cabinets = found.flatMap((u) =>
    u.kind === 'cabinet'
      ? [
          `  - { id: cabinet-${u.unitId}, name: ${q(`${u.identity.vendor} ${u.identity.model} ${u.identity.serial}`)}, bus: ${bus}, unitId: ${u.unitId}, ports: ${u.identity.portCount} }`,
        ]
      : [],
  );
  const modules = found.flatMap((u) =>
    u.kind === 'input-module'
      ? [
          `  - { id: module-${u.unitId}, bus: ${bus}, unitId: ${u.unitId}, channels: ${u.channels}${u.coils ? `, outputs: { address: 0, count: ${u.coils} }` : ''} }`,
        ]
      : [],
  );
  const others = found.flatMap((u) => (u.kind === 'other' ? [`# unit ${u.unitId}: present but not ours: ${u.note}`] : []));
  return [...(cabinets.length ? ['cabinets:', ...cabinets] : []), ...(modules.length ? ['inputModules:', ...modules] : []), ...others]
    .map((l) => `${l}\n`)
    .join('');
}
