/** Cameras in the guard console: the video wall, and each camera listed under Devices. */
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyConsole } from '../families/family.js';

export const camerasConsole: FamilyConsole<Pick<CompoundConfig, 'cameras'>> = {
  views: [{ route: 'video', module: 'video.js', order: 10 }],
  devices: (c) => c.cameras.map((cam) => ({ id: cam.id, kind: 'camera' })),
};
