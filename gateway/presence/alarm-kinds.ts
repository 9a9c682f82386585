/**
 * The alarm kinds of presence. `device.flapping` is raised by the presence policy itself;
 * `device.offline` by the families whose announce path has no offline kind of their own
 * (locks, cabinets: readers say `reader.offline`, input modules `module.offline`, panels
 * `panel.offline`), so they list it among their own kinds too.
 */
import type { AlarmKind } from '../families/family.js';

export const DEVICE_OFFLINE_ALARM: AlarmKind = {
  kind: 'device.offline',
  priority: 'medium',
  description: 'A device stopped answering (one alarm per outage, as the presence policy announces it); clears when it is back.',
};

export const DEVICE_FLAPPING_ALARM: AlarmKind = {
  kind: 'device.flapping',
  priority: 'medium',
  description: 'A device went up and down too often and is held offline; clears once it has stayed up after the hold.',
};

export const ALARM_KINDS: AlarmKind[] = [DEVICE_FLAPPING_ALARM];
