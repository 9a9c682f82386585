// Shared helpers of the console pages: the API client, element building, messages, confirmation.
import { t } from './strings.js';

let csrf = '';
export const setCsrf = (token) => {
  csrf = token;
};

/** JSON call to the console API; state-changing calls carry the session's CSRF token. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    return { ok: false, status: 0, data: { error: { code: 'NETWORK', message: 'network error' } } };
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    /* empty body */
  }
  if (res.status === 401 && !path.startsWith('/api/login') && !path.startsWith('/api/setup') && location.pathname !== '/login.html') {
    location.assign('/login.html');
  }
  // Seconds to wait after a throttled login (429) or a busy console (503).
  const retryAfter = Number(res.headers.get('Retry-After')) || undefined;
  return { ok: res.ok, status: res.status, data, retryAfter };
}

/** A readable line for a coded error: the translated meaning, the server's detail, the code. */
export function errorText(error, status) {
  const code = error?.code ?? `HTTP_${status}`;
  const known = t(`err.${code}`);
  const meaning = known === `err.${code}` ? '' : known;
  const detail = error?.message && error.message !== meaning ? error.message : '';
  return `${t('failed')}: ${[meaning, detail].filter(Boolean).join(' — ') || code} [${code}]`;
}

/** Runs a gateway command through the console; shows the outcome; resolves to the reply or undefined. */
export async function command(name, args, okText) {
  const r = await api('POST', `/api/commands/${encodeURIComponent(name)}`, { args });
  if (r.ok && r.data?.ok !== false) {
    showMessage(okText ?? t('done'), 'ok');
    return r.data ?? {};
  }
  showMessage(errorText(r.data?.error, r.status), 'error');
  return undefined;
}

let messageTimer;
/** The toast/error area: errors stay until the next message, confirmations fade after 4 s. */
export function showMessage(text, kind = 'error') {
  const box = document.querySelector('[data-testid=message]');
  if (!box) return;
  clearTimeout(messageTimer);
  box.textContent = text;
  box.className = `message ${kind}`;
  box.dataset.kind = kind;
  box.hidden = false;
  if (kind !== 'error')
    messageTimer = setTimeout(() => {
      box.hidden = true;
      box.textContent = '';
    }, 4000);
}

/** Builds an element: h('td', { class: 'x', 'data-testid': 'y', onclick: fn }, 'text', child). Text only, never markup. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Translates every [data-t] element under root (and the title). */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll('[data-t-placeholder]')) el.placeholder = t(el.dataset.tPlaceholder);
  document.title = t('title');
}

/** Asks in the confirmation dialog; resolves true on yes. */
export function confirmDialog(text) {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  translate(dlg);
  return new Promise((resolve) => {
    const yes = document.getElementById('confirm-yes');
    const no = document.getElementById('confirm-no');
    const done = (v) => {
      yes.removeEventListener('click', onYes);
      no.removeEventListener('click', onNo);
      dlg.removeEventListener('cancel', onNo);
      if (dlg.open) dlg.close();
      resolve(v);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    yes.addEventListener('click', onYes);
    no.addEventListener('click', onNo);
    dlg.addEventListener('cancel', onNo);
    dlg.showModal();
    no.focus();
  });
}

/** Local date and time of an ISO string or epoch ms; '—' when there is none. */
export function fmtTime(v) {
  if (v === null || v === undefined || v === '') return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A credential as a guard may see it: only its last four characters. */
export function maskCredential(c) {
  if (c === undefined || c === null || c === '') return '—';
  const s = String(c);
  if (/^\*+.{0,4}$/.test(s)) return s;
  return `****${s.length > 4 ? s.slice(-4) : ''}`;
}

/** Yes/no/unknown of a boolean-or-null as translated text. */
export const yesNo = (v) => (v === true ? t('yes') : v === false ? t('no') : t('unknown'));
