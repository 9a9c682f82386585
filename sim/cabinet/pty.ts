/**
 * A pseudo-terminal pair made by socat: two serial device paths joined back to back, the
 * stand-in for an RS-485 line (the gateway opens one end, the simulated units share the
 * other). Fails loudly when socat is missing: a skipped serial test proves nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOCAT_BIN = process.env.GATEHOUSE_SOCAT ?? '/usr/bin/socat';

export function requireSocat(bin: string = SOCAT_BIN): string {
  if (!existsSync(bin)) {
    throw new Error(
      `socat is not installed at ${bin}. The RS-485 bus is simulated with a socat pseudo-terminal pair: ` +
        'install it with `sudo apt-get install -y socat` (the .ci/run script does), or point GATEHOUSE_SOCAT at the binary.',
    );
  }
  return bin;
}

export interface PtyPair {
  /** The master end (the gateway opens it). */
  a: string;
  /** The slave end (the simulated units share it). */
  b: string;
  stop(): Promise<void>;
}

export async function createPtyPair(opts: { dir?: string; timeoutMs?: number } = {}): Promise<PtyPair> {
  const bin = requireSocat();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gatehouse-pty-'));
  const a = join(dir, 'bus-a');
  const b = join(dir, 'bus-b');
  const child = spawn(bin, ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited: number | null | undefined;
  const exit = new Promise<void>((r) =>
    child.once('exit', (code) => {
      exited = code;
      r();
    }),
  );
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  // socat logs "starting data transfer loop" once both ends exist.
  while (!(existsSync(a) && existsSync(b) && stderr.includes('starting data transfer loop'))) {
    if (exited !== undefined) throw new Error(`socat exited (${exited}) before creating the pty pair:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`socat did not create ${a} and ${b} within ${opts.timeoutMs ?? 5000} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    a,
    b,
    async stop() {
      if (exited === undefined) {
        child.kill('SIGTERM');
        await Promise.race([exit, new Promise((r) => setTimeout(r, 2000))]);
        if (exited === undefined) child.kill('SIGKILL');
      }
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
