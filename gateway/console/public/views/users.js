// User management on the system page, for administrators only: list, add, disable, new password.
import { t } from '../strings.js';
import { api, confirmDialog, errorText, fmtTime, h, showMessage } from '../common.js';

const ROLES = ['guard', 'installer', 'admin'];

export function usersSection(me) {
  const tbody = h('tbody');
  const username = h('input', {
    type: 'text',
    'data-testid': 'user-new-username',
    maxlength: '64',
    required: true,
    autocomplete: 'off',
    'aria-label': t('username'),
    placeholder: t('username'),
  });
  const role = h(
    'select',
    { 'data-testid': 'user-new-role', 'aria-label': t('roleLabel') },
    ...ROLES.map((r) => h('option', { value: r }, t(`role.${r}`))),
  );
  const password = h('input', {
    type: 'password',
    'data-testid': 'user-new-password',
    minlength: '12',
    required: true,
    autocomplete: 'new-password',
    'aria-label': t('password'),
    placeholder: t('password'),
  });
  const form = h(
    'form',
    { class: 'inline-form', 'data-testid': 'user-add-form' },
    username,
    role,
    password,
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'user-add' }, t('addUser')),
  );

  const result = (r, okText) => {
    if (r.ok) showMessage(okText, 'ok');
    else showMessage(errorText(r.data?.error, r.status), 'error');
    return r.ok;
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await api('POST', '/api/users', { username: username.value.trim(), role: role.value, password: password.value });
    if (result(r, t('userAdded'))) {
      username.value = '';
      password.value = '';
      void load();
    }
  });

  function row(u) {
    const pw = h('input', {
      type: 'password',
      minlength: '12',
      autocomplete: 'new-password',
      'data-testid': 'user-password-input',
      'aria-label': t('newPassword'),
      placeholder: t('newPassword'),
    });
    const setPw = h('button', { type: 'button', 'data-testid': 'user-password-set' }, t('setPassword'));
    setPw.addEventListener('click', async () => {
      if (!pw.value) return;
      const r = await api('POST', `/api/users/${encodeURIComponent(u.username)}/password`, { password: pw.value });
      if (result(r, t('passwordChanged'))) pw.value = '';
    });
    const disable = h(
      'button',
      { type: 'button', 'data-testid': 'user-disable', disabled: u.disabled || u.username === me },
      t('disableUser'),
    );
    disable.addEventListener('click', async () => {
      if (!(await confirmDialog(t('confirmDisableUser', { user: u.username })))) return;
      const r = await api('POST', `/api/users/${encodeURIComponent(u.username)}/disable`);
      if (result(r, t('userDisabled'))) void load();
    });
    return h(
      'tr',
      { 'data-testid': 'user-row', 'data-user': u.username, class: u.disabled ? 'offline' : '' },
      h('td', { class: 'id' }, u.username),
      h('td', {}, t(`role.${u.role}`)),
      h('td', {}, u.disabled ? t('disabledUser') : t('activeUser')),
      h('td', {}, fmtTime(u.createdAt)),
      h('td', { class: 'actions' }, ...(u.disabled ? [] : [pw, setPw, disable])),
    );
  }

  async function load() {
    const r = await api('GET', '/api/users');
    if (!r.ok) return;
    tbody.replaceChildren(...(r.data?.users ?? []).map(row));
  }

  void load();
  return h(
    'section',
    { class: 'users', 'data-testid': 'users' },
    h('h3', {}, t('users')),
    h(
      'table',
      { class: 'grid users' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, t('username')),
          h('th', {}, t('roleLabel')),
          h('th', {}, t('status')),
          h('th', {}, t('created')),
          h('th', {}),
        ),
      ),
      tbody,
    ),
    h('h3', {}, t('addUser')),
    form,
    h('p', { class: 'hint' }, t('passwordHint')),
  );
}
