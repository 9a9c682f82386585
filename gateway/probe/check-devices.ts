/**
 * `gatehouse check --config FILE --devices [--report FILE.html] [--installer NAME]`: every
 * device of the compound checked live now. If the daemon runs, it is asked through its
 * control socket (it holds the serial ports; only its user and root may ask); otherwise the
 * devices are opened here. Progress goes to stderr while it runs, the tables to stdout, the
 * report to FILE; the exit status is 1 when any device fails.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { realTimers, systemClock } from '../core/clock.js';
import { createLoggerFactory } from '../core/log.js';
import { controlRequest, controlSocketPath } from '../control/control-socket.js';
import { FAMILIES } from '../families/registry.js';
import { DEFAULT_DEVICE_TIMEOUT_MS } from './probe-control.js';
import { renderTables } from './render.js';
import type { ProbeRun } from './run-probes.js';

export interface CheckDevicesOptions {
  dataDir: string;
  report?: string | undefined;
  installer?: string | undefined;
  /** What `gatehouse check` already warned about: they go into the report too. */
  warnings: string[];
  deviceTimeoutMs?: number;
}

export async function checkDevices(loaded: LoadedConfig, o: CheckDevicesOptions): Promise<number> {
  const dataDir = resolve(o.dataDir);
  const deviceTimeoutMs = o.deviceTimeoutMs ?? DEFAULT_DEVICE_TIMEOUT_MS;
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  let run: ProbeRun | undefined;
  try {
    // Bounded by the daemon's own per-device limits; this only catches a daemon that hangs.
    const answer = await controlRequest(dataDir, { op: 'probe', deviceTimeoutMs }, 10 * 60_000, progress);
    if (answer && !answer.ok) {
      process.stderr.write(`gatehouse check: the daemon refused the device check: ${answer.error.code}: ${answer.error.message}\n`);
      return 1;
    }
    if (answer) run = answer.result as ProbeRun;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    process.stderr.write(
      code === 'EACCES'
        ? `gatehouse check: the daemon runs, and only its user or root may ask it (${controlSocketPath(dataDir)}): run this as root or as the daemon's user (sudo -u gatehouse gatehouse check ...)\n`
        : `gatehouse check: asking the daemon failed: ${(err as Error).message}\n`,
    );
    return 1;
  }
  if (!run) {
    process.stderr.write(`no daemon answers on ${controlSocketPath(dataDir)}: opening the devices directly\n`);
    run = await direct(loaded, dataDir, deviceTimeoutMs, progress);
  }
  process.stdout.write(renderTables(run));
  if (o.report) {
    const { renderReport, boxSerial } = await import('./report.js');
    const html = renderReport({
      config: loaded.config,
      run,
      at: new Date(),
      installer: o.installer,
      box: boxSerial(),
      warnings: o.warnings,
    });
    try {
      // Identity data only (no secrets), but it maps the compound's security: not world-readable.
      writeFileSync(o.report, html, { mode: 0o640 });
    } catch (err) {
      process.stderr.write(`gatehouse check: cannot write the report ${resolve(o.report)}: ${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`commissioning report written to ${resolve(o.report)}\n`);
  }
  return run.families.some((f) => f.results.some((r) => !r.ok)) ? 1 : 0;
}

async function direct(loaded: LoadedConfig, dataDir: string, deviceTimeoutMs: number, progress: (line: string) => void): Promise<ProbeRun> {
  const { runProbes } = await import('./run-probes.js');
  // Drivers log to stderr only what is worse than the check's own report.
  const logs = createLoggerFactory({ level: 'fatal' }, { destination: process.stderr, pretty: false });
  const file = resolve(dataDir, 'outbox.db');
  let db: { prepare(sql: string): { all(): unknown[] }; close(): void } | undefined;
  if (existsSync(file)) {
    const { default: Database } = await import('better-sqlite3');
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
    } catch (err) {
      progress(`cannot read ${file} (${(err as Error).message}): what the daemon last saw is not shown`);
    }
  }
  try {
    return await runProbes({
      config: loaded.config,
      secrets: loaded.secrets,
      dataDir,
      families: FAMILIES,
      clock: systemClock({ syncedFlagFile: loaded.config.clock.syncedFlagFile, forceState: loaded.config.clock.force }),
      timers: realTimers,
      log: logs.root,
      deviceTimeoutMs,
      progress,
      stored: (sql) => {
        if (!db) return undefined;
        try {
          return db.prepare(sql).all() as Record<string, unknown>[];
        } catch {
          // A table from a newer or older store: nothing known.
          return undefined;
        }
      },
      uplinkUrl: process.env.GATEHOUSE_UPLINK_URL || undefined,
    });
  } finally {
    db?.close();
  }
}
