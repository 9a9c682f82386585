/**
 * Run under a unit's system call filter (unit-seccomp.py) by systemd-sandbox.test.ts: opens
 * both ends of a socat pty pair with serialport (as the RS-485 drivers do: open, termios
 * ioctls, read, write) and runs ffmpeg through the live view's wrapper (FfmpegProcess: sh,
 * a process group, pipes) encoding MPEG-1 as the live view does. Prints one JSON line.
 *   node sandbox-probe.mjs PTY_A PTY_B FFMPEG
 */
import { SerialPort } from 'serialport';
import { FfmpegProcess } from '../../dist/drivers/ffmpeg/ffmpeg-process.js';

const [a, b, ffmpeg] = process.argv.slice(2);
const open = (path) =>
  new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 9600 }, (err) => (err ? reject(err) : resolve(port)));
  });
const result = {};
try {
  const [pa, pb] = await Promise.all([open(a), open(b)]);
  const got = new Promise((resolve) => {
    let text = '';
    pb.on('data', (d) => {
      text += d.toString();
      if (text.includes('hello rs-485')) resolve(text);
    });
  });
  pa.write('hello rs-485');
  result.serial = await Promise.race([got, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
  await Promise.all([pa, pb].map((p) => new Promise((r) => p.close(r))));
} catch (err) {
  result.serial = `error: ${err.message}`;
}
const args = [
  '-hide_banner',
  '-f',
  'lavfi',
  '-i',
  'testsrc=size=160x120:rate=25',
  '-frames:v',
  '10',
  '-an',
  '-f',
  'mpegts',
  '-codec:v',
  'mpeg1video',
  '-',
];
const ff = new FfmpegProcess(ffmpeg, args);
let bytes = 0;
ff.on('data', (d) => (bytes += d.length));
result.ffmpeg = await new Promise((resolve) => ff.on('exit', (e) => resolve({ code: e.code, bytes, stderr: e.stderrTail.slice(-300) })));
process.stdout.write(`${JSON.stringify(result)}\n`);
