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

/** device id → { family, kind }, as the server's family registry declares them (/api/families). */
const catalogue = new Map();
/** The pages of the configured families: [{ family, route, module, order }]. */
export let familyViews = [];

/** Loads which family owns each device and which family pages there are (once, after login). */
export async function loadFamilies() {
  const r = await api('GET', '/api/families');
  if (!r.ok) return false;
  catalogue.clear();
  for (const d of r.data?.devices ?? []) catalogue.set(d.id, { family: d.family, kind: d.kind });
  familyViews = r.data?.views ?? [];
  return true;
}

/** The kind of a device (door, zone, lock…), as its family declared it; 'other' for a device no family claims. */
export function kindOf(device) {
  return catalogue.get(device)?.kind ?? 'other';
}

/** The family of a device (access, perimeter…), or undefined. */
export function familyOf(device) {
  return catalogue.get(device)?.family;
}

/** [id, state] of one kind, sorted by id. */
export function devicesOf(kind) {
  return [...states].filter(([id]) => kindOf(id) === kind).sort(([a], [b]) => a.localeCompare(b));
}

/** Subscribes to live messages ({type:'event'|'state'|'alarm'|'notify'|'reconnected'}); returns the unsubscribe. */
export function onLive(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const emit = (msg) => {
  for (const fn of [...listeners]) {
    try {
      fn(msg);
    } catch (err) {
      console.error(err);
    }
  }
};

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

/**
 * Opens the live feed; reconnects after a drop and tells the pages to reload their lists.
 * The first open reloads too: the pages loaded their lists before the feed was open (on a
 * slow link or a busy box the upgrade can take seconds), and anything that happened in
 * between was pushed to no one — an alarm raised then would never show on the board.
 */
export function connectLive() {
  const open = () => {
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`);
    socket.onopen = async () => {
      setIndicator(true);
      await loadStates();
      emit({ type: 'reconnected' });
    };
    socket.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
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
