/**
 * What the console shows, told by the families: the pages of the configured families and
 * the family and kind of every configured device (`GET /api/families`). The browser reads
 * it instead of guessing a device's family from its state's keys, so a device whose state
 * happens to look like another family's still shows under its own.
 */
import type { FamilyConsole } from '../families/family.js';

/** The part of a family manifest the console reads (the registry's manifests have it). */
export interface ConsoleFamilySource<C> {
  name: string;
  configured(config: C): boolean;
  console?: FamilyConsole<C>;
}

export interface ConsoleCatalogue {
  views: { family: string; route: string; module: string; order: number }[];
  devices: { id: string; family: string; kind: string }[];
}

/** The pages of the core, always there; family pages sit between alarms and devices in the nav. */
export const CORE_VIEW_MODULES: readonly string[] = ['alarms.js', 'devices.js', 'system.js', 'users.js', 'config.js'];

/** state/alarms belongs to the core's alarm manager, not to a family. */
const CORE_DEVICES: ConsoleCatalogue['devices'] = [{ id: 'alarms', family: 'alarms', kind: 'alarms' }];

export function consoleCatalogue<C>(families: readonly ConsoleFamilySource<C>[], config: C): ConsoleCatalogue {
  const views: ConsoleCatalogue['views'] = [];
  const devices = [...CORE_DEVICES];
  for (const f of families) {
    if (!f.console) continue;
    // Devices of every family (an unconfigured one lists none but its fixed ones, such as
    // state/access, which credential commands write even without readers); pages of the configured.
    for (const d of f.console.devices(config)) devices.push({ id: d.id, family: f.name, kind: d.kind });
    if (f.configured(config)) for (const v of f.console.views ?? []) views.push({ family: f.name, ...v });
  }
  views.sort((a, b) => a.order - b.order);
  return { views, devices };
}

/** The view files the static server hands out: the core's and those of the configured families. */
export function servedViewModules(catalogue: ConsoleCatalogue): Set<string> {
  return new Set([...CORE_VIEW_MODULES, ...catalogue.views.map((v) => v.module)]);
}
