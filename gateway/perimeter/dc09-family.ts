/**
 * The DC-09 family: alarm panels reporting over SIA DC-09 to the receiver `perimeter.dc09`
 * configures. Declarations only; load() imports the receiver when panels or a receiver exist.
 */
import { z } from 'zod';
import { Dc09PanelConfig } from '../../config/perimeter-schema.js';
import type { CompoundConfig } from '../../config/schema.js';
import type { FamilyManifest } from '../families/family.js';
import { DC09_ALARM_KINDS } from './alarm-kinds.js';
import { DC09_MIGRATIONS, DC09_BASELINE } from './migrations.js';

export const dc09Config = {
  alarmPanels: z.array(Dc09PanelConfig).default([]),
};

export const dc09Family: FamilyManifest<CompoundConfig> = {
  name: 'dc09',
  config: dc09Config,
  check(c, issue) {
    const accounts = new Map<string, number>();
    c.alarmPanels.forEach((p, i) => {
      const key = p.account.toUpperCase();
      if (accounts.has(key)) issue(['alarmPanels', i, 'account'], `account ${p.account} is already alarmPanels[${accounts.get(key)}]`);
      else accounts.set(key, i);
    });
  },
  configured: (c) => c.alarmPanels.length > 0 || c.perimeter.dc09 !== undefined,
  devices: (c) => c.alarmPanels.map((p, i) => ({ id: p.id, path: ['alarmPanels', i, 'id'] })),
  summary: (c) => `${c.alarmPanels.length} alarm panel(s)`,
  // No default name: a panel without keySecret is accepted unencrypted (`gatehouse check` warns).
  secrets: (c) =>
    c.alarmPanels.flatMap((p, i) =>
      p.keySecret
        ? [{ name: p.keySecret, path: ['alarmPanels', i, 'keySecret'], what: `alarm panel ${p.id}`, kind: 'key', required: true }]
        : [],
    ),
  idleStatus: () => null,
  needs: ['alarms', 'presence'],
  alarms: DC09_ALARM_KINDS,
  store: [{ owner: 'dc09', migrations: DC09_MIGRATIONS, tables: DC09_BASELINE }],
  // The live check (`gatehouse check --devices`), loaded like the code: only by that command or the daemon's probe request.
  probe: () => import('./dc09-probe.js'),
  load: () => import('./create-dc09.js'),
};
