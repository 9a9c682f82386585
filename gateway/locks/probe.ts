/**
 * The live check of the smart locks (`gatehouse check --devices`). Locks dial in to the
 * gateway's embedded broker, so the check cannot call them: it reports whether each one is
 * connected now and when it was last heard, from the running daemon, or — with the daemon
 * stopped — what it last saw (retained state in outbox.db), which proves nothing live and
 * fails the check with the advice to start the daemon.
 */
import type { CompoundConfig } from '../../config/schema.js';
import type { DeviceProbeResult, FamilyProbe } from '../families/family.js';
import type { LocksInstance } from './create-locks.js';

const when = (ms: unknown): string => (typeof ms === 'number' ? new Date(ms).toISOString() : typeof ms === 'string' ? ms : 'never');

export const probe: FamilyProbe<CompoundConfig>['probe'] = async (ctx) => {
  const locks = ctx.config.locks;
  if (!locks.length) return [];
  const running = ctx.running as LocksInstance | undefined;
  const where = `the embedded broker (${ctx.config.broker.host}:${ctx.config.broker.port})`;
  let stored: Map<string, Record<string, unknown>> | undefined;
  if (!running) {
    const rows = ctx.stored?.('SELECT device, body FROM states');
    stored = rows && new Map(rows.map((r) => [String(r.device), JSON.parse(String(r.body)) as Record<string, unknown>]));
  }
  return locks.map((lock): DeviceProbeResult => {
    const base = { id: lock.id, kind: 'lock' };
    const advice = `the lock must log in to ${where} as "${lock.id}" with the password in its secret: check its network settings and password`;
    let r: DeviceProbeResult;
    if (running) {
      const s = running.service.states()[lock.id];
      r = s?.online
        ? { ...base, ok: true, status: 'online', detail: `connected, last heard ${when(s.lastSeen)}, battery ${s.battery ?? '?'}%` }
        : {
            ...base,
            ok: false,
            status: 'OFFLINE',
            detail: s?.lastSeen ? `not connected, last heard ${when(s.lastSeen)}` : 'never connected',
            advice,
          };
    } else {
      const s = stored?.get(lock.id);
      const stoppedAdvice = 'start the daemon (gatehouse run): locks connect to its embedded broker; then check again';
      if (!stored)
        r = { ...base, ok: false, status: 'UNKNOWN', detail: 'never connected: the daemon has not run here', advice: stoppedAdvice };
      else if (!s) r = { ...base, ok: false, status: 'OFFLINE', detail: 'never connected', advice };
      else {
        const status =
          s.online === true ? 'online (when last seen)' : s.reason === 'gateway_stopped' ? 'UNKNOWN (gateway stopped)' : 'OFFLINE';
        r = {
          ...base,
          ok: false,
          status,
          detail: `last seen ${when(s.lastSeen ?? s.ts)} battery ${String(s.battery ?? '?')}%`,
          advice: s.reason === 'gateway_stopped' || s.online === true ? stoppedAdvice : advice,
        };
      }
    }
    ctx.progress(`lock ${lock.id}: ${r.ok ? 'OK' : `FAIL (${r.status})`}`);
    return r;
  });
};
