/**
 * The picture the simulated cameras serve as their snapshot: a real 320x240 JPEG made once
 * per process with ffmpeg's test pattern, so the driver and the media store handle what a
 * camera sends, not a hand-made byte string. ffmpeg is required (live view needs it too):
 * without it the simulator refuses to start instead of serving something that is not a JPEG.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const FFMPEG = '/usr/bin/ffmpeg';

let cached: Buffer | undefined;

export function testJpeg(ffmpeg = FFMPEG): Buffer {
  if (cached) return cached;
  if (!existsSync(ffmpeg))
    throw new Error(`camera simulator: ${ffmpeg} is missing; install ffmpeg (apt-get install ffmpeg) to generate the snapshot JPEG`);
  const out = execFileSync(
    ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240',
      '-frames:v',
      '1',
      '-f',
      'image2',
      '-c:v',
      'mjpeg',
      '-',
    ],
    { maxBuffer: 4 * 1024 * 1024, timeout: 20_000 },
  );
  if (out.length < 4 || out[0] !== 0xff || out[1] !== 0xd8 || out.at(-2) !== 0xff || out.at(-1) !== 0xd9)
    throw new Error('camera simulator: ffmpeg did not produce a JPEG');
  cached = out;
  return out;
}
