/**
 * Hang detection. The fuzz loop copies each input into shared memory and bumps a counter
 * before running it; this worker looks every 100 ms and, when the counter has not moved for
 * the timeout, saves the input that is stuck and kills the process: a regex gone
 * exponential or a loop that never ends is a finding, and the main thread cannot report it
 * itself while it is stuck.
 */
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';

const { shared, timeoutMs, artifacts, target } = workerData as {
  shared: SharedArrayBuffer;
  timeoutMs: number;
  artifacts: string;
  target: string;
};
const header = new Int32Array(shared, 0, 2);
const bytes = new Uint8Array(shared, 8);
let lastCount = -1;
let since = Date.now();

setInterval(() => {
  const count = Atomics.load(header, 0);
  if (count !== lastCount) {
    lastCount = count;
    since = Date.now();
    return;
  }
  if (count < 0 || Date.now() - since < timeoutMs) return; // < 0: between targets / done
  const input = bytes.slice(0, Atomics.load(header, 1));
  mkdirSync(artifacts, { recursive: true });
  const file = join(artifacts, `timeout-${createHash('sha1').update(input).digest('hex')}`);
  writeFileSync(file, input);
  // fd 2 directly: a worker's process.stderr goes through the main thread, which is stuck.
  writeSync(2, `FUZZ-TIMEOUT ${target}: one input ran longer than ${timeoutMs} ms; saved to ${file}\n`);
  process.kill(process.pid, 'SIGKILL');
}, 100);
