// #/zones: perimeter partitions (arm/disarm) and zones (bypass for some minutes, unbypass).
import { t } from '../strings.js';
import { command, fmtTime, h, yesNo } from '../common.js';
import { devicesOf, onLive } from '../store.js';

export default function zonesView(root) {
  const parts = h('tbody');
  const zones = h('tbody');
  const noParts = h('p', { class: 'empty' }, t('noPartitions'));
  const noZones = h('p', { class: 'empty' }, t('noZones'));
  root.append(
    h('div', { class: 'view-head' }, h('h2', {}, t('partitions'))),
    noParts,
    h(
      'table',
      { class: 'grid partitions' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, t('partition')),
          h('th', {}, t('status')),
          h('th', {}, t('by')),
          h('th', {}, t('since')),
          h('th', {}, t('notReady')),
          h('th', {}),
        ),
      ),
      parts,
    ),
    h('h2', {}, t('zones')),
    noZones,
    h(
      'table',
      { class: 'grid zones' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, t('zone')),
          h('th', {}, t('condition')),
          h('th', {}, t('type')),
          h('th', {}, t('partition')),
          h('th', {}, t('armed')),
          h('th', {}, t('module')),
          h('th', {}),
        ),
      ),
      zones,
    ),
  );
  const pRows = new Map();
  const zRows = new Map();

  function partitionRow(id) {
    const cells = { state: h('td', { 'data-testid': 'partition-state' }), by: h('td'), since: h('td'), notReady: h('td') };
    const arm = h('button', { type: 'button', class: 'primary', 'data-testid': 'arm' }, t('arm'));
    const disarm = h('button', { type: 'button', 'data-testid': 'disarm' }, t('disarm'));
    arm.addEventListener('click', () => command('partition.arm', { partition: id }));
    disarm.addEventListener('click', () => command('partition.disarm', { partition: id }));
    const tr = h(
      'tr',
      { 'data-testid': 'partition-row', 'data-partition': id },
      h('td', { class: 'id' }, id),
      cells.state,
      cells.by,
      cells.since,
      cells.notReady,
      h('td', { class: 'actions' }, arm, disarm),
    );
    return { tr, cells };
  }

  function zoneRow(id) {
    const cells = { cond: h('td', { 'data-testid': 'zone-state' }), type: h('td'), partition: h('td'), armed: h('td'), module: h('td') };
    const minutes = h('input', {
      type: 'number',
      min: '1',
      max: '1440',
      value: '30',
      'data-testid': 'bypass-minutes',
      'aria-label': t('minutes'),
      class: 'minutes',
    });
    const bypass = h('button', { type: 'button', 'data-testid': 'bypass' }, t('bypass'));
    const unbypass = h('button', { type: 'button', 'data-testid': 'unbypass' }, t('unbypass'));
    bypass.addEventListener('click', () => command('zone.bypass', { zone: id, minutes: Number(minutes.value) }));
    unbypass.addEventListener('click', () => command('zone.unbypass', { zone: id }));
    const tr = h(
      'tr',
      { 'data-testid': 'zone-row', 'data-zone': id },
      h('td', { class: 'id' }, id),
      cells.cond,
      cells.type,
      cells.partition,
      cells.armed,
      cells.module,
      h('td', { class: 'actions' }, minutes, h('span', { class: 'unit' }, t('minutes')), bypass, unbypass),
    );
    return { tr, cells };
  }

  function render() {
    const ps = devicesOf('partition');
    noParts.hidden = ps.length > 0;
    for (const [id, s] of ps) {
      let r = pRows.get(id);
      if (!r) {
        r = partitionRow(id);
        pRows.set(id, r);
        parts.append(r.tr);
      }
      r.tr.className = s.armed ? 'armed' : 'disarmed';
      r.tr.dataset.armed = String(s.armed);
      r.cells.state.textContent = `${t(s.armed ? 'armed' : 'disarmed')}${s.override ? ` (${t('override')})` : ''}`;
      r.cells.by.textContent = s.by ?? '—';
      r.cells.since.textContent = fmtTime(s.since);
      r.cells.notReady.textContent = (s.notReady ?? []).join(', ') || '—';
    }
    const zs = devicesOf('zone');
    noZones.hidden = zs.length > 0;
    for (const [id, s] of zs) {
      let r = zRows.get(id);
      if (!r) {
        r = zoneRow(id);
        zRows.set(id, r);
        zones.append(r.tr);
      }
      r.tr.className = `z-${s.zone}`;
      r.tr.dataset.condition = s.zone;
      r.cells.cond.textContent = `${s.zone === 'bypassed' && s.bypassedUntil ? `${t('bypassedUntil')} ${fmtTime(s.bypassedUntil)}` : t(`zone.${s.zone}`)}${s.notReady ? ` · ${t('notReady')}` : ''}`;
      r.cells.type.textContent = t(`ztype.${s.type}`);
      r.cells.partition.textContent = s.partition ?? '—';
      r.cells.armed.textContent = yesNo(s.armed);
      r.cells.module.textContent =
        s.moduleOnline === null || s.moduleOnline === undefined ? t('unknown') : t(s.moduleOnline ? 'online' : 'offlineState');
    }
  }

  const off = onLive((msg) => {
    if (msg.type === 'state' || msg.type === 'reconnected') render();
  });
  render();
  return off;
}
