/**
 * Remote configuration (config.apply, secrets.set): the outcome of a probation and which
 * secrets the platform changed. The `data` schemas (zod) of the event types recorded here,
 * declared once: `record()` is typed by them and `npm run docs` generates docs/asyncapi.yaml.
 */
import { z } from 'zod';
import { EXAMPLES } from './event-examples.js';
import { eventList } from '../events/declare.js';

const Version = z
  .string()
  .min(1)
  .max(64)
  .meta({ description: 'The version the platform gave with config.apply (`seed`: the installer file).' });
const Hash = z.string().meta({ description: 'sha256 of the compound file as received, `sha256:` and 64 hex digits.' });

const SecretNames = z.array(z.string()).min(1);

export const ConfigAppliedData = z
  .strictObject({
    version: Version,
    hash: Hash,
    previousVersion: Version,
    probationMs: z.int().min(0).meta({ description: 'How long the gateway took to prove healthy with it.' }),
    secrets: SecretNames.optional().meta({
      description: 'A secrets.set passed its probation: the names set (version is the running one).',
    }),
  })
  .meta({ id: 'ConfigAppliedData' });
export const ConfigRolledBackData = z
  .strictObject({
    version: Version,
    hash: Hash,
    restoredVersion: Version,
    reason: z
      .string()
      .min(1)
      .meta({ description: 'What was not healthy: components failed, uplink not connected, devices silent, or a crash.' }),
    secrets: SecretNames.optional().meta({
      description: 'A secrets.set was rolled back: these names have their previous values again (version is the running one).',
    }),
  })
  .meta({ id: 'ConfigRolledBackData' });
export const SecretsSetData = z
  .strictObject({
    names: z.array(z.string()).min(1).meta({ description: 'The secrets set; never their values.' }),
  })
  .meta({ id: 'SecretsSetData' });

export const REMOTE_CONFIG_EVENTS = eventList([
  {
    type: 'config.applied',
    class: 'system',
    data: ConfigAppliedData,
    description:
      'A configuration sent with config.apply passed its probation (components started, uplink connected, devices answering as before) and is now the last good one.',
    title: 'A remote configuration is in force',
    examples: EXAMPLES['config.applied'],
  },
  {
    type: 'config.rolled_back',
    class: 'system',
    data: ConfigRolledBackData,
    description:
      'A configuration sent with config.apply did not prove healthy within its probation (or the daemon died during it); the gateway went back to the last good one by itself. Published by the restored configuration.',
    title: 'A remote configuration was rolled back',
    examples: EXAMPLES['config.rolled_back'],
  },
  {
    type: 'config.secrets_set',
    class: 'system',
    data: SecretsSetData,
    description:
      'secrets.set stored these secrets (0600, data directory); the gateway restarts to use them. The values never leave the box.',
    title: 'Secrets changed by the platform',
    examples: EXAMPLES['config.secrets_set'],
  },
]);

declare module '../core/events.js' {
  interface EventDataMap {
    'config.applied': z.input<typeof ConfigAppliedData>;
    'config.rolled_back': z.input<typeof ConfigRolledBackData>;
    'config.secrets_set': z.input<typeof SecretsSetData>;
  }
}
