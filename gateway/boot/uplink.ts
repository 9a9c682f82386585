/**
 * The uplink's wiring (moved out of the composition root): which broker it forwards to (the
 * platform's nodes, or the embedded broker when no platform is configured), the box's own
 * certificate and its expiry watch, where commands from the platform go, and the media
 * publisher that rides on the uplink's connection.
 */
import type { CompoundConfig, UplinkConfig } from '../../config/schema.js';
import { splitUplinkUrls, UplinkConfig as UplinkConfigSchema, uplinkUrls } from '../../config/schema.js';
import { secretsFrom, type Secrets } from '../../config/load.js';
import type { Clock, Timers } from '../core/clock.js';
import type { LoggerFactory } from '../core/log.js';
import type { AlarmManager } from '../alarms/alarm-manager.js';
import type { MediaPublisher } from '../cameras/media-publisher.js';
import type { CommandRouter } from '../commands/router.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Outbox } from '../outbox/outbox.js';
import { CertificateExpiry } from '../uplink/cert-expiry.js';
import { withBoxIdentity } from '../uplink/box-identity.js';
import { certificateNoticeStore } from '../uplink/cert-notices.js';
import { redactUrl } from '../uplink/connection.js';
import { Uplink } from '../uplink/uplink.js';

/** The internal account the uplink uses on the embedded broker when there is no platform. */
export const INTERNAL_UPLINK_USER = 'gatehouse-uplink';

export interface UplinkWiring {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  /** GATEHOUSE_UPLINK_URL: one URL or a comma-separated list; overrides uplink.url/urls. */
  uplinkUrl: string | undefined;
  logs: LoggerFactory;
  outbox: Outbox;
  alarms: AlarmManager;
  router: CommandRouter;
  mediaPublisher: MediaPublisher;
  metrics: GatewayMetrics | undefined;
  clock: Clock;
  timers: Timers;
  root: string;
  /** The embedded broker's port (0 when it is not running) and the uplink's password on it. */
  brokerPort: number;
  internalPassword: string;
}

/**
 * Where the uplink and the certificate watch are kept (the Gateway's public fields). Each is
 * set as soon as it exists, so a stop after a half-done start still stops what was started.
 */
export interface UplinkSlots {
  uplink: Uplink | undefined;
  certificateExpiry: CertificateExpiry | undefined;
}

export function startUplink(w: UplinkWiring, into: UplinkSlots): void {
  const urls = w.uplinkUrl !== undefined ? splitUplinkUrls(w.uplinkUrl) : uplinkUrls(w.config.uplink ?? {});
  const embedded = urls.length === 0;
  if (embedded && !w.brokerPort) throw new Error('no uplink configured and the embedded broker is not running: nothing to forward to');
  let config: UplinkConfig;
  let secrets = w.secrets;
  if (embedded) {
    // No platform: forward to the embedded broker so local consumers still get everything.
    config = UplinkConfigSchema.parse({
      url: `mqtt://127.0.0.1:${w.brokerPort}`,
      username: INTERNAL_UPLINK_USER,
      passwordSecret: 'internal.uplink',
      clientId: `gatehouse-${w.config.gateway.id}`,
    });
    secrets = secretsFrom({ 'internal.uplink': w.internalPassword });
  } else {
    const { url: _url, urls: _urls, ...rest } = w.config.uplink ?? {};
    // The box's own certificate from `gatehouse cert install` when the compound file names none.
    config = withBoxIdentity(UplinkConfigSchema.parse(urls.length === 1 ? { ...rest, url: urls[0] } : { ...rest, urls }), w.dataDir);
    if (config.certFile) {
      into.certificateExpiry = new CertificateExpiry({
        certFile: config.certFile,
        outbox: w.outbox,
        alarms: w.alarms,
        clock: w.clock,
        timers: w.timers,
        log: w.logs.child('uplink'),
        notices: certificateNoticeStore(w.outbox.scope('uplink')),
      });
      into.certificateExpiry.start();
    }
  }
  const log = w.logs.child('uplink');
  const uplink = new Uplink({
    config,
    secrets,
    outbox: w.outbox,
    clock: w.clock,
    log,
    topicRoot: w.root,
    onCommand: (name, payload) => {
      void w.router.handleMessage(name, payload, {
        via: embedded ? 'embedded-broker' : 'uplink',
        role: 'platform',
        principal: embedded ? 'embedded-broker' : 'platform',
      });
    },
  });
  into.uplink = uplink;
  log.info({ target: embedded ? 'embedded broker' : urls.map(redactUrl).join(',') }, 'uplink starting');
  w.metrics?.attachUplink(uplink);
  uplink.on('connected', () => w.mediaPublisher.attach({ publish: (topic, payload) => uplink.publishRaw(topic, payload) }));
  uplink.on('disconnected', () => w.mediaPublisher.detach());
  uplink.start();
}
