/**
 * The live check of the uplink to the district platform (`gatehouse check --devices`):
 * the connection (the daemon's own, when it runs; a short MQTT connection of the check's
 * own otherwise, without a last will so it announces nothing), the broker's TLS chain
 * against the configured CA, and the expiry of the box's client certificate.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import type { Secrets } from '../../config/load.js';
import type { UplinkConfig } from '../../config/schema.js';
import type { Clock, Timers } from '../core/clock.js';
import type { DeviceProbeResult } from '../families/family.js';
import type { UplinkStatus } from '../uplink/uplink.js';

/** Client certificates this close to expiry are a warning (the platform alarms at 7 days). */
const EXPIRY_WARNING_DAYS = 30;

export interface UplinkProbeOptions {
  config: UplinkConfig;
  /** The broker node to check (one of uplink.urls). */
  url: string;
  /** The row's name when several nodes are checked. */
  id?: string;
  secrets: Secrets;
  clientId: string;
  clock: Clock;
  timers: Timers;
  timeoutMs: number;
  /** The daemon's uplink status when it runs. */
  running?: UplinkStatus | undefined;
}

export async function probeUplink(o: UplinkProbeOptions): Promise<DeviceProbeResult> {
  const base = { id: o.id ?? 'uplink', kind: 'uplink' };
  const url = new URL(o.url);
  const where = `${url.protocol}//${url.hostname}:${url.port || defaultPort(url.protocol)}`;
  const warnings: string[] = [];
  const identity: Record<string, string> = { url: where };
  // The client certificate: read locally whatever the daemon does.
  if (o.config.certFile) {
    try {
      const cert = new X509Certificate(readFileSync(o.config.certFile));
      const days = Math.floor((Date.parse(cert.validTo) - o.clock.now()) / 86_400_000);
      identity.certificate = cert.subject.replace(/\n/g, ', ');
      identity.certificateExpires = new Date(cert.validTo).toISOString();
      if (days < 0)
        return {
          ...base,
          identity,
          ok: false,
          status: 'CERT EXPIRED',
          detail: `client certificate ${o.config.certFile} expired on ${identity.certificateExpires}`,
          advice: 'request and install a new certificate for this box (the platform refuses an expired one)',
        };
      if (days < EXPIRY_WARNING_DAYS)
        warnings.push(`the uplink client certificate expires in ${days} day(s) (${identity.certificateExpires}): renew it`);
    } catch (err) {
      return {
        ...base,
        ok: false,
        status: 'BAD CERT',
        detail: `client certificate ${o.config.certFile} unreadable: ${(err as Error).message}`,
        advice: 'fix uplink.certFile: a PEM certificate readable by the service',
      };
    }
  }
  let chain = '';
  if (url.protocol === 'mqtts:' || url.protocol === 'wss:') {
    const tls = await checkTls(url.hostname, Number(url.port || defaultPort(url.protocol)), o);
    if (tls.error !== undefined)
      return {
        ...base,
        identity,
        ok: false,
        status: tls.reached ? 'TLS REFUSED' : 'UNREACHABLE',
        detail: `${where}: ${tls.error}`,
        advice: tls.reached
          ? `the broker's certificate does not verify against ${o.config.caFile ?? 'the system CAs'}: set uplink.caFile to the district CA`
          : `cannot reach ${where}: check the box's network, DNS and firewall`,
      };
    chain = `, TLS chain verified (${tls.issuer ?? 'issuer unknown'})`;
  }
  if (o.running) {
    const s = o.running;
    if (s.connected)
      return {
        ...base,
        identity,
        ok: true,
        status: 'online',
        detail: `connected to ${s.url} (the daemon's connection)${chain}`,
        ...(warnings.length ? { warnings } : {}),
      };
    return {
      ...base,
      identity,
      ok: false,
      status: 'OFFLINE',
      detail: `the daemon is not connected to ${s.url} after ${s.attempts} attempt(s): ${s.lastError ?? 'no error reported'}`,
      advice: adviceFor(s.lastError ?? '', where),
    };
  }
  const mqtt = await connectOnce(o);
  if (mqtt.error !== undefined)
    return { ...base, identity, ok: false, status: 'OFFLINE', detail: `${where}: ${mqtt.error}`, advice: adviceFor(mqtt.error, where) };
  return {
    ...base,
    identity,
    ok: true,
    status: 'online',
    detail: `connected to ${where}${chain}`,
    ...(warnings.length ? { warnings } : {}),
  };
}

function defaultPort(protocol: string): number {
  return protocol === 'mqtts:' ? 8883 : protocol === 'wss:' ? 443 : protocol === 'ws:' ? 80 : 1883;
}

function adviceFor(error: string, where: string): string {
  if (/not authori[sz]ed|bad user ?name or password|Connection refused: (Not authorized|Bad username)/i.test(error))
    return `the platform broker refused the credentials: check uplink.username, the secret in uplink.passwordSecret, or the box's certificate`;
  return `cannot connect to ${where}: check the box's network, DNS, firewall, and uplink.url`;
}

async function checkTls(host: string, port: number, o: UplinkProbeOptions): Promise<{ reached: boolean; error?: string; issuer?: string }> {
  return new Promise((resolve) => {
    let ca: Buffer | undefined;
    try {
      ca = o.config.caFile ? readFileSync(o.config.caFile) : undefined;
    } catch (err) {
      return resolve({ reached: false, error: `uplink.caFile unreadable: ${(err as Error).message}` });
    }
    const socket = tlsConnect({ host, port, servername: host, ...(ca ? { ca } : {}), rejectUnauthorized: false });
    const timer = o.timers.setTimeout(() => {
      socket.destroy();
      resolve({ reached: false, error: `no TLS handshake within ${o.timeoutMs} ms` });
    }, o.timeoutMs);
    socket.once('secureConnect', () => {
      timer.cancel();
      const cn = socket.getPeerCertificate()?.issuer?.CN;
      const issuer = Array.isArray(cn) ? cn.join(', ') : cn;
      const authError = socket.authorizationError;
      socket.end();
      if (!socket.authorized) resolve({ reached: true, error: `certificate not trusted: ${String(authError)}` });
      else resolve({ reached: true, ...(issuer ? { issuer } : {}) });
    });
    socket.once('error', (err) => {
      timer.cancel();
      resolve({ reached: false, error: err.message });
    });
  });
}

async function connectOnce(o: UplinkProbeOptions): Promise<{ error?: string }> {
  const { connect } = await import('mqtt');
  const { buildClientOptions } = await import('../uplink/client-options.js');
  let opts;
  try {
    const password = o.config.passwordSecret ? o.secrets.get(o.config.passwordSecret) : undefined;
    opts = buildClientOptions({ ...o.config, connectTimeoutMs: o.timeoutMs }, password, `${o.clientId}-check`, {
      topic: 'unused',
      payload: '',
    });
  } catch (err) {
    return { error: (err as Error).message };
  }
  // A check announces nothing: no last will (the daemon's retained status stays as it is).
  delete opts.will;
  const client = connect(o.url, opts);
  const result = await new Promise<{ error?: string }>((resolve) => {
    const timer = o.timers.setTimeout(() => resolve({ error: `no CONNACK within ${o.timeoutMs} ms` }), o.timeoutMs);
    client.once('connect', () => {
      timer.cancel();
      resolve({});
    });
    client.once('error', (err) => {
      timer.cancel();
      resolve({ error: err.message });
    });
    client.once('close', () => {
      timer.cancel();
      resolve({ error: 'connection closed before CONNACK' });
    });
  });
  await client.endAsync(true).catch(() => undefined);
  return result;
}
