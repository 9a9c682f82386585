/** Access control in the guard console: the doors page; doors, readers and the credential store as devices. */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyConsole } from '../families/family.js';
import { ACCESS_STATE_DEVICE } from './state-device.js';

export const accessConsole: FamilyConsole<Pick<CompoundConfig, 'doors' | 'readers'>> = {
  views: [{ route: 'doors', module: 'doors.js', order: 20 }],
  devices: (c) => [
    // state/access: the credential snapshot's version and count.
    { id: ACCESS_STATE_DEVICE, kind: 'access' },
    ...c.doors.map((d) => ({ id: d.id, kind: 'door' })),
    ...c.readers.map((r) => ({ id: r.id, kind: 'reader' })),
  ],
};
