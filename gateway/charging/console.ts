/** E-bike charging in the guard console: the charging page, each cabinet also under Devices. */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyConsole } from '../families/family.js';

export const chargingConsole: FamilyConsole<Pick<CompoundConfig, 'cabinets'>> = {
  views: [{ route: 'charging', module: 'charging.js', order: 40 }],
  devices: (c) => c.cabinets.map((cab) => ({ id: cab.id, kind: 'cabinet' })),
};
