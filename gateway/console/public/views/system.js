// #/system (installers and administrators): uplink, outbox backlog and oldest event, health.
import { t } from '../strings.js';
import { api, errorText, fmtTime, h } from '../common.js';
import { usersSection } from './users.js';
import { configSection } from './config.js';

function age(ms) {
  if (ms === null || ms === undefined) return '';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  const n =
    s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
  return t('ago', { n });
}

const kb = (b) => (typeof b === 'number' ? `${(b / 1024 / 1024).toFixed(1)} MB` : '—');

export default function systemView(root, { session }) {
  if (!['installer', 'admin'].includes(session.role)) {
    root.append(h('h2', {}, t('system')), h('p', { class: 'empty', 'data-testid': 'forbidden' }, t('staffOnly')));
    return undefined;
  }
  const body = h('dl', { class: 'facts', 'data-testid': 'system' });
  const error = h('p', { class: 'error' });
  root.append(h('div', { class: 'view-head' }, h('h2', {}, t('system'))), error, body);

  const fact = (key, value, testid) => [h('dt', {}, t(key)), h('dd', testid ? { 'data-testid': testid } : {}, value)];

  async function load() {
    const r = await api('GET', '/api/status');
    if (!r.ok) {
      error.textContent = errorText(r.data?.error, r.status);
      return;
    }
    error.textContent = '';
    const s = r.data ?? {};
    const up = s.uplink ?? {};
    const ob = s.outbox ?? {};
    const failed = Object.entries(s.failedComponents ?? {});
    body.replaceChildren(
      ...fact(
        'uplink',
        h(
          'span',
          { class: up.connected ? 'ok' : 'bad' },
          t(up.connected ? 'connected' : 'disconnected'),
          up.connected && up.since ? ` · ${t('since')} ${fmtTime(up.since)}` : '',
        ),
        'uplink',
      ),
      ...(up.lastError ? fact('lastError', String(up.lastError)) : []),
      ...(up.lastAckAt ? fact('lastAck', `${fmtTime(up.lastAckAt)} (${age(up.lastAckAt)})`) : []),
      ...(typeof up.reconnects === 'number' ? fact('reconnects', String(up.reconnects)) : []),
      ...fact('backlog', String(ob.events ?? 0), 'backlog'),
      ...fact(
        'oldestEvent',
        ob.oldestRecordedAt ? `${fmtTime(ob.oldestRecordedAt)} (${age(ob.oldestRecordedAt)})` : t('none'),
        'oldest-event',
      ),
      ...fact('storage', `${kb(ob.bytes)} / ${kb(ob.maxBytes)}`),
      ...fact('openAlarmCount', String(s.alarms?.open ?? 0)),
      ...fact(
        'failedComponents',
        failed.length ? failed.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ') : t('none'),
      ),
      ...fact('clock', typeof s.clock === 'object' ? JSON.stringify(s.clock) : String(s.clock ?? '—')),
      ...fact('compound', `${s.compound ?? '—'} / ${s.gateway ?? '—'}`),
      ...fact('version', String(s.version ?? '—')),
    );
  }

  root.append(configSection());
  if (session.role === 'admin') root.append(usersSection(session.user));
  void load();
  const timer = setInterval(load, 5000);
  return () => clearInterval(timer);
}
