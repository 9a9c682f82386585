/**
 * The certificate-expiry notices already recorded (table `uplink_cert_notices`, owner
 * `uplink`): a notice is marked only after its event is committed, so a crash in between
 * records it once more at worst, never not at all. A full disk keeps the mark in memory.
 */
import type { StoreScope } from '../store/scope.js';
import { tolerateStorageError } from '../outbox/disk-space.js';

export interface CertificateNotices {
  recorded(fingerprint: string, stage: string): boolean;
  mark(fingerprint: string, stage: string, at: number): void;
}

export function certificateNoticeStore(scope: StoreScope): CertificateNotices {
  const has = scope.prepare<[string, string], { n: number }>(
    'SELECT COUNT(*) AS n FROM uplink_cert_notices WHERE fingerprint = ? AND stage = ?',
  );
  const put = scope.prepare('INSERT OR IGNORE INTO uplink_cert_notices (fingerprint, stage, recorded_at) VALUES (?, ?, ?)');
  const inMemory = new Set<string>();
  return {
    recorded: (fp, stage) => inMemory.has(`${fp} ${stage}`) || has.get(fp, stage)!.n > 0,
    mark: (fp, stage, at) => {
      inMemory.add(`${fp} ${stage}`);
      tolerateStorageError(() => put.run(fp, stage, at), undefined);
    },
  };
}
