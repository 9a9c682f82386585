/**
 * The MQTT.js options of one connection attempt of the uplink: identity, session, will,
 * keepalive, TLS material. Kept apart from the connection loop, which decides *which*
 * session (clean or resumed) and which node; this only writes them down.
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { UplinkConfig } from '../../config/schema.js';
import { GatehouseError } from '../core/errors.js';

function readPem(what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new GatehouseError(
      'CONFIG_UNREADABLE',
      `uplink.${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

const noLog = (): void => undefined;

/**
 * MQTT.js options for one attempt. PEM files are read on every attempt, so a renewed
 * certificate or a CA that was missing at boot is picked up without a restart.
 */
export function buildClientOptions(
  cfg: UplinkConfig,
  password: string | undefined,
  clientId: string,
  will: { topic: string; payload: string } | undefined,
  session: { clean: boolean } = { clean: false },
): IClientOptions {
  const opts: IClientOptions = {
    clientId,
    clean: session.clean,
    // No cache of the 65,536 packet-id Buffers in mqtt-packet (~6.5 MB of heap): see EmbeddedBroker.start.
    writeCache: false,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    connectTimeout: cfg.connectTimeoutMs,
    keepalive: cfg.keepaliveSeconds,
    protocolVersion: cfg.protocolVersion,
    rejectUnauthorized: cfg.rejectUnauthorized,
  };
  // MQTT.js logs each packet through `debug`, whose logger collects its arguments into an array
  // before it checks whether it is enabled: a sixth of the hot path's allocations (issue 18).
  // A no-op logger instead, unless someone asked for MQTT.js's debug output.
  if (!/mqttjs/.test(process.env.DEBUG ?? '')) opts.log = noLog;
  if (will) opts.will = { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true };
  // MQTT 5: the session outlives the connection by the resume window, and no longer.
  if (cfg.protocolVersion === 5) opts.properties = { sessionExpiryInterval: Math.ceil(cfg.sessionResumeMs / 1000) };
  if (cfg.username !== undefined) opts.username = cfg.username;
  if (password !== undefined) opts.password = password;
  if (cfg.caFile) opts.ca = readPem('caFile', cfg.caFile);
  if (cfg.certFile) opts.cert = readPem('certFile', cfg.certFile);
  if (cfg.keyFile) opts.key = readPem('keyFile', cfg.keyFile);
  return opts;
}
