/**
 * Opens the MQTT.js client of one uplink attempt. For `mqtt://` and `mqtts://` (what a box
 * uses) the TCP or TLS socket is made here and handed to MQTT.js's client; only `ws://`,
 * `wss://`, a SOCKS proxy (MQTTJS_SOCKS_PROXY) and credentials inside the URL go through
 * `mqtt.connect`.
 *
 * Why: `mqtt.connect` builds its table of every transport on its first call, which requires
 * `ws` (with zlib and https) and the SOCKS client (socks, ip-address, smart-buffer, dns)
 * even for a plain TCP uplink: ~1 MB of idle RSS on a box that uses none of them (issue 12;
 * tests/integration/ws-lazy-load.test.ts). The TLS socket is set up as MQTT.js's own
 * `lib/connect/tls.js` does it (SNI for host names, verified unless rejectUnauthorized is
 * false, a verification failure reported to the client), so the behaviour is the same.
 */
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';

export function connectUplink(url: string, options: IClientOptions): MqttClient {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return mqtt.connect(url, options); // MQTT.js reports what is wrong with it, as before.
  }
  const scheme = u.protocol.replace(/:$/, '');
  const plain = scheme === 'mqtt' || scheme === 'tcp';
  const secure = scheme === 'mqtts' || scheme === 'ssl' || scheme === 'tls';
  if ((!plain && !secure) || u.username || u.password || process.env.MQTTJS_SOCKS_PROXY) return mqtt.connect(url, options);
  // Like MQTT.js: a client certificate and key make a plain URL a TLS one.
  const tls = secure || (options.cert !== undefined && options.key !== undefined);
  // URL keeps the brackets of an IPv6 literal; the socket wants the bare address.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : tls ? 8883 : 1883;
  const opts: IClientOptions = { ...options, protocol: tls ? 'mqtts' : 'mqtt', host, hostname: host, port };
  // MQTT.js calls the builder from its constructor, with the client: use that one.
  const client = new MqttClient((c) => (tls ? tlsStream(c, opts, host, port) : netConnect({ host, port })), opts);
  // As mqtt.connect: an error with no listener of the caller's yet must not throw.
  client.on('error', () => {});
  return client;
}

function tlsStream(client: MqttClient, opts: IClientOptions, host: string, port: number) {
  const rejectUnauthorized = opts.rejectUnauthorized !== false;
  const tlsOpts = { ...(opts as ConnectionOptions), host, port, rejectUnauthorized } as ConnectionOptions & { path?: unknown };
  if (isIP(host) === 0 && !tlsOpts.servername) tlsOpts.servername = host;
  delete tlsOpts.path;
  const connection = tlsConnect(tlsOpts);
  const onError = (err: Error): void => {
    if (rejectUnauthorized) client.emit('error', err);
    connection.end();
  };
  connection.on('secureConnect', () => {
    if (rejectUnauthorized && !connection.authorized) connection.emit('error', new Error('TLS not authorized'));
    else connection.removeListener('error', onError);
  });
  connection.on('error', onError);
  return connection;
}
