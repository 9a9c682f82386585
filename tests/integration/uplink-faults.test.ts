/**
 * The uplink under faults, against a real Mosquitto, with a steady load being recorded:
 * a broker restart, a blackholed link (bytes silently dropped: only the ack watchdog or
 * the keepalive can notice), and a gateway restart with publishes left unacknowledged.
 * Each time: nothing lost, per-class order kept, and the uplink recovers by itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { Verifier } from '../../sim/verifier.js';
import { topicRoot } from '../../gateway/core/topics.js';
import { Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { makeRig, outboxBacklog, startLoad, testEvent, type Rig } from '../helpers/uplink-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

describe('uplink faults', () => {
  let broker: Mosquitto;
  const rigs: Rig[] = [];
  const verifiers: Verifier[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true });
  });
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.dispose();
    for (const v of verifiers.splice(0)) await v.close();
    for (const p of proxies.splice(0)) await p.close();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  const rig = (...a: Parameters<typeof makeRig>) => {
    const r = makeRig(...a);
    rigs.push(r);
    return r;
  };
  // A persistent session, as a platform consumer has: the broker keeps what arrives while
  // the verifier itself is cut off by the broker restart.
  const verifier = async (root: string) => {
    const v = await Verifier.connect({ url: broker.url, root, clientId: `verifier-${root.split('/').pop()}`, persistentSession: true });
    verifiers.push(v);
    return v;
  };
  const proxy = async () => {
    const p = await TcpProxy.start({ port: broker.port });
    proxies.push(p);
    return p;
  };

  /** Waits until every recorded seq reached the verifier and the outbox is empty, then checks the report. */
  async function expectAllDelivered(r: Rig, v: Verifier, recorded: { seq: number }[]) {
    const last = recorded[recorded.length - 1]!.seq;
    await waitFor(
      () => recorded.every((e) => v.has(e.seq)) && outboxBacklog(r.outbox) === 0,
      `all ${recorded.length} events delivered`,
      20_000,
      () => ({ unique: v.unique, last, status: r.uplink.status(), backlog: r.outbox.stats().events }),
    );
    const report = v.report();
    expect(report.problems).toEqual([]);
    expect(report.missingCount).toBe(0);
    expect(report.orderViolationCount).toBe(0);
    expect(report.conflictCount).toBe(0);
    return report;
  }

  it('loses nothing and keeps order when the broker restarts under load, and reconnects by itself', async () => {
    const root = topicRoot('test-court', 'gw-restart');
    const v = await verifier(root);
    const r = rig({ url: broker.url, root });
    r.uplink.start();
    await nextEvent(r.uplink, 'connected');
    const load = startLoad(r.outbox, { perTick: 20, everyMs: 5 });
    await waitFor(() => v.unique >= 500, 'some traffic before the restart');
    const lost = nextEvent(r.uplink, 'disconnected');
    await broker.restart();
    await lost;
    await waitFor(() => r.uplink.status().connected, 'reconnected to the restarted broker', 10_000);
    const resumedAt = load.recorded.length;
    await waitFor(() => load.recorded.length >= resumedAt + 500, 'more traffic after the restart');
    const recorded = await load.stop();
    const report = await expectAllDelivered(r, v, recorded);
    expect(report.unique).toBe(recorded.length);
    expect(r.uplink.status().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('detects a blackholed link under load with the ack watchdog, and resumes when the network does', async () => {
    const root = topicRoot('test-court', 'gw-blackhole');
    const p = await proxy();
    const v = await verifier(root);
    const r = rig({ url: p.url, root, uplink: { ackTimeoutMs: 1000, keepaliveSeconds: 30 } });
    r.uplink.start();
    await nextEvent(r.uplink, 'connected');
    const load = startLoad(r.outbox, { perTick: 20, everyMs: 5 });
    await waitFor(() => v.unique >= 300, 'some traffic before the blackhole');
    p.blackhole();
    const [reason] = await nextEvent<[string]>(r.uplink, 'disconnected', 5000);
    expect(reason).toMatch(/no PUBACK/);
    // Attempts through the blackhole get no CONNACK and time out; the loop keeps trying.
    const attempts = r.uplink.status().attempts;
    await waitFor(
      () => r.uplink.status().attempts >= attempts + 1 && !r.uplink.status().connected,
      'a failed attempt through the blackhole',
      5000,
    );
    expect(r.uplink.healthy()).toBe(true); // an outage is not a reason for systemd to restart us
    p.pass();
    await waitFor(() => r.uplink.status().connected, 'reconnected after the blackhole', 10_000);
    const recorded = await load.stop();
    await expectAllDelivered(r, v, recorded);
    expect(r.logs.some((l) => l.includes('no PUBACK in time'))).toBe(true);
    expect(p.dropped).toBeGreaterThan(0);
  });

  it('detects an idle blackholed link with the MQTT keepalive', async () => {
    const root = topicRoot('test-court', 'gw-keepalive');
    const p = await proxy();
    const r = rig({ url: p.url, root, uplink: { keepaliveSeconds: 1 } });
    r.uplink.start();
    await nextEvent(r.uplink, 'connected');
    p.blackhole();
    const [reason] = await nextEvent<[string]>(r.uplink, 'disconnected', 5000);
    expect(reason).toMatch(/keepalive/i);
    p.pass();
    await waitFor(() => r.uplink.status().connected, 'reconnected', 10_000);
    const v = await verifier(root);
    const e = await r.outbox.record(testEvent(1));
    await waitFor(() => v.has(e.seq), 'an event after the keepalive reconnect');
  });

  it('reports unhealthy when connected without PUBACK progress, until the watchdog replaces the link', async () => {
    const root = topicRoot('test-court', 'gw-health');
    const p = await proxy();
    const clock = new ManualClock();
    const r = rig({ url: p.url, root, clock, uplink: { ackTimeoutMs: 1000, keepaliveSeconds: 30 } });
    r.uplink.start();
    await nextEvent(r.uplink, 'connected');
    p.blackhole();
    await Promise.all(Array.from({ length: 10 }, (_, i) => r.outbox.record(testEvent(i))));
    await waitFor(() => r.uplink.status().inflight > 0, 'publishes in flight');
    expect(r.uplink.healthy()).toBe(true);
    // Time passes for the uplink (its clock), but no PUBACK arrives: the systemd watchdog must hear about it.
    clock.advance(1500);
    expect(r.uplink.healthy()).toBe(false);
    // The real-time watchdog tick sees the same age and drops the link; an outage is healthy again.
    await nextEvent(r.uplink, 'disconnected', 5000);
    expect(r.uplink.healthy()).toBe(true);
    p.pass();
    const v = await verifier(root);
    await waitFor(() => v.unique === 10 && outboxBacklog(r.outbox) === 0, 'the ten events after recovery', 10_000);
    expect(r.uplink.healthy()).toBe(true);
  });

  it('resumes from the oldest unacknowledged row after a gateway restart, in order', async () => {
    const root = topicRoot('test-court', 'gw-reopen');
    const p = await proxy();
    const v = await verifier(root);
    const first = makeRig({ url: p.url, root, uplink: { inflightWindow: 50 } });
    const recorded = await Promise.all(Array.from({ length: 2000 }, (_, i) => first.outbox.record(testEvent(i))));
    first.uplink.start();
    await waitFor(() => v.unique >= 200, 'part of the backlog delivered');
    p.blackhole(); // the rest stays unacknowledged, some of it in flight
    await first.close(); // bounded: gives up on the in-flight PUBACKs
    const left = recorded.length - v.unique;
    expect(left).toBeGreaterThan(0);

    const second = rig({ url: broker.url, root, dir: first.dir });
    expect(second.outbox.stats().nextSeq).toBe(2001);
    second.uplink.start();
    const more = await Promise.all(Array.from({ length: 100 }, (_, i) => second.outbox.record(testEvent(2000 + i))));
    expect(more[0]!.seq).toBe(2001);
    await expectAllDelivered(second, v, [...recorded, ...more]);
  });
});
