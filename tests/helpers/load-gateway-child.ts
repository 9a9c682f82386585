/**
 * A load-gateway.js child process (the crash test and the kill soak): spawns it and follows
 * its stdout protocol ("broker N", "ready", "acked N"); stderr is kept, bounded, for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from './cli.js';

export const LOAD_GATEWAY_SCRIPT = resolve(ROOT, 'dist/tests/helpers/load-gateway.js');

export interface LoadGatewayChild {
  proc: ChildProcess;
  acked: number;
  ready: boolean;
  /** The embedded broker's port (`broker N`), 0 until printed. */
  brokerPort: number;
  stderr: string;
}

export function startLoadGateway(env: Record<string, string>): LoadGatewayChild {
  const proc = spawn(process.execPath, [LOAD_GATEWAY_SCRIPT], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const child: LoadGatewayChild = { proc, acked: 0, ready: false, brokerPort: 0, stderr: '' };
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') child.ready = true;
      else if (line.startsWith('acked ')) child.acked = Math.max(child.acked, Number(line.slice(6)));
      else if (line.startsWith('broker ')) child.brokerPort = Number(line.slice(7));
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (child.stderr = (child.stderr + d.toString()).slice(-20_000)));
  return child;
}
