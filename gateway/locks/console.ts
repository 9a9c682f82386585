/** The smart locks in the guard console: no page of their own, each lock listed under Devices. */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyConsole } from '../families/family.js';

export const locksConsole: FamilyConsole<Pick<CompoundConfig, 'locks'>> = {
  devices: (c) => c.locks.map((l) => ({ id: l.id, kind: 'lock' })),
};
