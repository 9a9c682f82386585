/**
 * No orphaned ffmpeg when the daemon is SIGKILLed: a child process starts the simulator's
 * RTSP stream and a live-view stream (two ffmpegs, each behind the stdin-pipe watchdog of
 * gateway/cameras/ffmpeg-process.ts), is killed with SIGKILL (no handler of it can run),
 * and no process carrying the test's unique marker may remain. One of the ffmpegs never
 * writes to its stdout, so a broken pipe cannot be what ends it: only the watchdog can.
 */
import { afterAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { requireBuild, ROOT } from '../helpers/cli.js';
import { pgrep, requireFfmpeg, uniqueMarker } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

const MARKER = uniqueMarker('orphan');

afterAll(async () => {
  const left = pgrep(MARKER);
  for (const pid of left)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  expect(left, 'ffmpeg processes left behind').toEqual([]);
});

it('a SIGKILLed daemon leaves no ffmpeg behind', async () => {
  requireFfmpeg();
  requireBuild();
  const child = spawn(process.execPath, [resolve(ROOT, 'dist/tests/helpers/live-view-child.js'), MARKER], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    () => out.includes('READY'),
    'the child to stream MPEG-TS',
    30_000,
    () => out,
  );
  // The publisher and the live-view ffmpeg, each with its sh wrapper and watcher.
  const running = pgrep(MARKER);
  expect(running.length).toBeGreaterThanOrEqual(4);
  expect(pgrep(`${MARKER}:gate`).length).toBeGreaterThanOrEqual(2);
  expect(pgrep(`${MARKER}-silent`).length).toBeGreaterThanOrEqual(2);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // The watchdog reacts to EOF at once; ffmpeg takes a moment to end (SIGKILL after 2 s at worst).
  await waitFor(
    () => pgrep(MARKER).length === 0,
    'every ffmpeg of the killed child to end',
    6000,
    () => pgrep(MARKER),
  );
});
