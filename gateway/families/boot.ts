/**
 * What the composition root and the config schema do with the registry, written once for
 * every family: the start order from `needs`/`provides`, the shared device-id space, the
 * secrets the compound file asks for, and the context a family is created with.
 *
 * Imports no family code: only the manifests' declarations reach here.
 */
import { GatehouseError } from '../core/errors.js';
import type { Capability, ConfigPath, FamilyContext, FamilyManifest, SecretRef } from './family.js';

/** Ids the gateway uses for its own `source.device` / `state/{device}` topics. */
export const RESERVED_DEVICE_IDS: readonly string[] = ['access', 'alarms', 'gateway'];

/**
 * The start order: a family starts after every family providing what it needs; ties keep
 * the registry order, so the order is the same on every boot. Refuses (coded) a need that
 * neither `core` nor any of `families` provides, and a cycle.
 */
export function orderFamilies<M extends Pick<FamilyManifest, 'name' | 'needs' | 'provides' | 'wants'>>(
  families: readonly M[],
  core: readonly Capability[],
): M[] {
  const providers = new Map<Capability, M[]>();
  for (const f of families) for (const c of f.provides ?? []) providers.set(c, [...(providers.get(c) ?? []), f]);
  const after = new Map<M, Set<M>>();
  for (const f of families) {
    const deps = new Set<M>();
    for (const need of f.needs ?? []) {
      const by = (providers.get(need) ?? []).filter((p) => p !== f);
      if (by.length === 0 && !core.includes(need)) {
        throw new GatehouseError(
          'FAMILY_NEEDS_MISSING',
          `family ${f.name} needs "${need}", which neither the core nor any configured family provides`,
          { family: f.name, capability: need },
        );
      }
      for (const p of by) deps.add(p);
    }
    // A want orders the start after its providers when there are any; none is no error.
    for (const want of f.wants ?? []) for (const p of providers.get(want) ?? []) if (p !== f) deps.add(p);
    after.set(f, deps);
  }
  const ordered: M[] = [];
  const placed = new Set<M>();
  while (ordered.length < families.length) {
    // The first family in registry order whose providers are all placed.
    const next = families.find((f) => !placed.has(f) && [...after.get(f)!].every((d) => placed.has(d)));
    if (!next) {
      const stuck = families.filter((f) => !placed.has(f)).map((f) => f.name);
      throw new GatehouseError('FAMILY_NEEDS_CYCLE', `families ${stuck.join(', ')} need each other in a cycle: no start order exists`, {
        families: stuck,
      });
    }
    ordered.push(next);
    placed.add(next);
  }
  return ordered;
}

/**
 * Device ids share one space across families (`source.device`, `state/{device}`): a second
 * claim of an id, or a reserved id, is an issue at the claim's place in the file.
 */
export function checkDeviceIds<C>(
  families: readonly FamilyManifest<C>[],
  config: C,
  issue: (path: ConfigPath, message: string) => void,
): void {
  const first = new Map<string, ConfigPath>();
  for (const f of families) {
    for (const claim of f.devices(config)) {
      if (RESERVED_DEVICE_IDS.includes(claim.id)) {
        issue(claim.path, `"${claim.id}" is reserved (state/${claim.id} is the gateway's own topic); choose another id`);
        continue;
      }
      const other = first.get(claim.id);
      if (other) issue(claim.path, `duplicate device id "${claim.id}" (also ${where(other)})`);
      else first.set(claim.id, claim.path);
    }
  }
}

/** `['cabinets', 0, 'id']` → `cabinets[0]`: the device, as an installer finds it in the file. */
function where(path: ConfigPath): string {
  const device = path[path.length - 1] === 'id' ? path.slice(0, -1) : path;
  return device.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}

/** Every secret the configured families read, with its resolved name (the one place defaults are applied). */
export function secretsOf<C>(families: readonly FamilyManifest<C>[], config: C): SecretRef[] {
  return families.filter((f) => f.configured(config)).flatMap((f) => f.secrets?.(config) ?? []);
}

export interface ContextParts<C> extends Omit<FamilyContext<C>, 'use' | 'secret'> {
  /** What the core and the families created so far provide. */
  provided: ReadonlyMap<Capability, unknown>;
}

/** The context one family is created with: `use()` only hands out what its manifest declared. */
export function familyContext<C>(manifest: FamilyManifest<C>, parts: ContextParts<C>): FamilyContext<C> {
  const { provided, ...rest } = parts;
  const needs = new Set(manifest.needs ?? []);
  const wants = new Set(manifest.wants ?? []);
  return {
    ...rest,
    secret: (ref) => parts.secrets.get(ref.name),
    use<T>(capability: Capability): T {
      if (wants.has(capability) && !needs.has(capability)) return provided.get(capability) as T;
      if (!needs.has(capability)) {
        throw new GatehouseError(
          'FAMILY_CAPABILITY_UNDECLARED',
          `family ${manifest.name} uses "${capability}" without declaring it in needs`,
          { family: manifest.name, capability },
        );
      }
      if (!provided.has(capability)) {
        throw new GatehouseError('FAMILY_NEEDS_MISSING', `family ${manifest.name} needs "${capability}", which nothing provides`, {
          family: manifest.name,
          capability,
        });
      }
      return provided.get(capability) as T;
    },
  };
}
