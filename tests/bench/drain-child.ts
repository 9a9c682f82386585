/**
 * The drain side of the drain benchmark, in a fresh process so its RSS is the footprint of
 * a gateway draining a backlog and nothing else: opens a pre-filled outbox, drains it to
 * the broker with the Uplink, prints one JSON line with the rate and RSS samples.
 * argv: outboxFile brokerUrl window
 */
import { Outbox } from '../../gateway/outbox/outbox.js';
import { Uplink } from '../../gateway/uplink/uplink.js';
import { systemClock } from '../../gateway/core/clock.js';
import { secretsFrom } from '../../config/load.js';
import { UplinkConfig } from '../../config/schema.js';
import { silentLogger } from '../../gateway/core/log.js';

const [file, url, window] = process.argv.slice(2) as [string, string, string];
const rssMb = () => process.memoryUsage.rss() / 1024 / 1024;
const clock = systemClock({ forceState: 'synced' });
const outbox = new Outbox({ file, clock, config: { checkpointIntervalMs: 5000, maxBytes: 4 * 1024 ** 3 } });
const events = (outbox.scope('outbox').prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
const rssStartMb = rssMb();
let rssMaxMb = rssStartMb;
const sampler = setInterval(() => (rssMaxMb = Math.max(rssMaxMb, rssMb())), 100);
const uplink = new Uplink({
  config: UplinkConfig.parse({ url, inflightWindow: Number(window) }),
  secrets: secretsFrom({}),
  outbox,
  clock,
  log: silentLogger(),
  topicRoot: 'gatehouse/v1/bench/gw',
  onCommand: () => undefined,
});
const anyLeft = outbox.scope('outbox').prepare('SELECT EXISTS(SELECT 1 FROM events) AS x');
const t0 = performance.now();
uplink.start();
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    outbox.flushAcks();
    if ((anyLeft.get() as { x: number }).x === 0) {
      clearInterval(check);
      resolve();
    }
  }, 50);
});
const ms = performance.now() - t0;
clearInterval(sampler);
const rssEndMb = rssMb();
await uplink.stop();
outbox.close();
process.stdout.write(`${JSON.stringify({ events, ms, rssStartMb, rssMaxMb, rssEndMb })}\n`);
process.exit(0);
