import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLoggerFactory } from '../../gateway/core/log.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, destination };
}

describe('logging', () => {
  it('writes JSON lines with the component and redacts secrets by key, at any depth we nest them', () => {
    const { lines, destination } = capture();
    const logs = createLoggerFactory({ level: 'info' }, { destination });
    const log = logs.child('uplink');
    log.info(
      { password: 'hunter2-secret', uplink: { password: 'p2-secret', token: 't-secret' }, a: { b: { key: 'k-secret' } }, url: 'mqtts://x' },
      'connecting',
    );
    const text = lines.join('\n');
    expect(text).not.toMatch(/hunter2|p2-secret|t-secret|k-secret/);
    const rec = JSON.parse(lines[0]!);
    expect(rec).toMatchObject({ component: 'uplink', msg: 'connecting', password: '[redacted]', url: 'mqtts://x' });
    expect(rec.uplink.password).toBe('[redacted]');
  });

  it('honours per-component levels', () => {
    const { lines, destination } = capture();
    const logs = createLoggerFactory({ level: 'info', components: { broker: 'warn', uplink: 'debug' } }, { destination });
    logs.child('broker').info('quiet');
    logs.child('broker').warn('loud');
    logs.child('uplink').debug('detail');
    logs.child('outbox').debug('hidden');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['loud', 'detail']);
  });
});
