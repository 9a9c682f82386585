import { t } from './strings.js';
import { api, translate } from './common.js';

translate();
document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const r = await api('POST', '/api/login', { username: form.get('username'), password: form.get('password') });
  if (r.ok) return void location.assign('/');
  document.getElementById('error').textContent = r.status === 429 ? t('lockedOut') : t('loginFailed');
});
