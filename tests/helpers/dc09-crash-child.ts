/**
 * A child process for the DC-09 crash test (tests/integration/dc09-ack-commit.test.ts): the
 * receiver on a real outbox.db with the real AlarmManager, wired as create-dc09.ts wires
 * them, which SIGKILLs itself the instant it has handed an ACK to the socket. Whatever the
 * panel was told "received" must then already be in outbox.db. Prints `READY <tcpPort>`.
 * Run from dist/ (node, no TypeScript loader).
 *
 *   node dist/tests/helpers/dc09-crash-child.js <outbox.db> <aes key hex>
 */
import { secretsFrom } from '../../config/load.js';
import { AlarmsConfig, Dc09PanelConfig, Dc09ReceiverConfig } from '../../config/perimeter-schema.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { Dc09ReplayGuard } from '../../gateway/perimeter/dc09-replay.js';
import { Dc09Receiver } from '../../gateway/perimeter/dc09-receiver.js';
import { PanelService } from '../../gateway/perimeter/panel-service.js';

const [file, keyHex] = process.argv.slice(2) as [string, string];
const clock = systemClock({ forceState: 'unsynced' });
const log = silentLogger();
const outbox = new Outbox({ file, clock, config: { checkpointIntervalMs: 0 } });
const alarms = new AlarmManager({ db: outbox.scope('alarms'), outbox, config: AlarmsConfig.parse({}), clock, log, timers: realTimers });
const panels = [Dc09PanelConfig.parse({ id: 'panel-1', account: 'C0DE', keySecret: 'k', supervisionS: 0 })];
const service = new PanelService({ panels, sink: alarms, outbox, clock, timers: realTimers, log });
const replay = new Dc09ReplayGuard({ db: outbox.scope('dc09'), onError: () => undefined });
const receiver = new Dc09Receiver({
  config: Dc09ReceiverConfig.parse({ host: '127.0.0.1' }),
  panels,
  secrets: secretsFrom({ k: keyHex }),
  service,
  clock,
  log,
  replay,
  afterReply: (answer) => {
    if (answer.outcome === 'ack') process.kill(process.pid, 'SIGKILL');
  },
});
alarms.start();
const { tcpPort } = await receiver.start();
process.stdout.write(`READY ${tcpPort}\n`);
