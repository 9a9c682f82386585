/**
 * How the gateway tells people about its storage: the start-up findings (a cap the
 * filesystem cannot hold, a database opened on a full disk) in the log, and the disk-full
 * condition as an alarm a guard sees on the console and the platform gets as `alarm.*`
 * events, cleared when the outbox reports that recording resumed.
 *
 * The alarm's own events may not fit on the disk while it is full; the alarm itself lives
 * in memory (console, `state/alarms` once writable) and the outbox's pinned
 * `outbox.disk_full` reports carry the condition to the platform whatever happens.
 */
import type { AlarmSink } from '../alarms/types.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from './outbox.js';

export const DISK_FULL_ALARM = 'outbox.disk_full';
const SOURCE = { device: 'gateway', point: 'outbox' };

export function reportOutboxStart(outbox: Outbox, log: Logger): void {
  const cap = outbox.capCheck;
  if (cap.lowered) {
    log.warn(
      { configuredMaxBytes: cap.configured, availableBytes: cap.available, effectiveMaxBytes: cap.effective },
      `outbox.maxBytes (${cap.configured} bytes) cannot fit on the data directory's filesystem ` +
        `(${cap.available} bytes available for the outbox); ` +
        `using ${cap.effective} bytes: free space or lower outbox.maxBytes`,
    );
  }
  if (outbox.exclusive) {
    log.warn(
      'outbox.db opened on a full disk without shared memory: the gateway runs, recording resumes when space is freed; ' +
        'restart it later so the CLI can open the database again',
    );
  }
}

export function watchDiskFull(outbox: Outbox, sink: AlarmSink & { retryUnrecorded(): number }, log: Logger): void {
  outbox.on('diskFull', (info) => {
    const since = new Date(info.since).toISOString();
    log.error(
      { code: info.code, since },
      'the disk holding the outbox is full: events that cannot be committed are refused until space is freed',
    );
    sink.raise({ kind: DISK_FULL_ALARM, source: SOURCE, priority: 'critical', data: { since, code: info.code } });
  });
  outbox.on('diskRecovered', (info) => {
    log.info({ since: new Date(info.since).toISOString(), rejected: info.rejected }, 'disk space is back: the outbox records again');
    // The alarm events refused meanwhile first, then the clear of this one.
    const again = sink.retryUnrecorded();
    if (again) log.info({ events: again }, 'alarm events refused on the full disk recorded now');
    sink.clear(DISK_FULL_ALARM, SOURCE, { until: new Date(info.until).toISOString(), rejected: info.rejected });
  });
}
