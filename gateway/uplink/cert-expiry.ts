/**
 * The expiry of the box's uplink certificate (issue 15.5), watched so that nobody learns of
 * it from a box that silently stopped reporting:
 *
 * - retained `state/gateway` carries `certificate: { subject, notBefore, notAfter, stage }`
 *   (`certificate: null` when the file cannot be read), written at start and whenever it changes;
 *   app.ts runs this only for an uplink that presents a client certificate;
 * - 30 days before `notAfter` a `system` event `uplink.certificate_expiring` (stage `soon`);
 * - 7 days before, the alarm `uplink.certificate_expiring` (high; critical once expired),
 *   cleared by itself when a renewed certificate is installed.
 *
 * The file is read again every `checkEveryMs` (an hour by default): `gatehouse cert install`
 * needs no restart for this to see the new one.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { AlarmSink } from '../alarms/types.js';
import type { Outbox } from '../outbox/outbox.js';
import { CERT_EXPIRING_ALARM } from './alarm-kinds.js';
import type { CertificateNotices } from './cert-notices.js';

const DAY = 86_400_000;
export const SOON_DAYS = 30;
export const ALARM_DAYS = 7;

export type ExpiryStage = 'ok' | 'soon' | 'alarm' | 'expired';

export interface CertificateInfo {
  file: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  stage: ExpiryStage;
}

export interface CertificateExpiryOptions {
  /** The certificate the uplink presents; undefined when it uses none. */
  certFile: string | undefined;
  outbox: Pick<Outbox, 'record' | 'setState'>;
  alarms: AlarmSink;
  clock: Clock;
  timers: Timers;
  log: Logger;
  checkEveryMs?: number;
  /**
   * The notices already recorded, per certificate and stage, kept across restarts (the
   * `uplink` store owner): without it each start inside the window recorded the event again.
   */
  notices?: CertificateNotices;
}

const SOURCE = { device: 'gateway', point: 'uplink' };

export function stageOf(notAfterMs: number, now: number): ExpiryStage {
  const left = notAfterMs - now;
  if (left <= 0) return 'expired';
  if (left <= ALARM_DAYS * DAY) return 'alarm';
  if (left <= SOON_DAYS * DAY) return 'soon';
  return 'ok';
}

export class CertificateExpiry {
  private timer: TimerHandle | undefined;
  private current: CertificateInfo | null | undefined;
  private readonly alarmRaised = new Set<string>();
  /** The SHA-256 fingerprint of the certificate last read. */
  private fingerprint: string | undefined;

  constructor(private readonly opts: CertificateExpiryOptions) {}

  start(): void {
    this.check();
    this.timer = this.opts.timers.setInterval(() => this.check(), this.opts.checkEveryMs ?? 3600_000);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Seconds until the certificate expires (negative once expired); undefined without one. */
  secondsLeft(): number | undefined {
    if (!this.current) return undefined;
    return (Date.parse(this.current.notAfter) - this.opts.clock.now()) / 1000;
  }

  info(): CertificateInfo | null {
    return this.current ?? null;
  }

  check(): void {
    const info = this.read();
    const before = this.current;
    this.current = info;
    const changed = before === undefined || JSON.stringify(before) !== JSON.stringify(info);
    if (!changed) return;
    this.opts.outbox.setState('gateway', { certificate: info }).catch((err: Error) => {
      this.opts.log.error({ err: err.message }, 'state/gateway not written');
    });
    if (!info) return;
    const sameCert = before?.notAfter === info.notAfter && before.subject === info.subject;
    const data = { subject: info.subject, notAfter: info.notAfter, stage: info.stage, file: info.file };
    const stage = info.stage;
    const fingerprint = this.fingerprint!;
    const notices = this.opts.notices;
    if (stage !== 'ok' && !(sameCert && before.stage === stage) && !notices?.recorded(fingerprint, stage)) {
      const daysLeft = Math.floor((Date.parse(info.notAfter) - this.opts.clock.now()) / DAY);
      this.opts.log.warn(
        { ...data, daysLeft },
        'the uplink certificate expires soon: run `gatehouse cert request` and install the renewed one',
      );
      this.opts.outbox
        .record({ class: 'system', type: 'uplink.certificate_expiring', source: SOURCE, data: { ...data, stage, daysLeft } })
        // Marked once committed: a crash before that records it again at the next start.
        .then(() => notices?.mark(fingerprint, stage, this.opts.clock.now()))
        .catch((err: Error) => this.opts.log.error({ err: err.message }, 'uplink.certificate_expiring not recorded'));
    }
    if (info.stage === 'alarm' || info.stage === 'expired') {
      this.opts.alarms.raise({
        kind: CERT_EXPIRING_ALARM.kind,
        source: SOURCE,
        priority: info.stage === 'expired' ? 'critical' : 'high',
        data,
      });
      this.alarmRaised.add(info.notAfter);
    } else if (this.alarmRaised.size || before === undefined) {
      // A renewed certificate (or one already renewed while the gateway was stopped) clears it.
      this.opts.alarms.clear(CERT_EXPIRING_ALARM.kind, SOURCE, { renewedUntil: info.notAfter });
      this.alarmRaised.clear();
    }
  }

  private read(): CertificateInfo | null {
    const file = this.opts.certFile;
    if (!file) return null;
    try {
      const cert = new X509Certificate(readFileSync(file));
      const notAfter = new Date(cert.validTo);
      this.fingerprint = cert.fingerprint256;
      return {
        file,
        subject: cert.subject.replace(/\n/g, ', '),
        notBefore: new Date(cert.validFrom).toISOString(),
        notAfter: notAfter.toISOString(),
        stage: stageOf(notAfter.getTime(), this.opts.clock.now()),
      };
    } catch (err) {
      this.opts.log.error({ file, err: (err as Error).message }, 'the uplink certificate cannot be read');
      return null;
    }
  }
}
