/**
 * The device counts of `gatehouse check`'s summary line, from the families the compound file
 * configures, in registry order: each family words its own part (`summary`), and one that
 * declares none is still counted from the devices it claims, so a new family is never left out.
 */
import type { FamilyManifest } from './family.js';
import { configuredFamilies } from './registry.js';

export function deviceSummary<C>(config: C, families: readonly FamilyManifest<C>[]): string {
  const parts = configuredFamilies(config, families).map((f) => f.summary?.(config) ?? `${f.name}: ${f.devices(config).length} device(s)`);
  return parts.length ? parts.join(', ') : 'no devices';
}
