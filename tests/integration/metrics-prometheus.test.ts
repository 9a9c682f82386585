/**
 * Metrics and health (issue 15.7): a real Prometheus (Debian's package) scrapes the gateway's
 * `/metrics` every second and a PromQL query through its HTTP API returns the gateway's
 * actual outbox depth per class. The endpoint's other series (commands by result, alarms by
 * state and priority, devices by family, PUBACK latency with a real Mosquitto, default
 * process metrics), `/healthz` (200, and 503 with the reason when a component failed), and
 * the listener's limits (connection cap per address, deadline for the first request, GET only).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompoundConfig, type CompoundConfigInput } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { Prometheus } from '../helpers/prometheus.js';
import { startSimulatedCabinets } from '../../sim/cabinet/index.js';
import { waitFor, waitForAsync } from '../helpers/wait.js';
import { ROOT } from '../helpers/cli.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function gateway(
  extra: Partial<CompoundConfigInput>,
  metrics: Record<string, unknown> = {},
  beforeStart?: (gw: Gateway) => void,
): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-metrics-'));
  const config = CompoundConfig.parse({
    compound: { id: 'mc' },
    gateway: { id: 'gw-1' },
    console: { enabled: false },
    broker: { port: 0 },
    ...extra,
    metrics: { enabled: true, port: 0, outboxScanMaxAgeMs: 0, ...metrics },
  });
  const gw = new Gateway({ config, secrets: secretsFrom({}), dataDir: dir, logs: createLoggerFactory({ level: 'silent' }) });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => gw.stop());
  beforeStart?.(gw);
  await gw.start();
  return gw;
}

/** One sample of the exposition text, by its exact series (name and labels as printed). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(gw: Gateway): Promise<string> {
  const r = await fetch(`${gw.metricsUrl}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text();
}

async function record(gw: Gateway, system: number, device: number): Promise<void> {
  for (let i = 0; i < system; i++)
    await gw.outbox.record({
      class: 'system',
      type: 'component.failed',
      source: { device: 'gateway', point: `c${i}` },
      data: { component: `c${i}`, error: 'test' },
    });
  for (let i = 0; i < device; i++)
    await gw.outbox.record({
      class: 'device',
      type: 'device.offline',
      source: { device: `cam-${i}` },
      data: { family: 'camera', reason: 'unreachable' },
    });
}

describe('metrics', () => {
  it('a real Prometheus scrapes /metrics and PromQL returns the outbox depth the gateway holds', async () => {
    // A platform that never answers: everything recorded stays in the outbox.
    const gw = await gateway({ uplink: { url: `mqtt://127.0.0.1:${await freePort()}`, backoff: { minMs: 100, maxMs: 1000 } } });
    await record(gw, 7, 4);
    const stats = gw.outbox.stats();
    expect(stats.byClass.system).toBeGreaterThanOrEqual(7);
    expect(stats.byClass.device).toBe(4);

    const prom = await Prometheus.start([new URL(gw.metricsUrl!).host]);
    cleanup.push(() => prom.stop());
    const byClass = await waitForAsync(
      async () => {
        const samples = await prom.query('gatehouse_outbox_depth');
        const m = Object.fromEntries(samples.map((s) => [s.metric.class, s.value]));
        return m.system === stats.byClass.system && m.device === 4 ? m : undefined;
      },
      'Prometheus to hold the outbox depth',
      30_000,
      async () => ({ targets: await prom.targets(), log: prom.log().slice(-2000) }),
    );
    expect(byClass).toEqual({ alarm: 0, access: 0, charging: 0, device: 4, system: stats.byClass.system });
    const [total] = await prom.query('sum(gatehouse_outbox_depth)');
    expect(total!.value).toBe(gw.outbox.stats().events);
    const [age] = await prom.query('gatehouse_outbox_oldest_age_seconds{class="device"}');
    expect(age!.value).toBeGreaterThanOrEqual(0);
    expect(age!.value).toBeLessThan(120);
    const [records] = await prom.query('gatehouse_outbox_records_total{class="device"}');
    expect(records!.value).toBe(4);
    const [up] = await prom.query('up{job="gatehouse"}');
    expect(up!.value).toBe(1);

    // The Grafana dashboard in docs/: every query parses in this Prometheus and names only series the gateway exports.
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'docs/grafana-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exported = new Set([...(await scrape(gw)).matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]));
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    for (const expr of exprs) {
      await prom.query(expr.replaceAll('$__rate_interval', '1m'));
      for (const [name] of expr.matchAll(/gatehouse_\w+/g))
        expect(exported, `${name} in "${expr}"`).toContain(name.replace(/_bucket$/, ''));
    }
  }, 60_000);

  it('counts commands by result, alarms by state and priority, devices by family; exposes process metrics', async () => {
    const gw = await gateway({});
    const caller = { via: 'cli', role: 'platform', principal: 'test' } as const;
    await gw.router.handleMessage('system.ping', Buffer.from(JSON.stringify({ id: 'p-1', args: {} })), caller);
    await gw.router.handleMessage('no.such.command', Buffer.from(JSON.stringify({ id: 'p-2', args: {} })), caller);
    await gw.router.handleMessage('no.such.other', Buffer.from(JSON.stringify({ id: 'p-3', args: {} })), caller);
    gw.alarms.manager.raise({ kind: 'outbox.disk_full', source: { device: 'gateway' }, data: {} });
    const lock = gw.presence.track('flat-1', 'lock', () => undefined);
    lock.observe(true);
    gw.presence.track('flat-2', 'lock', () => undefined);
    const text = await waitForAsync(async () => {
      const t = await scrape(gw);
      return sample(t, 'gatehouse_commands_total{command="(invalid)",result="CMD_UNKNOWN"}') === 2 ? t : undefined;
    }, 'the command audit counted');
    expect(sample(text, 'gatehouse_commands_total{command="system.ping",result="ok"}')).toBe(1);
    expect(text).not.toContain('no.such');
    expect(sample(text, 'gatehouse_alarms{state="raised",priority="critical"}')).toBe(1);
    expect(sample(text, 'gatehouse_alarms{state="raised",priority="high"}')).toBe(0);
    expect(sample(text, 'gatehouse_devices{family="lock",state="online"}')).toBe(1);
    expect(sample(text, 'gatehouse_devices{family="lock",state="unknown"}')).toBe(1);
    expect(sample(text, 'gatehouse_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(sample(text, 'gatehouse_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^gatehouse_build_info\{version="[^"]+"\} 1$/m);
    // No uplink certificate: the series is absent rather than a made-up number.
    expect(text).not.toMatch(/^gatehouse_uplink_certificate_expiry_seconds /m);
  });

  it('times each answered poll per Modbus bus, and counts the cabinet online (a simulated cabinet over Modbus TCP)', async () => {
    const sims = await startSimulatedCabinets({ tcp: [{ id: 'cab-a', port: 0, ports: 4 }], tickMs: 0 });
    cleanup.push(() => sims.stop());
    const port = sims.tcpPort('cab-a');
    const gw = await gateway({ cabinets: [{ id: 'cab-a', bus: { tcp: { host: '127.0.0.1', port } }, ports: 4, pollMs: 100 }] });
    const bus = `tcp:127.0.0.1:${port}`;
    const text = await waitForAsync(async () => {
      const t = await scrape(gw);
      return (sample(t, `gatehouse_poll_cycle_seconds_count{bus="${bus}"}`) ?? 0) >= 3 ? t : undefined;
    }, 'three polls timed');
    const count = sample(text, `gatehouse_poll_cycle_seconds_count{bus="${bus}"}`)!;
    const sum = sample(text, `gatehouse_poll_cycle_seconds_sum{bus="${bus}"}`)!;
    // Real round trips over loopback: more than nothing, far less than the poll period each.
    expect(sum).toBeGreaterThan(0);
    expect(sum / count).toBeLessThan(0.1);
    expect(sample(text, 'gatehouse_devices{family="cabinet",state="online"}')).toBe(1);
  });

  it('PUBACK latency and publishes with a real broker', async () => {
    const broker: Mosquitto = await startMosquitto({ persistence: false });
    cleanup.push(() => broker.dispose());
    const gw = await gateway({ uplink: { url: broker.url } });
    await record(gw, 3, 2);
    await waitFor(() => gw.outbox.stats().events === 0, 'the outbox drained to the broker', 10_000);
    const text = await scrape(gw);
    const publishes = sample(text, 'gatehouse_uplink_publishes_total')!;
    expect(publishes).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'gatehouse_uplink_puback_latency_seconds_count')).toBe(publishes);
    expect(sample(text, 'gatehouse_uplink_puback_latency_seconds_bucket{le="+Inf"}')).toBe(publishes);
    expect(sample(text, 'gatehouse_uplink_connected')).toBe(1);
    expect(sample(text, 'gatehouse_uplink_reconnects_total')).toBe(0);
    expect(sample(text, 'gatehouse_outbox_depth{class="system"}')).toBe(0);

    await broker.restart();
    await waitFor(
      async () => sample(await scrape(gw), 'gatehouse_uplink_reconnects_total') === 1 || undefined,
      'a reconnect counted',
      15_000,
    );
  });

  it('/healthz: 503 "starting" while the gateway starts (the listener is up before the rest), 200 once started', async () => {
    // Asked over real HTTP from inside start-up: the alarms component starts after the metrics listener.
    let during: { status: number; body: unknown } | undefined;
    const gw = await gateway({ uplink: { url: `mqtt://127.0.0.1:${await freePort()}` } }, {}, (g) => {
      const start = g.alarms.start.bind(g.alarms);
      g.alarms.start = async () => {
        const r = await fetch(`${g.metricsUrl}/healthz`);
        during = { status: r.status, body: await r.json() };
        return start();
      };
    });
    expect(during).toEqual({ status: 503, body: { status: 'unhealthy', reasons: ['starting or stopping'] } });
    const after = await fetch(`${gw.metricsUrl}/healthz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ status: 'ok' });
  });

  it('/healthz: 200 once started (an unreachable platform is no failure), 503 naming a component that failed', async () => {
    const ok = await gateway({ uplink: { url: `mqtt://127.0.0.1:${await freePort()}` } });
    const r1 = await fetch(`${ok.metricsUrl}/healthz`);
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual({ status: 'ok' });

    // The embedded broker (not needed: no locks) cannot listen: the gateway runs on, unhealthy.
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => taken.close(r)));
    const bad = await gateway({ broker: { port: (taken.address() as { port: number }).port } });
    const r2 = await fetch(`${bad.metricsUrl}/healthz`);
    expect(r2.status).toBe(503);
    const body = (await r2.json()) as { status: string; reasons: string[] };
    expect(body.status).toBe('unhealthy');
    // ...and the uplink, which forwards to that broker when no platform is configured.
    expect(body.reasons).toEqual([
      expect.stringMatching(/^component broker failed: .*EADDRINUSE/),
      expect.stringMatching(/^component uplink failed: no uplink configured and the embedded broker is not running/),
    ]);

    await bad.stop();
    // Stopped: the listener is closed.
    await expect(fetch(`${bad.metricsUrl}/healthz`)).rejects.toThrow();
  });

  it('limits its listener: connections per address, a deadline for the first request, GET only, loopback by default', async () => {
    const gw = await gateway({}, { maxConnectionsPerAddress: 2, requestTimeoutMs: 300 });
    const { hostname, port } = new URL(gw.metricsUrl!);
    expect(hostname).toBe('127.0.0.1');
    expect(CompoundConfig.parse({ compound: { id: 'c' }, gateway: { id: 'g' } }).metrics).toMatchObject({
      enabled: false,
      host: '127.0.0.1',
    });
    const open = (): Promise<{ socket: Socket; closed: Promise<number> }> =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const socket = createConnection({ host: hostname, port: Number(port) }, () =>
          resolve({ socket, closed: new Promise((r) => socket.once('close', () => r(Date.now() - started))) }),
        );
        socket.once('error', reject);
      });
    const a = await open();
    const b = await open();
    const c = await open();
    // The third from the same address is closed at once; the two idle ones at the deadline.
    expect(await c.closed).toBeLessThan(250);
    expect(await a.closed).toBeGreaterThanOrEqual(250);
    expect(await b.closed).toBeGreaterThanOrEqual(250);

    const post = await fetch(`${gw.metricsUrl}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    const other = await fetch(`${gw.metricsUrl}/status`);
    expect(other.status).toBe(404);
    expect(gw.metricsServer!.connections().refused).toBeGreaterThanOrEqual(1);
  });
});
