/**
 * The live check of the SIA DC-09 alarm panels (`gatehouse check --devices`). Panels call
 * the gateway, not the other way round, so "live" is when each was last heard against its
 * supervision window (supervisionS × 1.5 + 30 s, what the daemon itself allows): from the
 * running daemon, or, when it is stopped, from the replay guard's record in outbox.db (the
 * panel's newest encrypted message).
 */
import type { CompoundConfig, Dc09PanelConfig } from '../../config/schema.js';
import type { DeviceProbeResult, FamilyProbe, ProbeContext } from '../families/family.js';
import type { Dc09Instance } from './create-dc09.js';
import { SUPERVISION_GRACE_S } from './panel-service.js';

export const probe: FamilyProbe<CompoundConfig>['probe'] = async (ctx) => {
  const panels = ctx.config.alarmPanels;
  if (!panels.length) return [];
  const running = ctx.running as Dc09Instance | undefined;
  let stored: Map<string, number> | undefined;
  if (!running) {
    const rows = ctx.stored?.('SELECT account, ts FROM dc09_high_water');
    stored = rows && new Map(rows.map((r) => [String(r.account).toUpperCase(), Number(r.ts)]));
  }
  return panels.map((p) => {
    const r = judge(ctx, p, running, stored);
    ctx.progress(`alarm panel ${p.id}: ${r.ok ? 'OK' : `FAIL (${r.status})`}`);
    return r;
  });
};

function windowS(p: Dc09PanelConfig): number {
  return p.supervisionS * 1.5 + SUPERVISION_GRACE_S;
}

function judge(
  ctx: ProbeContext<CompoundConfig>,
  p: Dc09PanelConfig,
  running: Dc09Instance | undefined,
  stored: Map<string, number> | undefined,
): DeviceProbeResult {
  const base = { id: p.id, kind: 'panel', identity: { account: p.account } };
  const supervision = p.supervisionS > 0 ? `supervision every ${p.supervisionS} s (silent after ${windowS(p)} s)` : 'no supervision';
  const port = ctx.config.perimeter.dc09;
  const reportTo = port ? `${port.host}:${port.tcpPort}` : 'the receiver (perimeter.dc09 is not configured)';
  const advice = `send a test report from panel account ${p.account} and check that it reports to ${reportTo}${p.keySecret ? ` with the key in ${p.keySecret}` : ''}`;
  let agoS: number | undefined;
  let source: string;
  if (running) {
    const service = running.component?.service;
    if (!service)
      return {
        ...base,
        ok: false,
        status: 'NO RECEIVER',
        detail: 'the DC-09 receiver is not running in the daemon',
        advice: 'see the daemon log (journalctl -u gatehouse) for why the dc09 component failed',
      };
    const ago = service.heardAgoMs(p.id);
    agoS = ago === undefined ? undefined : ago / 1000;
    source = 'since the daemon started';
  } else {
    const ts = stored?.get(p.account.toUpperCase());
    agoS = ts === undefined ? undefined : (ctx.clock.now() - ts) / 1000;
    source = 'from outbox.db (the daemon is stopped; encrypted messages only)';
  }
  if (agoS === undefined) return { ...base, ok: false, status: 'NEVER HEARD', detail: `no message ${source}; ${supervision}`, advice };
  const detail = `last message ${Math.round(agoS)} s ago ${source}; ${supervision}`;
  if (p.supervisionS > 0 && agoS > windowS(p)) return { ...base, ok: false, status: 'SILENT', detail, advice };
  return { ...base, ok: true, status: 'online', detail };
}
