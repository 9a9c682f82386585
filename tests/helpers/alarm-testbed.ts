/**
 * The alarm lifecycle on a real outbox file with a manual clock: what the unit tests of
 * every family's alarm reporting (and of linkage and presence) start from.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmsConfig } from '../../config/perimeter-schema.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { ManualClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';

export interface AlarmTestbed {
  dir: string;
  clock: ManualClock;
  outbox: Outbox;
  /** Not started: a test declares kinds or links outputs first. */
  manager: AlarmManager;
}

/** A fresh data dir (prefix `name`), an outbox in it, and an alarm manager on both. */
export function alarmTestbed(name: string): AlarmTestbed {
  const dir = mkdtempSync(join(tmpdir(), name));
  const clock = new ManualClock();
  const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
  const manager = new AlarmManager({
    db: outbox.scope('alarms'),
    outbox,
    config: AlarmsConfig.parse({}),
    clock,
    timers: clock,
    log: silentLogger(),
  });
  return { dir, clock, outbox, manager };
}
