/**
 * The gateway's components in start order (moved out of the composition root, the order and
 * its reasons unchanged). Stop runs in reverse. The slots are the Gateway's public fields,
 * read when a component starts or stops (the metrics, console and live view exist only after
 * prepare()) and set as they start (ports, URLs, the uplink).
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { AlarmsComponent } from '../alarms/create-alarms.js';
import type { EmbeddedBroker } from '../broker/embedded-broker.js';
import type { LiveViewHub } from '../cameras/live-view.js';
import type { MediaPublisher } from '../cameras/media-publisher.js';
import type { ConsoleServer } from '../console/console-server.js';
import type { ControlServer } from '../control/control-socket.js';
import type { FamilyInstance, FamilyManifest } from '../families/family.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import type { Outbox } from '../outbox/outbox.js';
import type { PresencePolicy } from '../presence/presence-policy.js';
import type { RemoteConfig } from '../remote-config/remote-config.js';
import type { Component } from './lifecycle.js';
import { startUplink, type UplinkSlots, type UplinkWiring } from './uplink.js';

export interface ComponentSlots extends UplinkSlots {
  readonly outbox: Outbox;
  readonly broker: EmbeddedBroker;
  readonly alarms: AlarmsComponent;
  readonly presence: PresencePolicy;
  readonly remoteConfig: RemoteConfig;
  metrics: GatewayMetrics | undefined;
  metricsServer: MetricsServer | undefined;
  metricsUrl: string | undefined;
  brokerPort: number;
  liveView: LiveViewHub | undefined;
  consoleServer: ConsoleServer | undefined;
  consoleUrl: string | undefined;
}

export interface ComponentParts {
  control: ControlServer;
  mediaPublisher: MediaPublisher;
  /** Components the compound file cannot do without, with the reason. */
  required: ReadonlyMap<string, string>;
  /** The configured families in start order. */
  ordered: readonly FamilyManifest<CompoundConfig>[];
  /** A family's instance to start; throws the error its load() or create() threw. */
  toStart(family: string): FamilyInstance;
  /** A family's instance to stop, if it was created. */
  created(family: string): FamilyInstance | undefined;
  /** What the uplink is wired with, besides what is read at its start. */
  uplink: Omit<UplinkWiring, 'alarms' | 'mediaPublisher' | 'metrics' | 'brokerPort'>;
}

export function gatewayComponents(g: ComponentSlots, p: ComponentParts): Component[] {
  return [
    { name: 'outbox', essential: true, start: () => undefined, stop: () => g.outbox.close() },
    // Early, so /healthz says "starting" while the rest starts, and a scrape sees the start-up.
    {
      name: 'metrics',
      essential: false,
      start: async () => {
        if (g.metricsServer) g.metricsUrl = (await g.metricsServer.start()).url;
      },
      stop: () => g.metricsServer?.stop(),
    },
    // `gatehouse user` reaches the daemon here (the change applied and audited by the owner of outbox.db).
    { name: 'control', essential: false, start: () => p.control.start(), stop: () => p.control.stop() },
    // Started before the sources and stopped after them: its last state/alarms write needs the outbox.
    { name: 'alarms', essential: false, start: () => g.alarms.start(), stop: () => g.alarms.stop() },
    {
      name: 'broker',
      essential: p.required.has('broker'),
      requiredBecause: p.required.get('broker'),
      start: async () => {
        g.brokerPort = (await g.broker.start()).port;
      },
      stop: () => g.broker.stop(),
    },
    {
      name: 'uplink',
      essential: p.required.has('uplink'),
      requiredBecause: p.required.get('uplink'),
      start: () => {
        const at = { alarms: g.alarms.manager, mediaPublisher: p.mediaPublisher, metrics: g.metrics, brokerPort: g.brokerPort };
        startUplink({ ...p.uplink, ...at }, g);
      },
      stop: async () => {
        g.certificateExpiry?.stop();
        await g.uplink?.stop();
      },
    },
    // Stops after every device family and before the uplink: a planned stop leaves each
    // device's retained state saying so (online: null, reason: gateway_stopped), delivered.
    { name: 'presence', essential: false, start: () => undefined, stop: () => g.presence.markStopped(g.outbox) },
    // Each configured family in needs order; one that cannot be created or started is reported and the rest runs.
    ...p.ordered.map((m): Component => ({
      name: m.name,
      essential: false,
      start: () => p.toStart(m.name).start(),
      stop: () => p.created(m.name)?.stop(),
    })),
    {
      name: 'media',
      essential: false,
      start: () => undefined,
      stop: async () => {
        p.mediaPublisher.close();
        await g.liveView?.close();
      },
    },
    // After the sources it drives, so it stops before them: sirens it holds on are switched
    // off while the perimeter's bus is still open (the alarms component stops much later).
    { name: 'linkage', essential: false, start: () => undefined, stop: () => g.alarms.linkage().stop() },
    // Last to start, first to stop: no guard acts on a gateway that is not running yet.
    {
      name: 'console',
      essential: false,
      start: async () => {
        if (g.consoleServer) g.consoleUrl = (await g.consoleServer.start()).url;
      },
      stop: () => g.consoleServer?.stop(),
    },
    // After everything it judges: a probation starts once every component had its chance to start.
    { name: 'remote-config', essential: false, start: () => g.remoteConfig.start(), stop: () => g.remoteConfig.stop() },
  ];
}
