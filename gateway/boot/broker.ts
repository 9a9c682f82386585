/**
 * The embedded broker's wiring (moved out of the composition root): the device accounts the
 * configured families declare, the gateway's own uplink account and the operators, and where
 * an operator's command goes.
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { LoggerFactory } from '../core/log.js';
import { EmbeddedBroker } from '../broker/embedded-broker.js';
import type { OperatorCommandHandler } from '../broker/operator-commands.js';
import type { FamilyManifest } from '../families/family.js';
import { brokerAccounts } from '../required-components.js';
import { INTERNAL_UPLINK_USER } from './uplink.js';

export interface BrokerWiring {
  config: CompoundConfig;
  secrets: Secrets;
  /** The configured families, whose manifests declare the device accounts. */
  families: readonly FamilyManifest<CompoundConfig>[];
  internalPassword: string;
  /** Extra accounts, e.g. the demo's platform watcher. */
  operators: readonly { username: string; password: string }[] | undefined;
  root: string;
  dataDir: string;
  logs: LoggerFactory;
  onOperatorCommand: OperatorCommandHandler;
}

export function createBroker(w: BrokerWiring): EmbeddedBroker {
  return new EmbeddedBroker({
    config: w.config.broker,
    secrets: w.secrets,
    // Declared by the families' manifests: the account table exists before any family code is loaded.
    devices: brokerAccounts(w.config, w.families).map((a) => ({ id: a.username, passwordSecret: a.secret, family: a.kind })),
    internalAccounts: [
      { username: INTERNAL_UPLINK_USER, password: w.internalPassword, role: 'gateway' },
      ...(w.operators ?? []).map((o) => ({ ...o, role: 'operator' as const })),
    ],
    topicRoot: w.root,
    log: w.logs.child('broker'),
    dataDir: w.dataDir,
    onOperatorCommand: w.onOperatorCommand,
  });
}
