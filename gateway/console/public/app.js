// The guard console: session, navigation by hash routes, language switch, live feed.
import { getLang, setLang, t } from './strings.js';
import { api, setCsrf, showMessage, translate } from './common.js';
import { connectLive, familyViews, loadFamilies, loadStates } from './store.js';
import alarms from './views/alarms.js';
import devices from './views/devices.js';
import system from './views/system.js';

/** The core's pages; the configured families' pages join them from /api/families (mountFamilyViews). */
const VIEWS = { alarms, devices, system };
const STAFF = ['installer', 'admin'];
const view = document.getElementById('view');
let session;
let current; // { name, cleanup }

/** Mounts the view of the hash (#/alarms by default); the previous one stops its timers and streams. */
function route() {
  let name = (location.hash.match(/^#\/([a-z]+)/) ?? [])[1] ?? 'alarms';
  // #/system is not rerouted for a guard: the page itself says it is for installers and administrators.
  if (!VIEWS[name]) name = 'alarms';
  if (current?.cleanup) {
    try {
      current.cleanup();
    } catch (err) {
      console.error(err);
    }
  }
  view.replaceChildren();
  view.dataset.view = name;
  for (const a of document.querySelectorAll('nav a[data-route]')) {
    const on = a.dataset.route === name;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const section = document.createElement('section');
  section.className = `view view-${name}`;
  view.append(section);
  current = { name, cleanup: VIEWS[name](section, { session }) };
}

/**
 * The pages the families declare: each module from the server (only configured families'
 * are served), each nav link between the alarms and devices links, in the declared order.
 */
async function mountFamilyViews() {
  const before = document.querySelector('nav a[data-route=devices]');
  for (const v of familyViews) {
    try {
      VIEWS[v.route] = (await import(`./views/${v.module}`)).default;
    } catch (err) {
      console.error(err);
      continue;
    }
    const a = document.createElement('a');
    a.href = `#/${v.route}`;
    a.dataset.route = v.route;
    a.dataset.family = v.family;
    a.dataset.t = `nav.${v.route}`;
    before.before(a);
  }
}

function applyLang() {
  const lang = getLang();
  document.documentElement.lang = lang;
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  translate();
  document.getElementById('role').textContent = session ? t(`role.${session.role}`) : '';
}

/** A beep needs an AudioContext unlocked by a gesture: the first click or key does it. */
function unlockAudio() {
  const unlock = () => {
    if (!window.gatehouseAudio) {
      try {
        window.gatehouseAudio = new AudioContext();
      } catch {
        /* no audio */
      }
    }
    window.gatehouseAudio?.resume?.();
  };
  window.addEventListener('pointerdown', unlock, { once: false, passive: true });
  window.addEventListener('keydown', unlock, { once: false, passive: true });
}

async function main() {
  applyLang();
  const r = await api('GET', '/api/session');
  if (!r.ok) {
    if (r.status !== 401) showMessage(`${t('failed')} [${r.data?.error?.code ?? r.status}]`);
    return;
  }
  session = r.data;
  setCsrf(session.csrf);
  await loadFamilies();
  await mountFamilyViews();
  document.getElementById('user').textContent = session.user;
  document.querySelector('nav a[data-route=system]').hidden = !STAFF.includes(session.role);
  applyLang();
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.addEventListener('click', () => {
      setLang(b.dataset.lang);
      applyLang();
      route();
    });
  }
  document.getElementById('logout').addEventListener('click', async () => {
    await api('POST', '/api/logout');
    location.assign('/login.html');
  });
  unlockAudio();
  await loadStates();
  connectLive();
  window.addEventListener('hashchange', route);
  route();
}

void main();
