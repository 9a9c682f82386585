/**
 * `metrics:` — the Prometheus endpoint and health check (issue 15.7), a listener of its own,
 * never the console's. Off by default (prom-client is then never loaded: the idle RSS stays
 * what issue 12 measured); when enabled it binds loopback unless told otherwise, because the
 * numbers describe the compound's security devices and nothing on the LAN needs them.
 */
import { z } from 'zod';

export const MetricsConfig = z
  .object({
    enabled: z.boolean().default(false),
    /** Interface address to bind. Loopback by default: a scraper on the LAN is a decision. */
    host: z.string().default('127.0.0.1'),
    /** 9464: the port commonly used for an application's own exporter. 0 picks a free one. */
    port: z.number().int().min(0).max(65535).default(9464),
    /** Connection caps, as on every listener: a scraper needs one or two. */
    maxConnections: z.number().int().min(1).max(1000).default(16),
    maxConnectionsPerAddress: z.number().int().min(1).max(1000).default(4),
    /** Time from accept to the first request; longer and the connection is closed. */
    requestTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
    /** The per-class outbox counts need a table scan: a scrape reuses one at most this old. */
    outboxScanMaxAgeMs: z.number().int().min(0).max(600_000).default(2000),
  })
  .strict();

export type MetricsConfig = z.infer<typeof MetricsConfig>;
