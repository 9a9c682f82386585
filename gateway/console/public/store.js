// What the pages share: the retained device states and the /api/live feed.
import { api } from './common.js';
import { t } from './strings.js';

/** device id → latest retained state. */
export const states = new Map();
const listeners = new Set();
let socket;
let connected = false;

/** Loads every retained state (after login and after every reconnect of the feed). */
export async function loadStates() {
  const r = await api('GET', '/api/states');
  if (!r.ok) return;
  states.clear();
  for (const s of r.data?.states ?? []) if (s.state) states.set(s.device, s.state);
}

/** The kind of a device, told apart by its state's keys (docs/asyncapi.yaml, state/{device}). */
export function kindOf(device, s) {
  if (device === 'alarms') return 'alarms';
  if (device === 'access' || ('version' in s && 'count' in s)) return 'access';
  if ('moduleOnline' in s) return 'zone';
  if ('override' in s) return 'partition';
  if ('channels' in s) return 'module';
  if ('ports' in s) return 'cabinet';
  if ('mode' in s && 'unlocked' in s) return 'door';
  if ('secure' in s) return 'reader';
  if ('locked' in s) return 'lock';
  if ('events' in s) return 'camera';
  return 'other';
}

/** [id, state] of one kind, sorted by id. */
export function devicesOf(kind) {
  return [...states].filter(([id, s]) => kindOf(id, s) === kind).sort(([a], [b]) => a.localeCompare(b));
}

/** Subscribes to live messages ({type:'event'|'state'|'alarm'|'notify'|'reconnected'}); returns the unsubscribe. */
export function onLive(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const emit = (msg) => { for (const fn of [...listeners]) { try { fn(msg); } catch (err) { console.error(err); } } };

function setIndicator(on) {
  connected = on;
  const el = document.getElementById('live');
  if (!el) return;
  el.className = `live ${on ? 'on' : 'off'}`;
  el.dataset.state = on ? 'live' : 'offline';
  el.dataset.t = on ? 'live' : 'offline';
  el.textContent = t(el.dataset.t);
}

export const isLive = () => connected;

/** Opens the live feed; reconnects after a drop and tells the pages to reload their lists. */
export function connectLive() {
  let first = true;
  const open = () => {
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`);
    socket.onopen = async () => {
      setIndicator(true);
      if (!first) {
        await loadStates();
        emit({ type: 'reconnected' });
      }
      first = false;
    };
    socket.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.type === 'state' && msg.state) states.set(msg.device, msg.state);
      emit(msg);
    };
    socket.onclose = () => {
      setIndicator(false);
      setTimeout(open, 2000);
    };
  };
  setIndicator(false);
  open();
}
