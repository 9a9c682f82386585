/**
 * `gatehouse fleet --boxes N --rate R --uplink URL[,URL...]`: the fleet emulator
 * (sim/fleet/) for a district platform team and our scale tests. Loaded by cli.ts only for
 * this command; it lives beside the demo because only gateway/demo/ may import sim/.
 *
 * The event templates are the declared examples (gateway/events/asyncapi-gen.ts), so what
 * the fleet publishes validates against docs/asyncapi.yaml. Box passwords are derived from
 * GATEHOUSE_FLEET_SECRET (never an argument: argv is visible to every user of the machine).
 * Prints a one-line summary every 10 s and, on Ctrl-C or after --duration, what each box
 * sent: compound, gateway, last seq, acknowledged.
 *
 * A broker that refuses a box's login stops the run at once with exit 2: wrong or missing
 * credentials are a configuration mistake that retrying cannot fix, and the message says
 * which box, which node and what to set.
 */
import { realTimers, systemClock } from '../core/clock.js';
import { declaredEvents } from '../events/asyncapi-gen.js';
import { untilSignal } from '../signals.js';
import { redactUrl } from '../uplink/connection.js';
import { Fleet, templatesFromExamples } from '../../sim/fleet/fleet.js';

export interface FleetArgs {
  boxes?: string | undefined;
  rate?: string | undefined;
  uplink?: string | undefined;
  duration?: string | undefined;
  events?: string | undefined;
  prefix?: string | undefined;
}

const bad = (msg: string): number => {
  process.stderr.write(`gatehouse fleet: ${msg}\n`);
  return 2;
};

export async function runFleet(args: FleetArgs): Promise<number> {
  const boxes = Number(args.boxes);
  const rate = args.rate === undefined ? 0.2 : Number(args.rate);
  const urls = (args.uplink ?? process.env.GATEHOUSE_UPLINK_URL ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  const durationS = args.duration === undefined ? undefined : Number(args.duration);
  const events = args.events === undefined ? undefined : Number(args.events);
  if (!Number.isInteger(boxes) || boxes < 1 || boxes > 10_000) return bad('--boxes N is required: a whole number from 1 to 10000');
  if (!(rate > 0) || rate > 1000) return bad('--rate R: mean events per second per box, more than 0 and at most 1000');
  if (urls.length === 0) return bad('--uplink URL[,URL...] is required (or GATEHOUSE_UPLINK_URL): mqtt://, mqtts://, ws:// or wss://');
  for (const u of urls)
    if (!/^(mqtts?|wss?):\/\//.test(u)) return bad(`--uplink ${redactUrl(u)} is not an mqtt://, mqtts://, ws:// or wss:// URL`);
  if (durationS !== undefined && !(durationS > 0)) return bad('--duration must be a positive number of seconds');
  if (events !== undefined && !(Number.isInteger(events) && events > 0)) return bad('--events must be a whole number of events per box');
  const prefix = args.prefix ?? 'fleet';
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(prefix))
    return bad('--prefix: lower-case letters, digits and dashes (it becomes the compound ids)');

  const fleet = new Fleet({
    boxes,
    rate,
    urls,
    templates: templatesFromExamples(await declaredEvents()),
    prefix,
    secret: process.env.GATEHOUSE_FLEET_SECRET || undefined,
    eventsPerBox: events,
    clock: systemClock({ forceState: 'synced' }),
    timers: realTimers,
  });
  process.stdout.write(
    `fleet: ${boxes} boxes (${prefix}-001/gw-1 ...), ${rate} events/s each, uplinks ${urls.map(redactUrl).join(', ')}` +
      `${process.env.GATEHOUSE_FLEET_SECRET ? ', passwords from GATEHOUSE_FLEET_SECRET' : ', no credentials'}; Ctrl-C stops\n`,
  );
  fleet.start();
  const summary = setInterval(() => {
    const r = fleet.report();
    process.stdout.write(`fleet: ${r.connected}/${boxes} connected, ${r.recorded} recorded, ${r.acked} acknowledged\n`);
  }, 10_000);
  let watch: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const stopBy = new Promise<void>((resolve) => {
    if (durationS !== undefined) deadline = setTimeout(resolve, durationS * 1000);
    watch = setInterval(() => {
      if (fleet.refusal() || (events !== undefined && fleet.done())) resolve();
    }, 200);
  });
  await Promise.race([untilSignal(), stopBy]);
  clearInterval(summary);
  clearInterval(watch);
  clearTimeout(deadline);
  await fleet.stop();
  const refused = fleet.refusal();
  if (refused) {
    const box = refused.root.split('/').slice(2).join('/');
    const advice = process.env.GATEHOUSE_FLEET_SECRET
      ? `check that the broker has user box-${box.replace('/', '-')} with the password derived from GATEHOUSE_FLEET_SECRET (docs/DISTRICT.md)`
      : "GATEHOUSE_FLEET_SECRET is not set, so the boxes log in without credentials: set it to the secret the broker's box passwords were derived from (docs/DISTRICT.md)";
    return bad(`the broker at ${redactUrl(refused.url)} refused the login of box ${box} (${refused.reason}): ${advice}`);
  }
  const r = fleet.report();
  for (const b of r.boxes)
    process.stdout.write(`${b.compound} ${b.gateway} lastSeq=${b.lastSeq} acked=${b.acked} connections=${b.connections}\n`);
  process.stdout.write(`fleet: ${r.recorded} recorded, ${r.acked} acknowledged, ${r.recorded - r.acked} not acknowledged\n`);
  return r.recorded === r.acked ? 0 : 1;
}
