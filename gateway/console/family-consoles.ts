/**
 * The console declarations of the families, until the family registry carries them in each
 * manifest (`FamilyManifest.console`): then the composition root passes the registry to
 * consoleCatalogue() and this file goes. Each entry is the family's own declaration; only
 * the pairing with its name and its configured() test is written here.
 */
import type { CompoundConfig } from '../../config/schema.js';
import { accessConsole } from '../access/console.js';
import { camerasConsole } from '../cameras/console.js';
import { chargingConsole } from '../charging/console.js';
import { locksConsole } from '../locks/console.js';
import { perimeterConsole } from '../perimeter/console.js';
import type { ConsoleFamilySource } from './catalogue.js';

export const FAMILY_CONSOLES: readonly ConsoleFamilySource<CompoundConfig>[] = [
  { name: 'locks', configured: (c) => c.locks.length > 0, console: locksConsole },
  { name: 'access', configured: (c) => c.readers.length > 0 || c.doors.length > 0, console: accessConsole },
  { name: 'cameras', configured: (c) => c.cameras.length > 0, console: camerasConsole },
  { name: 'perimeter', configured: (c) => c.inputModules.length > 0 || c.zones.length > 0 || c.partitions.length > 0, console: perimeterConsole },
  { name: 'cabinets', configured: (c) => c.cabinets.length > 0, console: chargingConsole },
];
