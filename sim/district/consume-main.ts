/**
 * The reference platform consumer as a process: what a district platform team runs (and
 * copies) first, and what the district tests SIGKILL mid-batch.
 *
 *   DISTRICT_AMQP_URLS=amqp://user:pass@node1:5672/district,amqp://...@node2:5672/district \
 *     node dist/sim/district/consume-main.js --queue district.events --db /var/lib/platform/events.db --name c1
 *   DISTRICT_MQTT_URL=mqtt://user:pass@broker:1883 \
 *     node dist/sim/district/consume-main.js --group platform --db events.db --name c1
 *
 * URLs carry passwords, so they come from the environment, never the command line. Prints
 * one JSON line per second with its progress (`{"acked":N}`), and on SIGTERM/SIGINT the
 * store's report: per-compound counts, duplicates, gaps.
 */
import { parseArgs } from 'node:util';
import { AmqpConsumer } from './amqp-consumer.js';
import { MqttSharedConsumer } from './mqtt-consumer.js';
import { DistrictStore } from './store.js';

const { values } = parseArgs({
  options: {
    queue: { type: 'string' },
    group: { type: 'string' },
    db: { type: 'string' },
    name: { type: 'string' },
    prefetch: { type: 'string' },
  },
});
if (!values.db || !values.name || (!values.queue && !values.group)) {
  process.stderr.write(
    'usage: consume-main --db FILE --name NAME (--queue QUEUE with DISTRICT_AMQP_URLS | --group GROUP with DISTRICT_MQTT_URL)\n',
  );
  process.exit(2);
}
const store = new DistrictStore(values.db, values.name);
const onError = (err: Error): void => void process.stderr.write(`consumer ${values.name}: ${err.message}\n`);
let consumer: { acked: number; stop(): Promise<void> };
if (values.queue) {
  const urls = (process.env.DISTRICT_AMQP_URLS ?? '').split(',').filter(Boolean);
  if (urls.length === 0) {
    process.stderr.write('consume-main: DISTRICT_AMQP_URLS is empty\n');
    process.exit(2);
  }
  consumer = await AmqpConsumer.start({
    urls,
    queue: values.queue,
    name: values.name,
    store,
    prefetch: values.prefetch ? Number(values.prefetch) : undefined,
    onError,
  });
} else {
  const url = process.env.DISTRICT_MQTT_URL;
  if (!url) {
    process.stderr.write('consume-main: DISTRICT_MQTT_URL is empty\n');
    process.exit(2);
  }
  consumer = await MqttSharedConsumer.start({ url, group: values.group!, clientId: `platform-${values.name}`, store, onError });
}
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
let last = -1;
const tick = setInterval(() => {
  if (consumer.acked !== last) process.stdout.write(`${JSON.stringify({ acked: consumer.acked })}\n`);
  last = consumer.acked;
}, 1000);
const stop = async (): Promise<void> => {
  clearInterval(tick);
  await consumer.stop();
  const r = store.report();
  process.stdout.write(
    `${JSON.stringify({ acked: consumer.acked, report: { ok: r.ok, unique: r.unique, duplicates: r.duplicates, problems: r.problems, perCompound: r.perCompound } })}\n`,
  );
  store.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
