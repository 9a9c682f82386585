/**
 * ffmpeg for the camera tests: fail loudly when it is missing (a skipped video test proves
 * nothing), and find processes by a unique marker in their command line so a test can
 * prove that none of its ffmpegs outlived it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const FFMPEG = process.env.GATEHOUSE_FFMPEG ?? '/usr/bin/ffmpeg';
export const FFPROBE = process.env.GATEHOUSE_FFPROBE ?? '/usr/bin/ffprobe';

export function requireFfmpeg(): void {
  for (const bin of [FFMPEG, FFPROBE]) {
    if (!existsSync(bin)) {
      throw new Error(
        `${bin} is not installed. The camera tests need a real ffmpeg: install it with \`sudo apt-get install -y ffmpeg\` (the .ci/run script does), or point GATEHOUSE_FFMPEG/GATEHOUSE_FFPROBE at the binaries.`,
      );
    }
  }
}

/** PIDs whose command line contains `marker` (pgrep -f), excluding pgrep itself. */
export function pgrep(marker: string): number[] {
  const r = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => p !== r.pid);
}

/** Unique per test file and run, so parallel files never see each other's processes. */
export function uniqueMarker(name: string): string {
  return `gh-test-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
