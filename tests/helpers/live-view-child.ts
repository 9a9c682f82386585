/**
 * A child process for the orphan test (tests/integration/live-view-orphan.test.ts): starts
 * the simulator's RTSP stream and a live-view stream with one viewer, prints READY once
 * MPEG-TS flows, then waits to be SIGKILLed. Run from dist/ (node, no TypeScript loader).
 *
 *   node dist/tests/helpers/live-view-child.js MARKER
 */
import { systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { LiveViewHub } from '../../gateway/cameras/live-view.js';
import { startTestStream } from '../../sim/camera/rtsp.js';
import { FfmpegProcess } from '../../drivers/ffmpeg/ffmpeg-process.js';

const marker = process.argv[2] ?? 'gh-live-view-child';
const ffmpeg = process.env.GATEHOUSE_FFMPEG ?? '/usr/bin/ffmpeg';
// An ffmpeg that never writes to its stdout (a camera that accepted the connection and
// went silent): no EPIPE will ever end it, only the watchdog can.
new FfmpegProcess(ffmpeg, [
  '-nostdin',
  '-re',
  '-f',
  'lavfi',
  '-i',
  'testsrc=size=64x64:rate=5',
  '-metadata',
  `title=${marker}-silent`,
  '-f',
  'null',
  '-',
]);
const source = await startTestStream({ size: '320x180', fps: 15, tag: `${marker}-source` });
const hub = new LiveViewHub({
  config: { ffmpegPath: ffmpeg, width: 320 },
  hasCamera: () => true,
  resolveUrl: async () => source.url,
  clock: systemClock({ forceState: 'synced' }),
  log: silentLogger(),
  rtspTransport: 'udp',
  tag: marker,
});
let bytes = 0;
let announced = false;
// A viewer without a network: the orphan question is about ffmpeg, not WebSocket.
hub.attach(
  'gate',
  {
    bufferedAmount: 0,
    readyState: 1,
    send(data: Buffer) {
      bytes += data.length;
      if (!announced && bytes > 10_000) {
        announced = true;
        process.stdout.write(`READY ${JSON.stringify(hub.stats().streams)}\n`);
      }
    },
    close() {},
  },
  { id: 'orphan-test' },
  () => undefined,
);
setInterval(() => undefined, 60_000); // stay alive until killed
