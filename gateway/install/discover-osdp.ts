/**
 * `gatehouse discover --osdp PATH`: the OSDP readers on an RS-485 line with their identity.
 * Progress on stderr (the shared scan display: a bar on a terminal, plain lines otherwise),
 * the readers on stdout; Ctrl-C stops after the address being asked with what was found.
 * Exit status: 0 readers found, 1 none (or the line cannot be opened, or interrupted), 2 bad arguments.
 */
import { realTimers, systemClock } from '../core/clock.js';
import type { FoundReader } from '../../drivers/osdp/discover.js';
import { ScanProgress } from './progress.js';

const BAUDS = [9600, 19_200, 38_400, 57_600, 115_200, 230_400];

function describeReader(r: FoundReader): string {
  const id = r.identity;
  return id ? `vendor ${id.vendor} model ${id.model} version ${id.version} serial ${id.serial} firmware ${id.firmware}` : (r.note ?? '');
}

export async function discoverOsdp(path: string, baudRate: number, range: string | undefined): Promise<number> {
  const m = /^(\d{1,3})-(\d{1,3})$/.exec(range ?? '0-126');
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (!m || from > to || to > 126) {
    process.stderr.write('gatehouse discover: --addresses must be FROM-TO within 0-126, e.g. 1-16\n');
    return 2;
  }
  if (!BAUDS.includes(baudRate)) {
    process.stderr.write(`gatehouse discover: --baud must be one of ${BAUDS.join(', ')}\n`);
    return 2;
  }
  const { discoverReaders } = await import('../../drivers/osdp/discover.js');
  const { SerialOsdpLine } = await import('../../drivers/osdp/line.js');
  const line = new SerialOsdpLine(path, baudRate);
  try {
    await line.open();
  } catch (err) {
    process.stderr.write(
      `gatehouse discover: cannot open ${path}: ${(err as Error).message} (is the RS-485 adapter plugged in, and is the daemon stopped? it holds the line)\n`,
    );
    return 1;
  }
  const addresses = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  process.stderr.write(`scanning OSDP addresses ${from}-${to} on ${path} at ${baudRate} baud; Ctrl-C stops with what was found\n`);
  const progress = new ScanProgress({ total: addresses.length, items: 'addresses', out: process.stderr, clock: systemClock() });
  let interrupted = false;
  const onSigint = () => {
    // A second Ctrl-C does not wait for the address being asked.
    if (interrupted) process.exit(1);
    progress.line('stopping after the address being asked (Ctrl-C again: at once)…');
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  let found: FoundReader[];
  try {
    // 100 ms per silent address: a PDID reply takes ~30 ms on the wire even at 9600 baud.
    found = await discoverReaders(line, {
      timers: realTimers,
      replyTimeoutMs: 100,
      addresses,
      stopped: () => interrupted,
      onAddress: (address, r) => progress.step(`address ${address}`, r ? `address ${address}: ${describeReader(r)}` : undefined),
    });
  } finally {
    process.off('SIGINT', onSigint);
    progress.end();
    await line.close();
  }
  if (interrupted) process.stderr.write('interrupted: these are the readers found so far\n');
  for (const r of found) process.stdout.write(`address ${String(r.address).padStart(3)}  ${describeReader(r)}\n`);
  process.stdout.write(`${found.length} reader(s) found${interrupted ? ' (scan interrupted)' : ''}\n`);
  return found.length && !interrupted ? 0 : 1;
}
