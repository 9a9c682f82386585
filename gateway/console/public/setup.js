import { getLang, setLang, t } from './strings.js';
import { api, translate } from './common.js';

function applyLang() {
  document.documentElement.lang = getLang();
  translate();
  document.title = t('setupTitle');
}
for (const b of document.querySelectorAll('[data-lang]'))
  b.addEventListener('click', () => {
    setLang(b.dataset.lang);
    applyLang();
  });
applyLang();
// The token travels in the fragment: browsers never send it to a server or in a Referer.
const token = location.hash.slice(1);
document.getElementById('setup').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const r = await api('POST', '/api/setup', { token, username: form.get('username'), password: form.get('password') });
  const code = r.data?.error?.code;
  document.getElementById('message').textContent = r.ok ? t('setupDone') : `${t('setupFailed')}${code ? ` [${code}]` : ''}`;
  if (r.ok) setTimeout(() => location.assign('/login.html'), 1500);
});

// Enabled only now: a click before this module ran would submit the form natively (a GET with the password in the URL).
document.querySelector('button[type=submit]').disabled = false;
