/** The alarm kinds of the uplink itself (cert-expiry.ts raises it). */
import type { AlarmKind } from '../families/family.js';

export const CERT_EXPIRING_ALARM: AlarmKind = {
  kind: 'uplink.certificate_expiring',
  priority: 'high',
  description:
    "The box's uplink certificate expires within 7 days (critical once expired): renew it with `gatehouse cert request` / `cert install`; clears when the renewed one is installed.",
};

export const ALARM_KINDS: AlarmKind[] = [CERT_EXPIRING_ALARM];
