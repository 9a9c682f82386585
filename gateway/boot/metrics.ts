/**
 * The metrics' wiring (moved out of the composition root): the Prometheus registry fed by
 * the outbox, alarms, presence and the uplink certificate, the /metrics + /healthz listener,
 * and what /healthz calls healthy. prom-client and gateway/metrics/ are imported here only
 * when metrics.enabled (tests/integration/metrics-lazy-load.test.ts): keep them type-only.
 */
import type { MetricsConfig } from '../../config/metrics-schema.js';
import type { Clock, Timers } from '../core/clock.js';
import type { LoggerFactory } from '../core/log.js';
import type { AlarmManager } from '../alarms/alarm-manager.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Health, MetricsServer } from '../metrics/metrics-server.js';
import type { Outbox } from '../outbox/outbox.js';
import type { PresencePolicy } from '../presence/presence-policy.js';
import type { CertificateExpiry } from '../uplink/cert-expiry.js';
import type { Uplink } from '../uplink/uplink.js';

export interface MetricsWiring {
  config: MetricsConfig;
  outbox: Outbox;
  alarms: AlarmManager;
  presence: PresencePolicy;
  /** Read at each scrape: the certificate watch exists only once the uplink started. */
  certificateExpiry(): CertificateExpiry | undefined;
  health(): Health;
  clock: Clock;
  timers: Timers;
  logs: LoggerFactory;
}

export async function createMetrics(w: MetricsWiring): Promise<{ metrics: GatewayMetrics; server: MetricsServer }> {
  const [{ GatewayMetrics }, { MetricsServer }] = await Promise.all([
    import('../metrics/gateway-metrics.js'),
    import('../metrics/metrics-server.js'),
  ]);
  const metrics = new GatewayMetrics({
    outbox: w.outbox,
    alarms: w.alarms,
    presence: w.presence,
    certificate: () => {
      const expiry = w.certificateExpiry();
      const info = expiry?.info();
      const secondsLeft = expiry?.secondsLeft();
      return info && secondsLeft !== undefined ? { subject: info.subject, secondsLeft } : undefined;
    },
    now: () => w.clock.now(),
    outboxScanMaxAgeMs: w.config.outboxScanMaxAgeMs,
  });
  const server = new MetricsServer({
    config: w.config,
    render: () => metrics.render(),
    health: () => w.health(),
    clock: w.clock,
    timers: w.timers,
    log: w.logs.child('metrics'),
  });
  return { metrics, server };
}

/**
 * What /healthz answers: healthy once start() finished, with no component failed, the
 * outbox committing and the uplink's watchdog satisfied. An uplink outage alone is healthy
 * (the box works offline and reconnects by itself; gatehouse_uplink_connected shows it).
 */
export function gatewayHealth(g: {
  running: boolean;
  /** Whether any component started (a start under way, or a stop not finished). */
  anyStarted: boolean;
  failed: ReadonlyMap<string, string>;
  outbox: Pick<Outbox, 'healthy'>;
  uplink: Pick<Uplink, 'healthy'> | undefined;
}): Health {
  const reasons: string[] = [];
  if (!g.running) reasons.push(g.anyStarted ? 'starting or stopping' : 'not started');
  for (const [name, err] of g.failed) reasons.push(`component ${name} failed: ${err}`);
  if (!g.outbox.healthy()) reasons.push('outbox: commits are stalled');
  if (g.uplink && !g.uplink.healthy()) reasons.push('uplink: no PUBACK in time, or its reconnect loop stopped');
  return { ok: reasons.length === 0, reasons };
}
