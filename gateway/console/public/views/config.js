// The System page's configuration section (installers and administrators): the running
// configuration's version, hash and probation, and the history the platform applied
// (config.get; docs/REMOTE-CONFIG.md). Read-only: the platform applies configurations.
import { t } from '../strings.js';
import { api, errorText, fmtTime, h } from '../common.js';

export function configSection() {
  const facts = h('dl', { class: 'facts', 'data-testid': 'config-facts' });
  const tbody = h('tbody', { 'data-testid': 'config-history' });
  const error = h('p', { class: 'error' });
  const fact = (key, value, testid) => [h('dt', {}, t(key)), h('dd', testid ? { 'data-testid': testid } : {}, value)];

  async function load() {
    const r = await api('POST', '/api/commands/config.get', { args: {} });
    if (!r.ok || r.data?.ok === false) {
      error.textContent = errorText(r.data?.error, r.status);
      return;
    }
    error.textContent = '';
    const c = r.data.result ?? {};
    facts.replaceChildren(
      ...fact('configVersion', c.origin === 'seed' ? t('configSeed') : String(c.version ?? '—'), 'config-version'),
      ...fact('configHash', String(c.hash ?? '—').slice(0, 19)),
      ...fact(
        'configStatus',
        h('span', { class: c.status === 'good' ? 'ok' : 'bad' }, t(c.status === 'probation' ? 'configStatus.probation' : 'configInForce')),
        'config-status',
      ),
    );
    const history = c.history ?? [];
    tbody.replaceChildren(
      ...(history.length
        ? history.map((e) =>
            h(
              'tr',
              { 'data-testid': 'config-row', 'data-version': e.version, class: e.running ? 'active' : '' },
              h('td', { class: 'id' }, e.version),
              h('td', {}, `${t(`configStatus.${e.status}`)}${e.running ? ` · ${t('configRunning')}` : ''}`),
              h('td', {}, fmtTime(e.appliedAt)),
              h('td', {}, e.by ?? ''),
              h('td', {}, e.reason ?? ''),
            ),
          )
        : [h('tr', {}, h('td', { colspan: '5', class: 'empty' }, t('configNoHistory')))]),
    );
  }

  void load();
  return h(
    'section',
    { class: 'config', 'data-testid': 'config' },
    h('h3', {}, t('configuration')),
    error,
    facts,
    h(
      'table',
      { class: 'grid config-history' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, t('configVersion')),
          h('th', {}, t('status')),
          h('th', {}, t('configAppliedAt')),
          h('th', {}, t('configBy')),
          h('th', {}, t('configReason')),
        ),
      ),
      tbody,
    ),
  );
}
