// #/doors: every gateway-controlled door with its state; remote open (confirmed), hold
// unlocked, lock; the recent access events with credentials masked.
import { t } from '../strings.js';
import { api, command, confirmDialog, fmtTime, h, maskCredential } from '../common.js';
import { devicesOf, onLive } from '../store.js';

/** The door's state as words: lock first (unlocked/locked), then the contact, then trouble. */
export function doorStateText(s) {
  const parts = [t(s.unlocked ? 'door.unlocked' : 'door.locked')];
  parts.push(s.open === null || s.open === undefined ? t('door.noContact') : t(s.open ? 'door.open' : 'door.closed'));
  if (s.mode && s.mode !== 'normal') parts.push(t(`mode.${s.mode}`));
  if (s.forced) parts.push(t('door.forced'));
  if (s.heldOpen) parts.push(t('door.heldOpen'));
  if (s.online === false) parts.push(t('door.offline'));
  return parts.join(' · ');
}

export default function doorsView(root) {
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty' }, t('noDoors'));
  const events = h('tbody');
  const noEvents = h('p', { class: 'empty' }, t('noEvents'));
  root.append(
    h('div', { class: 'view-head' }, h('h2', {}, t('doors'))),
    empty,
    h(
      'table',
      { class: 'grid doors' },
      h('thead', {}, h('tr', {}, h('th', {}, t('door')), h('th', {}, t('doorState')), h('th', {}))),
      tbody,
    ),
    h('h3', {}, t('accessEvents')),
    noEvents,
    h(
      'table',
      { class: 'grid events' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, t('time')),
          h('th', {}, t('event')),
          h('th', {}, t('door')),
          h('th', {}, t('reader')),
          h('th', {}, t('method')),
          h('th', {}, t('credential')),
          h('th', {}, t('reason')),
        ),
      ),
      events,
    ),
  );
  const rows = new Map();

  function row(id) {
    const state = h('span', { 'data-testid': 'door-state', class: 'door-state' });
    const open = h('button', { type: 'button', class: 'primary', 'data-testid': 'door-open' }, t('remoteOpen'));
    const unlock = h('button', { type: 'button', 'data-testid': 'door-unlock' }, t('holdUnlocked'));
    const lock = h('button', { type: 'button', 'data-testid': 'door-lock' }, t('lockDoor'));
    open.addEventListener('click', async () => {
      if (!(await confirmDialog(t('confirmOpen', { door: id })))) return;
      await command('door.open', { door: id }, t('doorOpened'));
    });
    unlock.addEventListener('click', () => command('door.unlock', { door: id }));
    lock.addEventListener('click', () => command('door.lock', { door: id }));
    const tr = h(
      'tr',
      { 'data-testid': 'door-row', 'data-door': id },
      h('td', { class: 'id' }, id),
      h('td', {}, state),
      h('td', { class: 'actions' }, open, unlock, lock),
    );
    return { tr, state };
  }

  function render() {
    const doors = devicesOf('door');
    empty.hidden = doors.length > 0;
    for (const [id, s] of doors) {
      let r = rows.get(id);
      if (!r) {
        r = row(id);
        rows.set(id, r);
        tbody.append(r.tr);
      }
      r.state.textContent = doorStateText(s);
      r.tr.className = `${s.unlocked ? 'unlocked' : 'locked'}${s.forced || s.heldOpen ? ' trouble' : ''}${s.online === false ? ' offline' : ''}`;
      r.tr.dataset.mode = s.mode;
      r.tr.dataset.unlocked = String(Boolean(s.unlocked));
    }
  }

  function eventRow(env) {
    const d = env.data ?? {};
    const kind = env.type.replace(/^access\./, '');
    const label = t(env.type) === env.type ? kind : t(env.type);
    return h(
      'tr',
      { 'data-testid': 'access-event', class: `ev-${kind}` },
      h('td', {}, fmtTime(env.ts)),
      h('td', {}, label),
      h('td', {}, d.door ?? d.lock ?? env.source?.device ?? '—'),
      h('td', {}, d.reader ?? env.source?.point ?? '—'),
      h('td', {}, d.method ?? '—'),
      h('td', { 'data-testid': 'credential' }, maskCredential(d.credential)),
      h('td', {}, d.reason ?? ''),
    );
  }

  async function loadEvents() {
    const r = await api('GET', '/api/events?class=access&limit=50');
    if (!r.ok) return;
    const list = r.data?.events ?? [];
    events.replaceChildren(...list.map(eventRow));
    noEvents.hidden = list.length > 0;
  }

  const off = onLive((msg) => {
    if (msg.type === 'state' || msg.type === 'reconnected') render();
    if (msg.type === 'reconnected') void loadEvents();
    if (msg.type === 'event' && msg.class === 'access' && msg.envelope) {
      events.prepend(eventRow(msg.envelope));
      while (events.children.length > 50) events.lastChild.remove();
      noEvents.hidden = true;
    }
  });
  render();
  void loadEvents();
  return off;
}
