/** Battery swapping in the guard console: the swap page, each cabinet also under Devices. */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyConsole } from '../families/family.js';

export const swapConsole: FamilyConsole<Pick<CompoundConfig, 'swapCabinets'>> = {
  views: [{ route: 'swap', module: 'swap.js', order: 45 }],
  devices: (c) => c.swapCabinets.map((cab) => ({ id: cab.id, kind: 'swap-cabinet' })),
};
