/**
 * A charging cabinet that reboots in a loop (issue 11), through CabinetUnit and the shared
 * presence policy on a ManualClock, with a real outbox (SQLite file) for events, sessions
 * and retained state: the safety logic still sees every reading, while the platform sees
 * a bounded number of presence events and one device.flapping alarm.
 */
import { CabinetLatches, CabinetSerials } from '../../gateway/charging/latches.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PresenceConfig } from '../../config/presence-schema.js';
import { CabinetConfig, ChargingSafetyConfig } from '../../config/schema.js';
import type { CabinetReading } from '../../drivers/cabinet/types.js';
import { ModbusBus } from '../../drivers/modbus/bus.js';
import { CabinetUnit } from '../../gateway/charging/cabinet-unit.js';
import { ChargingSessions } from '../../gateway/charging/sessions.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { Envelope } from '../../gateway/core/events.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { PresencePolicy } from '../../gateway/presence/presence-policy.js';
import { FakeAlarmSink } from '../helpers/fake-alarm-sink.js';
import { FakeModbusTransport } from '../helpers/fake-modbus-transport.js';

const reading = (at: number): CabinetReading => ({
  cabinet: 'cab-a',
  at,
  status: {
    mainsVoltage: 230,
    mainsPresent: true,
    temperature: 25,
    smoke: false,
    doorOpen: false,
    fanOn: false,
    powerOn: true,
    uptimeS: 5,
  },
  ports: [
    {
      port: 1,
      state: 'available',
      voltage: 0,
      current: 0,
      power: 0,
      energyWh: 0,
      temperature: 24,
      sessionId: 0,
      faultCode: 0,
      powerLimit: 0,
    },
  ],
});

describe('a cabinet rebooting in a loop', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('is held offline after two changes: one device.flapping alarm, a handful of events, state online false', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-presence-cabinet-'));
    const clock = new ManualClock();
    const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    const sink = new FakeAlarmSink();
    const presence = new PresencePolicy({ config: PresenceConfig.parse({}), clock, timers: clock, sink, log: silentLogger() });
    const bus = new ModbusBus({ transport: new FakeModbusTransport(), clock, timers: clock, log: silentLogger() });
    const unit = new CabinetUnit({
      cfg: CabinetConfig.parse({ id: 'cab-a', bus: { tcp: { host: '127.0.0.1', port: 1502 } }, ports: 1 }),
      bus,
      sessions: new ChargingSessions({ db: outbox.scope('charging'), clock }),
      outbox,
      sink,
      clock,
      timers: clock,
      log: silentLogger(),
      safety: ChargingSafetyConfig.parse({}),
      latches: new CabinetLatches(outbox.scope('charging'), clock),
      serials: new CabinetSerials(outbox.scope('charging'), clock),
      liveStateMs: 60_000,
      presence,
    });
    // Up for 20 s, down (no answer) for 10 s, for an hour.
    for (let i = 0; i < 120; i++) {
      unit.onReading(reading(clock.monotonic()));
      clock.advance(20_000);
      unit.markOffline('no_answer');
      clock.advance(10_000);
    }
    unit.onReading(reading(clock.monotonic()));
    outbox.flush();
    await new Promise((r) => setImmediate(r));
    outbox.flush();
    const events = outbox
      .readEvents(0, 10_000)
      .map((r) => JSON.parse(r.body) as Envelope)
      .filter((e) => e.source.device === 'cab-a');
    expect(events.map((e) => e.type)).toEqual(['device.online', 'device.offline', 'device.online', 'device.offline']);
    expect(sink.calls.filter((c) => c.kind === 'device.flapping').map((c) => c.op)).toEqual(['raise']);
    const state = JSON.parse(outbox.readStates().find((s) => s.device === 'cab-a')!.body) as { online: boolean; status: unknown };
    expect(state.online).toBe(false);
    // The reading itself is current: what the interlocks act on does not wait for presence.
    expect(unit.online).toBe(true);
    presence.stop();
    await bus.stop();
    outbox.close();
  });
});
