/**
 * Shared probes for the CabinetService integration tests: read what the service recorded
 * in its outbox, and run its commands as the router would hand them over. Getters, not
 * values, because a test may replace the service (a gateway restart).
 */
import type { CommandContext, CommandDefinition } from '../../gateway/commands/types.js';
import type { CabinetService } from '../../gateway/charging/cabinet-service.js';
import { realTimers, type Clock } from '../../gateway/core/clock.js';
import type { GatehouseError } from '../../gateway/core/errors.js';
import { silentLogger } from '../../gateway/core/log.js';
import type { Outbox } from '../../gateway/outbox/outbox.js';
import { CabinetService as Service } from '../../gateway/charging/cabinet-service.js';
import { FakeAlarmSink } from './fake-alarm-sink.js';

export type Json = Record<string, any>;
export type RecordedEvent = Json & { class: string; body: string };

export function cabinetProbes(outbox: () => Outbox, service: () => CabinetService) {
  const events = (): RecordedEvent[] =>
    outbox()
      .readEvents(0, 100_000)
      .map((r) => ({ ...(JSON.parse(r.body) as Json), class: r.class, body: r.body }));
  const find = (type: string, pred: (e: Json) => boolean = () => true) => events().find((e) => e.type === type && pred(e));
  const ctx = (): CommandContext => ({
    id: 'c',
    caller: { via: 'cli', role: 'admin', principal: 'tester' },
    deadline: performance.now() + 10_000,
  });
  const run = (name: string, args: Record<string, unknown>) => {
    const def = service()
      .commands()
      .find((d) => d.name === name) as CommandDefinition | undefined;
    if (!def) throw new Error(`no command ${name}`);
    return def.handler(def.args.parse(args), ctx());
  };
  const runError = async (name: string, args: Record<string, unknown>): Promise<GatehouseError> => {
    try {
      await run(name, args);
    } catch (err) {
      return err as GatehouseError;
    }
    throw new Error(`${name} did not fail`);
  };
  const port = (cab: string, n: number) =>
    service()
      .unit(cab)!
      .last?.ports.find((p) => p.port === n);
  return { events, find, run, runError, port };
}

type ServiceOptions = ConstructorParameters<typeof Service>[0];

/** A service with the test defaults: real timers, no logs, meter values every 200 ms, alarms into a recording sink. */
export function testCabinetService(
  opts: Pick<ServiceOptions, 'cabinets' | 'outbox' | 'busOptions'> & {
    clock: Clock;
    safety?: ServiceOptions['safety'];
    sink?: ServiceOptions['sink'];
  },
): CabinetService {
  return new Service({ timers: realTimers, log: silentLogger(), meterIntervalMs: 200, sink: new FakeAlarmSink(), ...opts });
}
