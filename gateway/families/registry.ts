/**
 * The one list of device families. Adding a family is its own folders (manifest, create
 * file, code) plus one line here: the config schema composes its slice, the composition
 * root creates, starts and stops it, `gatehouse check` reads its secrets.
 *
 * The order is the start order among families that do not need each other (needs/provides
 * reorder the rest), and the order device ids are claimed in (a duplicate is reported at
 * the later claim).
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from './family.js';
import { locksFamily, type locksConfig } from '../locks/family.js';
import { accessFamily, type accessConfig } from '../access/family.js';
import { camerasFamily, type camerasConfig } from '../cameras/family.js';
import { perimeterFamily, type perimeterConfig } from '../perimeter/family.js';
import { dc09Family, type dc09Config } from '../perimeter/dc09-family.js';
import { cabinetsFamily, type cabinetsConfig } from '../charging/family.js';
import { swapFamily, type swapConfig } from '../swap/family.js';

export const FAMILIES: readonly FamilyManifest<CompoundConfig>[] = [
  locksFamily,
  accessFamily,
  camerasFamily,
  perimeterFamily,
  dc09Family,
  cabinetsFamily,
  swapFamily,
];

/** The compound-file keys the families own, for the types config/schema.ts infers (the values come from FAMILIES). */
export type FamilyConfigShapes = typeof locksConfig &
  typeof accessConfig &
  typeof camerasConfig &
  typeof perimeterConfig &
  typeof dc09Config &
  typeof cabinetsConfig &
  typeof swapConfig;

/** The families whose devices the compound file configures: only their code is ever imported. */
export function configuredFamilies<C>(config: C, families: readonly FamilyManifest<C>[]): FamilyManifest<C>[] {
  return families.filter((f) => f.configured(config));
}
