// #/charging: cabinets × ports with live power, the open sessions, and the energy of finished
// sessions per day drawn on a canvas from the charging events.
import { t } from '../strings.js';
import { api, command, confirmDialog, h } from '../common.js';
import { devicesOf, onLive } from '../store.js';

const DAYS = 7;
const dayKey = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** kWh per local day of the last DAYS days, from charging.session_stopped events. */
export function energyPerDay(events, now = new Date()) {
  const days = [];
  for (let i = DAYS - 1; i >= 0; i--) days.push([dayKey(new Date(now.getFullYear(), now.getMonth(), now.getDate() - i)), 0]);
  const index = new Map(days.map(([k], i) => [k, i]));
  for (const e of events) {
    if (e.type !== 'charging.session_stopped' || typeof e.data?.energyWh !== 'number') continue;
    const i = index.get(dayKey(new Date(e.ts)));
    if (i !== undefined) days[i][1] += e.data.energyWh / 1000;
  }
  return days;
}

function drawChart(canvas, days) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  const hgt = canvas.clientHeight || 200;
  canvas.width = Math.round(w * ratio);
  canvas.height = Math.round(hgt * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  const styles = getComputedStyle(canvas);
  const fg = styles.color || '#222';
  const bar = styles.getPropertyValue('--bar').trim() || '#2b7bb9';
  const max = Math.max(0.1, ...days.map(([, v]) => v));
  const pad = { l: 8, r: 8, t: 22, b: 24 };
  const slot = (w - pad.l - pad.r) / days.length;
  ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'center';
  days.forEach(([day, kwh], i) => {
    const bh = ((hgt - pad.t - pad.b) * kwh) / max;
    const x = pad.l + i * slot + slot * 0.15;
    ctx.fillStyle = bar;
    ctx.fillRect(x, hgt - pad.b - bh, slot * 0.7, bh);
    ctx.fillStyle = fg;
    ctx.fillText(day.slice(5), x + slot * 0.35, hgt - 6);
    if (kwh > 0) ctx.fillText(kwh.toFixed(kwh < 10 ? 2 : 1), x + slot * 0.35, hgt - pad.b - bh - 6);
  });
  canvas.dataset.values = JSON.stringify(days.map(([, v]) => Number(v.toFixed(3))));
}

export default function chargingView(root, { session }) {
  const grid = h('div', { class: 'cabinets' });
  const empty = h('p', { class: 'empty' }, t('noCabinets'));
  const sessions = h('tbody');
  const noSessions = h('p', { class: 'empty' }, t('noSessions'));
  const chart = h('canvas', { 'data-testid': 'energy-chart', class: 'chart', role: 'img', 'aria-label': t('energyPerDay') });
  root.append(
    h('div', { class: 'view-head' }, h('h2', {}, t('cabinets'))),
    empty,
    grid,
    h('h3', {}, t('sessions')),
    noSessions,
    h(
      'table',
      { class: 'grid sessions' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, t('device')), h('th', {}, t('port')), h('th', {}, t('session')), h('th', {}, t('power')), h('th', {})),
      ),
      sessions,
    ),
    h('h3', {}, t('energyPerDay')),
    chart,
  );
  let events = [];
  const canStart = session.role === 'admin';

  const stop = async (cabinet, port) => {
    if (!(await confirmDialog(t('confirmStop', { cabinet, port })))) return;
    await command('charging.stop', { cabinet, port });
  };

  function portTile(cabinet, p) {
    const el = h(
      'div',
      { class: `port st-${p.state}`, 'data-testid': 'port', 'data-cabinet': cabinet, 'data-port': String(p.port), 'data-state': p.state },
      h('div', { class: 'port-no' }, `${t('port')} ${p.port}`),
      h('div', { class: 'power', 'data-testid': 'port-power' }, `${Math.round(p.powerW ?? 0)} W`),
      h('div', { class: 'port-state' }, t(`port.${p.state}`)),
    );
    if (canStart && p.state === 'plugged')
      el.append(h('button', { type: 'button', onclick: () => command('charging.start', { cabinet, port: p.port }) }, t('start')));
    return el;
  }

  function render() {
    const cabs = devicesOf('cabinet');
    empty.hidden = cabs.length > 0;
    grid.replaceChildren(
      ...cabs.map(([id, s]) => {
        const st = s.status ?? {};
        const facts = [
          `${t(s.online ? 'online' : 'offlineState')}`,
          st.mainsPresent !== undefined ? `${t('mains')}: ${st.mainsPresent ? `${st.mainsVoltage ?? ''} V` : '✕'}` : '',
          st.temperature !== undefined
            ? `${t('temperature')}: ${st.temperature === null ? t('unknownValue') : `${st.temperature} °C`}`
            : '',
          st.smoke ? `${t('smoke')}!` : st.smoke === null ? `${t('smoke')}: ${t('unknownValue')}` : '',
          s.unsupervised ? `${t('unsupervised')}!` : '',
          st.doorOpen ? `${t('cabinetDoor')}: ${t('door.open')}` : '',
          s.latched ? `${t('latched')}: ${s.latched}` : '',
        ]
          .filter(Boolean)
          .join(' · ');
        const total = (s.ports ?? []).reduce((sum, p) => sum + (p.powerW ?? 0), 0);
        return h(
          'section',
          {
            class: `cabinet${s.online ? '' : ' offline'}${s.latched || st.smoke || s.unsupervised ? ' alarm' : ''}`,
            'data-testid': 'cabinet',
            'data-cabinet': id,
          },
          h('header', {}, h('strong', {}, id), ' ', h('span', { class: 'total' }, `${Math.round(total)} W`)),
          h('p', { class: 'facts-line' }, facts),
          h('div', { class: 'ports' }, ...(s.ports ?? []).map((p) => portTile(id, p))),
        );
      }),
    );
    const open = cabs.flatMap(([id, s]) =>
      (s.ports ?? []).filter((p) => p.sessionId !== null && p.sessionId !== undefined).map((p) => [id, p]),
    );
    noSessions.hidden = open.length > 0;
    sessions.replaceChildren(
      ...open.map(([id, p]) =>
        h(
          'tr',
          { 'data-testid': 'session-row', 'data-cabinet': id, 'data-port': String(p.port) },
          h('td', {}, id),
          h('td', {}, String(p.port)),
          h('td', {}, String(p.sessionId)),
          h('td', {}, `${Math.round(p.powerW ?? 0)} W`),
          h(
            'td',
            { class: 'actions' },
            h('button', { type: 'button', 'data-testid': 'charging-stop', onclick: () => stop(id, p.port) }, t('stop')),
          ),
        ),
      ),
    );
  }

  const redraw = () => drawChart(chart, energyPerDay(events));

  async function loadEvents() {
    const r = await api('GET', '/api/events?class=charging&limit=1000');
    if (!r.ok) return;
    events = r.data?.events ?? [];
    redraw();
  }

  let timer;
  const off = onLive((msg) => {
    if (msg.type === 'state' || msg.type === 'reconnected') {
      clearTimeout(timer);
      timer = setTimeout(render, 150);
    }
    if (msg.type === 'reconnected') void loadEvents();
    if (msg.type === 'event' && msg.class === 'charging' && msg.envelope) {
      events.unshift(msg.envelope);
      if (msg.envelope.type === 'charging.session_stopped') redraw();
    }
  });
  const onResize = () => redraw();
  window.addEventListener('resize', onResize);
  render();
  redraw();
  void loadEvents();
  return () => {
    off();
    clearTimeout(timer);
    window.removeEventListener('resize', onResize);
  };
}
