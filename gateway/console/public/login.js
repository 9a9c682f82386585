import { getLang, setLang, t } from './strings.js';
import { api, translate } from './common.js';

function applyLang() {
  document.documentElement.lang = getLang();
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === getLang()));
  translate();
}
for (const b of document.querySelectorAll('[data-lang]'))
  b.addEventListener('click', () => {
    setLang(b.dataset.lang);
    applyLang();
  });
applyLang();

document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const r = await api('POST', '/api/login', { username: form.get('username'), password: form.get('password') });
  if (r.ok) return void location.assign('/index.html');
  const code = r.data?.error?.code ?? `HTTP_${r.status}`;
  const locked = r.retryAfter ? t('lockedOutFor', { s: r.retryAfter }) : t('lockedOut');
  const text = r.status === 429 ? locked : r.status === 503 ? t('loginBusy') : t('loginFailed');
  document.getElementById('error').textContent = `${text} [${code}]`;
});

// Enabled only now: a click before this module ran would submit the form natively (a GET with the password in the URL).
document.querySelector('button[type=submit]').disabled = false;
