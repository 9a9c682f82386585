/**
 * OsdpControlPanel scheduling on an in-memory line with a ManualClock: SQN, retransmits,
 * priorities, offline/backoff, BUSY/NAK, framing faults. The far end is the simulated
 * readers' protocol layer (SimPd), so the same PD rules apply as over the pty tests.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OsdpControlPanel, type OsdpReaderOptions } from '../../drivers/osdp/control-panel.js';
import { encodeFrame } from '../../drivers/osdp/frame.js';
import { Cmd, NakCode, Reply } from '../../drivers/osdp/types.js';
import type { OsdpBusConfig } from '../../config/access-schema.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import type { SimReaderOptions } from '../../sim/osdp/sim-reader.js';
import { FakeOsdpLine, startFakeRig, type FakeRig } from '../helpers/fake-osdp-line.js';

let current: FakeRig | undefined;
afterEach(async () => {
  await current?.cp.stop();
  current = undefined;
});

function rig(readers: SimReaderOptions[], cpReaders?: OsdpReaderOptions[], bus: Partial<OsdpBusConfig> = {}): FakeRig {
  current = startFakeRig(readers, cpReaders, bus);
  return current;
}

const online = (r: FakeRig, a: number) => r.cp.status().find((s) => s.address === a)?.online === true;

describe('OsdpControlPanel scheduling', () => {
  it('starts each reader at SQN 0 with ID, then counts 1, 2, 3, 1 and keeps one command in flight', async () => {
    const r = rig([{ address: 1 }, { address: 2 }]);
    await r.run(200);
    expect(online(r, 1) && online(r, 2)).toBe(true);
    for (const a of [1, 2]) {
      const frames = r.line.framesTo(a).map((w) => w.frame);
      expect(frames[0]).toMatchObject({ code: Cmd.ID, sqn: 0 });
      expect(frames[1]).toMatchObject({ code: Cmd.CAP, sqn: 1 });
      expect(frames.slice(0, 9).map((f) => f.sqn)).toEqual([0, 1, 2, 3, 1, 2, 3, 1, 2]);
      // Status queries once after online, then polls.
      expect(frames.slice(2, 5).map((f) => f.code)).toEqual([Cmd.ISTAT, Cmd.OSTAT, Cmd.LSTAT]);
      expect(frames.slice(5).every((f) => f.code === Cmd.POLL)).toBe(true);
    }
    // Round robin: readers alternate.
    const order = r.line.written.slice(0, 12).map((w) => w.frame.address);
    expect(order).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
    expect(r.line.overlaps).toBe(0);
  });

  it('puts an access command right after the reply that asked for it, ahead of the round robin', async () => {
    const r = rig([1, 2, 3, 4].map((address) => ({ address })));
    await r.run(100);
    r.cp.on('event', (e) => {
      if (e.kind === 'card') void r.cp.output(3, [{ output: 0, action: 'pulse-on', ms: 3000 }]);
    });
    r.line.reader(3).swipe('0000042');
    await r.run(50);
    const i = r.line.written.findIndex((w) => w.frame.code === Cmd.OUT);
    expect(i).toBeGreaterThan(0);
    // The frame before the OUT is the poll of reader 3 that carried the card.
    expect(r.line.written[i - 1]!.frame).toMatchObject({ address: 3, code: Cmd.POLL });
    expect(r.line.written[i]!.frame.address).toBe(3);
    expect(r.line.reader(3).outputs[0]).toBe(true);
  });

  it('repeats a command whose reply was lost with the same bytes (same SQN); the reader does not execute it twice', async () => {
    const r = rig([{ address: 1 }, { address: 2 }]);
    await r.run(100);
    const pd = r.line.pds.get(1)!;
    let executed = 0;
    r.line.reader(1).on('command', (c) => c.code === Cmd.OUT && executed++);
    // The reader executes the OUT but its reply is lost on the way back once.
    let lose = true;
    r.line.intercept = (f) => {
      if (f.address === 1 && f.code === Cmd.OUT && lose) {
        lose = false;
        pd.receive(f);
        return 'drop';
      }
      return undefined;
    };
    const done = r.cp.output(1, [{ output: 1, action: 'on' }]);
    await r.run(400);
    await done;
    const outs = r.line.framesTo(1).filter((w) => w.frame.code === Cmd.OUT);
    expect(outs).toHaveLength(2);
    expect(Buffer.from(outs[1]!.bytes).equals(Buffer.from(outs[0]!.bytes))).toBe(true);
    expect(executed).toBe(1);
    expect(pd.counters.repeats).toBe(1);
    expect(r.cp.status()[0]!.timeouts).toBe(1);
    expect(online(r, 1)).toBe(true);
  });

  it('takes a silent reader offline after offlineAfterMisses and probes it with doubling backoff, costing the others little', async () => {
    const r = rig([{ address: 1 }, { address: 2 }, { address: 3 }]);
    await r.run(100);
    r.line.reader(2).unplug();
    const t0 = r.clock.monotonic();
    await r.run(1200);
    const off = r.of('offline', 2);
    expect(off).toHaveLength(1);
    const misses = r.line.framesTo(2).filter((w) => w.at >= t0);
    // 4 sends of the same poll (the original and 3 repeats), then nothing until the probe.
    expect(misses.slice(0, 4).every((w) => w.frame.code === Cmd.POLL && w.frame.sqn === misses[0]!.frame.sqn)).toBe(true);
    const offAt = misses[3]!.at + 200;
    const probesAfter = async (ms: number) => {
      await r.run(ms);
      return r.line
        .framesTo(2)
        .filter((w) => w.at > offAt)
        .map((w) => Math.round(w.at - offAt));
    };
    const probes = await probesAfter(8000);
    // Probes (ID, SQN 0) from +500 ms, each failed one waiting twice as long (up to 4 s) after its reply timeout.
    expect(
      r.line
        .framesTo(2)
        .filter((w) => w.at > offAt)
        .every((w) => w.frame.code === Cmd.ID && w.frame.sqn === 0),
    ).toBe(true);
    const gaps = probes.slice(1).map((p, i) => p - probes[i]!);
    expect(probes[0]).toBeGreaterThanOrEqual(500);
    expect(probes[0]).toBeLessThan(520);
    expect(gaps.length).toBe(3);
    gaps.forEach((g, i) => {
      const want = 200 + [1000, 2000, 4000][i]!;
      expect(g).toBeGreaterThanOrEqual(want);
      expect(g).toBeLessThan(want + 20); // at most one poll slot of a healthy reader late
    });
    // Readers 1 and 3 were polled all along.
    const healthy = r.line.written.filter((w) => w.at > offAt && w.frame.address !== 2).length;
    expect(healthy).toBeGreaterThan(1000);
    r.line.reader(2).plug();
    await r.run(4500);
    expect(online(r, 2)).toBe(true);
  });

  it('rejects a command that never got an answer with CMD_TIMEOUT, and commands to an offline reader with DEVICE_OFFLINE', async () => {
    const r = rig([{ address: 1 }]);
    await r.run(50);
    r.line.reader(1).unplug();
    const p = r.cp.output(1, [{ output: 0, action: 'on' }]).catch((e: unknown) => e);
    await r.run(1200);
    expect(isGatehouseError(await p, 'CMD_TIMEOUT')).toBe(true);
    expect(isGatehouseError(await r.cp.led(1, { led: 0, color: 'red' }).catch((e: unknown) => e), 'DEVICE_OFFLINE')).toBe(true);
  });

  it('retries a BUSY command later with the same SQN', async () => {
    const r = rig([{ address: 1 }]);
    await r.run(50);
    r.line.reader(1).busyNext = 2;
    const done = r.cp.output(1, [{ output: 1, action: 'on' }]);
    await r.run(300);
    await done;
    const outs = r.line.framesTo(1).filter((w) => w.frame.code === Cmd.OUT);
    expect(outs).toHaveLength(3);
    expect(new Set(outs.map((w) => w.frame.sqn)).size).toBe(1);
    expect(r.line.reader(1).outputs[1]).toBe(true);
  });

  it('emits nak and rejects with DEVICE_REFUSED; a NAK SEQUENCE restarts the reader from SQN 0', async () => {
    const r = rig([{ address: 1, buzzer: false }]);
    await r.run(50);
    const err = await Promise.all([r.cp.buzzer(1, { onMs: 100, offMs: 100, count: 1 }).catch((e: unknown) => e), r.run(20)]).then(
      ([e]) => e,
    );
    expect(err).toMatchObject({ code: 'DEVICE_REFUSED', details: { nak: NakCode.UNKNOWN_COMMAND } });
    expect(r.of('nak', 1)).toEqual([{ kind: 'nak', address: 1, command: Cmd.BUZ, code: NakCode.UNKNOWN_COMMAND }]);
    expect(online(r, 1)).toBe(true);

    let once = true;
    r.line.intercept = (f) => {
      if (f.code !== Cmd.POLL || !once) return undefined;
      once = false;
      return encodeFrame({ address: 1, reply: true, sqn: f.sqn, crc: true, code: Reply.NAK, data: Uint8Array.of(NakCode.SEQUENCE) });
    };
    const before = r.line.written.length;
    await r.run(50);
    const after = r.line.written.slice(before).map((w) => w.frame);
    const nakAt = after.findIndex((f) => f.code === Cmd.ID);
    expect(after[nakAt]).toMatchObject({ code: Cmd.ID, sqn: 0 });
    expect(r.of('offline', 1)[0]).toMatchObject({ reason: 'sequence error' });
    expect(r.of('online', 1)).toHaveLength(2);
  });

  it('drops and counts replies from the wrong address or with the wrong SQN, and partial frames cut by a silent gap', async () => {
    const r = rig([{ address: 1 }, { address: 2 }]);
    await r.run(50);
    let n = 0;
    r.line.intercept = (f) => {
      if (f.code !== Cmd.POLL || n >= 2) return undefined;
      n++;
      return n === 1
        ? encodeFrame({ address: f.address === 1 ? 2 : 1, reply: true, sqn: f.sqn, crc: true, code: Reply.ACK, data: new Uint8Array(0) })
        : encodeFrame({
            address: f.address,
            reply: true,
            sqn: ((f.sqn % 3) + 1) as 1 | 2 | 3,
            crc: true,
            code: Reply.ACK,
            data: new Uint8Array(0),
          });
    };
    await r.run(600);
    const s = r.cp.stats();
    expect(s.droppedWrongAddress).toBe(1);
    expect(s.droppedWrongSqn).toBe(1);
    expect(online(r, 1) && online(r, 2)).toBe(true);

    // Half a frame, 30 ms of silence, then the rest: the half is dropped. (Readers silent, so no other bytes in between.)
    r.line.reader(1).unplug();
    r.line.reader(2).unplug();
    await r.run(5);
    const ack = encodeFrame({ address: 1, reply: true, sqn: 1, crc: true, code: Reply.ACK, data: new Uint8Array(0) });
    r.line.feed(ack.subarray(0, 4));
    await r.run(30);
    r.line.feed(ack.subarray(4));
    expect(r.cp.stats().interCharResets).toBe(1);
    expect(r.cp.stats().droppedUnexpected).toBe(0);
  });

  it('fails pending commands when the line goes away and reopens it with backoff', async () => {
    const r = rig([{ address: 1 }]);
    await r.run(50);
    const lineEvents: string[] = [];
    r.cp.on('lineDown', () => lineEvents.push('down'));
    r.cp.on('lineUp', () => lineEvents.push('up'));
    r.line.replyDelayMs = 20;
    const p = r.cp.output(1, [{ output: 0, action: 'on' }]).catch((e: unknown) => e);
    await r.run(5);
    r.line.unplug();
    expect(isGatehouseError(await p, 'DEVICE_OFFLINE')).toBe(true);
    expect(r.of('offline', 1)).toHaveLength(1);
    await r.run(1000);
    expect(r.line.opens).toBe(1);
    r.line.plugIn();
    r.line.replyDelayMs = 2;
    await r.run(500);
    expect(lineEvents).toEqual(['down', 'up']);
    expect(online(r, 1)).toBe(true);
    expect(r.cp.stats().reopens).toBeGreaterThan(1);
  });

  it('pauses idleMs after each full round of polls', async () => {
    const r = rig([{ address: 1 }, { address: 2 }], undefined, { idleMs: 100 });
    await r.run(1000);
    const polls = r.line.written.filter((w) => w.frame.code === Cmd.POLL && w.at > 500);
    // Two polls per ~100 ms round instead of hundreds.
    expect(polls.length).toBeGreaterThanOrEqual(8);
    expect(polls.length).toBeLessThanOrEqual(12);
  });

  it('keeps polling when an event listener throws, and emits nothing while stopping', async () => {
    const r = rig([{ address: 1 }, { address: 2 }]);
    await r.run(50);
    r.cp.on('event', (e) => {
      if (e.kind === 'card') throw new Error('listener bug');
    });
    r.line.reader(1).swipe('0000001');
    await r.run(20);
    r.line.reader(2).swipe('0000002');
    await r.run(20);
    expect(r.of('card').map((e) => e.address)).toEqual([1, 2]);
    const before = r.events.length;
    await r.cp.stop();
    expect(r.events.length).toBe(before);
    expect(r.cp.stats().state).toBe('stopped');
  });

  it('refuses a bad configuration', () => {
    const clock = new ManualClock();
    const base = {
      bus: { id: 'x', path: '/dev/x', baudRate: 9600 as const, replyTimeoutMs: 200, offlineAfterMisses: 4, idleMs: 0 },
      clock,
      timers: clock,
      log: pino({ level: 'silent' }),
      openPort: () => new FakeOsdpLine(clock, []),
    };
    expect(
      () =>
        new OsdpControlPanel({
          ...base,
          readers: [
            { address: 1, secure: 'off' },
            { address: 1, secure: 'off' },
          ],
        }),
    ).toThrow(/used twice/);
    expect(() => new OsdpControlPanel({ ...base, readers: [{ address: 127, secure: 'off' }] })).toThrow(/0-126/);
    expect(() => new OsdpControlPanel({ ...base, readers: [{ address: 1, secure: 'required' }] })).toThrow(/16-byte key/);
  });
});
