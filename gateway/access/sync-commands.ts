/**
 * Credential sync commands for the platform: `access.credentials.snapshot` (one chunk of a
 * full set; the set replaces the store atomically once every chunk of its version has
 * arrived) and `access.credentials.delta` (changes from the version the compound holds).
 * After every applied change the held version is recorded (`access.credentials.synced`)
 * and published retained on `state/access`, so the platform knows what every compound
 * holds and whether to send a delta or a new snapshot.
 */
import { defineCommand, type CommandDefinition } from '../commands/types.js';
import { GatehouseError } from '../core/errors.js';
import type { Outbox } from '../outbox/outbox.js';
import { Delta, SnapshotChunk } from './credential-types.js';
import type { AccessDecider } from './decider.js';
import { ACCESS_STATE_DEVICE } from './state-device.js';
export { ACCESS_STATE_DEVICE };

export function publishAccessState(decider: Pick<AccessDecider, 'syncState'>, outbox: Pick<Outbox, 'setState'>): Promise<void> {
  const s = decider.syncState();
  return outbox.setState(ACCESS_STATE_DEVICE, {
    version: s.version,
    count: s.count,
    updatedAt: s.appliedAt === null ? null : new Date(s.appliedAt).toISOString(),
  });
}

export function syncCommands(
  decider: Pick<AccessDecider, 'sync' | 'syncState'>,
  outbox: Pick<Outbox, 'record' | 'setState'>,
  failed: () => Error | undefined = () => undefined,
): CommandDefinition[] {
  // With the box's hash key unreadable, anything stored now would be hashed under the wrong key.
  const refuseIfFailed = () => {
    const err = failed();
    if (err) throw new GatehouseError('CONFIG_INVALID', `credential store unavailable: ${err.message}`);
  };
  const applied = async (kind: 'snapshot' | 'delta') => {
    const s = decider.syncState();
    await outbox.record({
      class: 'system',
      type: 'access.credentials.synced',
      source: { device: 'gateway', point: ACCESS_STATE_DEVICE },
      data: { kind, version: s.version, count: s.count },
    });
    await publishAccessState(decider, outbox);
  };
  return [
    defineCommand({
      name: 'access.credentials.snapshot',
      description: 'One chunk of a full credential set; applied atomically when all chunks of its version have arrived.',
      args: SnapshotChunk,
      roles: ['platform', 'admin'],
      async handler(args) {
        refuseIfFailed();
        const result = decider.sync.applySnapshotChunk(args);
        if (result.applied) await applied('snapshot');
        return { ...result };
      },
    }),
    defineCommand({
      name: 'access.credentials.delta',
      description: 'Adds, changes and revokes credentials from the version the compound holds (ACCESS_VERSION_MISMATCH otherwise).',
      args: Delta,
      roles: ['platform', 'admin'],
      async handler(args) {
        refuseIfFailed();
        const result = decider.sync.applyDelta(args);
        if (result.applied) await applied('delta');
        return { ...result };
      },
    }),
  ];
}
