import { t } from './strings.js';
import { api, setCsrf, translate } from './common.js';

translate();
const list = document.getElementById('alarms');

async function load() {
  const r = await api('GET', '/api/alarms');
  if (r.status === 401) return void location.assign('/login.html');
  list.replaceChildren();
  const alarms = r.data?.alarms ?? [];
  if (!alarms.length) list.textContent = t('noAlarms');
  for (const a of alarms) {
    const div = document.createElement('div');
    div.className = `alarm ${a.priority}`;
    const text = document.createElement('span');
    // textContent only: alarm data comes from devices and must never become markup.
    text.textContent = `${a.raisedAt} ${a.priority} ${a.kind} ${a.source.device}${a.source.point ? '/' + a.source.point : ''} (${a.state})`;
    div.append(text);
    if (a.acknowledged) {
      div.append(` ${t('acknowledgedBy')} ${a.acknowledged.by}`);
    } else {
      const b = document.createElement('button');
      b.textContent = t('acknowledge');
      b.addEventListener('click', async () => {
        const res = await api('POST', '/api/commands/alarm.acknowledge', { args: { alarmId: a.id } });
        document.getElementById('error').textContent = res.ok ? '' : `${t('failed')}: ${res.data?.error?.code ?? res.status}`;
        void load();
      });
      div.append(' ', b);
    }
    list.append(div);
  }
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`);
  ws.onopen = () => { document.getElementById('live').textContent = t('live'); };
  ws.onmessage = (m) => { if (JSON.parse(m.data).type === 'alarm') void load(); };
  ws.onclose = () => { document.getElementById('live').textContent = t('offline'); setTimeout(connect, 3000); };
}

const session = await api('GET', '/api/session');
if (session.status === 401) location.assign('/login.html');
else {
  setCsrf(session.data.csrf);
  document.getElementById('who').textContent = `${session.data.user} (${session.data.role})`;
  document.getElementById('logout').addEventListener('click', async () => {
    await api('POST', '/api/logout');
    location.assign('/login.html');
  });
  await load();
  connect();
}
