/**
 * The uplink's broker session across its own reconnects, against a real Mosquitto behind a
 * proxy that can hold the broker's bytes back (a slow or dead downstream), with the
 * watchdog and the reconnect backoff on an injected clock.
 *
 * The race these pin down: the ack watchdog dropped a link whose PUBACK was late just as a
 * platform command was on its way, and the reconnect used a clean session, so the command
 * in flight and any command published during the reconnect were thrown away by the broker
 * (seen as the occasionally failing "remote open after broker restart" end to end).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { cmdTopic, statusTopic, topicRoot } from '../../gateway/core/topics.js';
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { makeRig, testEvent, type Rig } from '../helpers/uplink-rig.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

describe('uplink session across its own reconnects', () => {
  let broker: Mosquitto;
  let platform: MqttClient;
  const seen: { topic: string; body: string }[] = [];
  const rigs: Rig[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    broker = await startMosquitto({ persistence: false });
    platform = await mqtt.connectAsync(broker.url, { clientId: 'session-platform', reconnectPeriod: 0 });
    platform.on('message', (topic, payload) => seen.push({ topic, body: payload.toString() }));
    await platform.subscribeAsync('gatehouse/v1/session-court/#', { qos: 1 });
  });
  afterEach(async () => {
    for (const p of proxies) p.release();
    for (const r of rigs.splice(0)) await r.dispose();
    for (const p of proxies.splice(0)) await p.close();
  });
  afterAll(async () => {
    await platform?.endAsync(true);
    await broker?.dispose();
  });

  /** A gateway's uplink through a proxy, on a manual clock; commands are answered through the outbox as the router does. */
  async function gateway(name: string, uplink: Parameters<typeof makeRig>[0]['uplink'] = {}) {
    const p = await TcpProxy.start({ port: broker.port });
    proxies.push(p);
    const clock = new ManualClock(Date.now());
    const root = topicRoot('session-court', name);
    const rig: Rig = makeRig({
      url: p.url,
      root,
      clock,
      uplink: { ackTimeoutMs: 1000, backoff: { minMs: 100, maxMs: 100 }, ...uplink },
      extra: {
        timers: clock,
        random: () => 1,
        onCommand: (cmd, payload) => {
          rig.commands.push({ name: cmd, payload: payload.toString() });
          const { id } = JSON.parse(payload.toString()) as { id: string };
          void rig.outbox.recordReply(`cmd/${cmd}/res`, { id, ok: true, result: { pong: true } });
        },
      },
    });
    rigs.push(rig);
    const online = () => seen.some((m) => m.topic === statusTopic(root) && m.body.includes('"online"'));
    rig.uplink.start();
    await nextEvent(rig.uplink, 'connected');
    // The online status is published after the SUBSCRIBE: once it is here, so is the subscription.
    await waitFor(online, `${name} online`);
    const command = (id: string) => platform.publishAsync(cmdTopic(root, 'system.ping'), JSON.stringify({ id }), { qos: 1 });
    const answered = (id: string) => seen.some((m) => m.topic === `${root}/cmd/system.ping/res` && m.body.includes(`"${id}"`));
    const ran = (id: string) => rig.commands.filter((c) => c.payload.includes(`"${id}"`)).length;
    const retries = () => rig.logs.filter((l) => l.includes('reconnecting after backoff')).length;
    /** Moves the clock on by `ms` and waits until the refused attempt it started has scheduled the next. */
    const refusedFor = async (ms: number) => {
      const before = retries();
      clock.advance(ms);
      await waitFor(() => retries() > before, 'the refused attempt');
    };
    return { p, clock, root, rig, command, answered, ran, refusedFor };
  }

  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion}: a command on its way when the watchdog drops a silent link, and one sent while it reconnects, are both run and answered`, async () => {
      const g = await gateway(`gw-race-${protocolVersion}`, { protocolVersion });
      g.p.hold();
      await g.rig.outbox.record(testEvent(1));
      await g.command('c-on-its-way');
      // The broker has sent the command: it sits in the proxy with the event's PUBACK.
      await waitFor(() => g.p.held().includes('c-on-its-way'), 'the command on its way to the gateway');
      const lost = nextEvent(g.rig.uplink, 'disconnected');
      g.clock.advance(1600); // PUBACK overdue and the broker silent for two watchdog rounds: half-open
      await lost;
      expect(g.rig.logs.some((l) => l.includes('dropping the half-open connection'))).toBe(true);
      // The platform goes on commanding while the gateway reconnects.
      await g.command('c-in-the-gap');
      g.p.release();
      g.p.pass();
      const back = nextEvent(g.rig.uplink, 'connected');
      g.clock.advance(100); // the backoff
      await back;
      await waitFor(
        () => g.answered('c-on-its-way') && g.answered('c-in-the-gap'),
        'both answers at the platform',
        10_000,
        () => ({
          commands: g.rig.commands,
          status: g.rig.uplink.status(),
        }),
      );
      expect(g.ran('c-in-the-gap')).toBe(1);
      expect(g.ran('c-on-its-way')).toBeGreaterThanOrEqual(1); // at least once: the router's replay store answers a repeat
      await waitFor(() => seen.some((m) => m.topic === `${g.root}/evt/${testEvent(1).class}`), 'the event re-sent on the new link');
      expect(g.rig.uplink.status()).toMatchObject({ connected: true, reconnects: 1 });
    });
  }

  it('keeps a live link whose PUBACK is late but already on its way when the watchdog looks', async () => {
    const g = await gateway('gw-stall');
    g.p.hold();
    await g.rig.outbox.record(testEvent(2));
    await waitFor(() => g.rig.uplink.status().inflight === 1 && g.p.held().length > 0, 'the PUBACK held back');
    // One watchdog round sees the PUBACK overdue and nothing heard: what an event loop
    // that stood still sees before it reads the socket.
    g.clock.advance(1250);
    g.p.release();
    await waitFor(() => g.rig.uplink.status().inflight === 0, 'the late PUBACK read');
    g.clock.advance(1000);
    expect(g.rig.uplink.status()).toMatchObject({ connected: true, reconnects: 0, inflight: 0 });
    expect(g.rig.logs.some((l) => l.includes('dropping the half-open connection'))).toBe(false);
  });

  it('keeps a link whose PUBACKs are late while the broker still talks to it (a slow broker, not a half-open link)', async () => {
    const g = await gateway('gw-slow');
    g.p.holdPubacks();
    await g.rig.outbox.record(testEvent(3));
    await waitFor(() => g.rig.uplink.status().inflight === 1 && g.p.held().length > 0, 'the PUBACK held back');
    g.clock.advance(900);
    // The broker is alive: a command reaches the gateway while the PUBACK is late.
    await g.command('c-slow');
    await waitFor(() => g.ran('c-slow') === 1, 'the command through the slow link');
    g.clock.advance(600); // PUBACK 1500 ms overdue, over two watchdog rounds; the broker last heard 600 ms ago
    expect(g.rig.uplink.status()).toMatchObject({ connected: true, reconnects: 0 });
    expect(g.rig.uplink.status().inflight).toBeGreaterThanOrEqual(1); // the event (and the answer) still unacknowledged
    g.p.release();
    await waitFor(() => g.rig.uplink.status().inflight === 0, 'the late PUBACK');
    await waitFor(() => g.answered('c-slow'), 'the answer');
    expect(g.rig.uplink.status()).toMatchObject({ connected: true, reconnects: 0 });
    expect(g.rig.logs.some((l) => l.includes('dropping the half-open connection'))).toBe(false);
  });

  it('starts clean after an outage longer than sessionResumeMs: a command queued meanwhile never runs late', async () => {
    const g = await gateway('gw-stale', { sessionResumeMs: 5000 });
    const lost = nextEvent(g.rig.uplink, 'disconnected');
    g.p.refuse();
    g.p.resetAll();
    await lost;
    await g.command('c-stale'); // queued by the broker for the session the gateway left
    await g.refusedFor(6000); // retries refused, past the resume window
    g.p.pass();
    const back = nextEvent(g.rig.uplink, 'connected');
    g.clock.advance(100);
    await back;
    await waitFor(() => seen.filter((m) => m.topic === statusTopic(g.root) && m.body.includes('"online"')).length >= 2, 'online again');
    await g.command('c-live');
    await waitFor(() => g.answered('c-live'), 'the live command answered');
    expect(g.ran('c-stale')).toBe(0);
    expect(g.answered('c-stale')).toBe(false);
  });

  it('resumes within sessionResumeMs: a command sent during a short outage runs once the link is back', async () => {
    const g = await gateway('gw-short', { sessionResumeMs: 5000 });
    const lost = nextEvent(g.rig.uplink, 'disconnected');
    g.p.refuse();
    g.p.resetAll();
    await lost;
    await g.command('c-short');
    await g.refusedFor(1000); // retries refused, within the window
    g.p.pass();
    const back = nextEvent(g.rig.uplink, 'connected');
    g.clock.advance(100);
    await back;
    await waitFor(() => g.answered('c-short'), 'the command sent during the outage answered');
    expect(g.ran('c-short')).toBe(1);
  });
});
