import { t } from './strings.js';
import { api, translate } from './common.js';

translate();
// The token travels in the fragment: browsers never send it to a server or in a Referer.
const token = location.hash.slice(1);
document.getElementById('setup').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const r = await api('POST', '/api/setup', { token, username: form.get('username'), password: form.get('password') });
  document.getElementById('message').textContent = r.ok ? t('setupDone') : t('setupFailed');
  if (r.ok) setTimeout(() => location.assign('/login.html'), 1500);
});
