// #/devices: every device with a retained state, online or offline, and when it was last seen.
import { t } from '../strings.js';
import { fmtTime, h } from '../common.js';
import { familyOf, kindOf, onLive, states } from '../store.js';

/** true/false/null: whether a device answers, from whichever field its kind has. */
export function onlineOf(kind, s) {
  if (kind === 'zone') return s.moduleOnline ?? null;
  if ('online' in s) return s.online;
  return undefined;
}

export default function devicesView(root) {
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty' }, t('noDevices'));
  root.append(
    h('div', { class: 'view-head' }, h('h2', {}, t('devices'))),
    empty,
    h(
      'table',
      { class: 'grid devices' },
      h('thead', {}, h('tr', {}, h('th', {}, t('device')), h('th', {}, t('kind')), h('th', {}, t('status')), h('th', {}, t('lastSeen')))),
      tbody,
    ),
  );
  let timer;

  function render() {
    const rows = [...states]
      .filter(([id]) => !['alarms', 'access'].includes(kindOf(id)))
      .sort(([a], [b]) => kindOf(a).localeCompare(kindOf(b)) || a.localeCompare(b));
    empty.hidden = rows.length > 0;
    tbody.replaceChildren(
      ...rows.map(([id, s]) => {
        const kind = kindOf(id);
        const on = onlineOf(kind, s);
        const status = on === true ? 'online' : on === false ? 'offline' : 'unknown';
        return h(
          'tr',
          {
            'data-testid': 'device-row',
            'data-device': id,
            'data-kind': kind,
            'data-family': familyOf(id) ?? '',
            'data-online': status,
            class: status,
          },
          h('td', { class: 'id' }, id),
          h('td', {}, t(`dkind.${kind}`)),
          h(
            'td',
            { 'data-testid': 'device-status' },
            h('span', { class: `dot ${status}` }),
            ' ',
            t(status === 'offline' ? 'offlineState' : status),
          ),
          h('td', {}, fmtTime(s.lastSeen ?? s.ts)),
        );
      }),
    );
  }

  const off = onLive((msg) => {
    if (msg.type !== 'state' && msg.type !== 'reconnected') return;
    // Bursts of states (a cabinet poll) redraw once.
    clearTimeout(timer);
    timer = setTimeout(render, 200);
  });
  render();
  return () => {
    off();
    clearTimeout(timer);
  };
}
