// #/swap: battery-swap cabinets (gateway/swap) as grids of slots with SoC bars, pack
// temperature and state, isolated slots highlighted, and the open swaps. Read-only: the
// swap commands go through the router (swap.authorize, slot.isolate...) with their roles.
import { t } from '../strings.js';
import { h } from '../common.js';
import { devicesOf, onLive } from '../store.js';

function slotTile(cabinet, s) {
  const isolated = s.isolated === true;
  // Not the alarm board's `alarm` class: its flex row collapsed the tile's SoC bar to nothing (style.css .slot.isolated highlights).
  const cls = `slot ch-${s.charger}${isolated ? ' isolated' : ''}${s.bmsFault ? ' bms-fault' : ''}`;
  const bar = h('div', {
    class: 'soc-bar',
    role: 'meter',
    'aria-valuemin': '0',
    'aria-valuemax': '100',
    'aria-valuenow': String(s.soc ?? 0),
  });
  const fill = h('div', { class: 'soc-fill' });
  // Through the CSSOM: the console's CSP (default-src 'self') blocks style attributes, which left every bar empty.
  fill.style.width = `${Math.max(0, Math.min(100, s.soc ?? 0))}%`;
  bar.append(fill);
  return h(
    'div',
    {
      class: cls,
      'data-testid': 'slot',
      'data-cabinet': cabinet,
      'data-slot': String(s.slot),
      'data-isolated': String(isolated),
    },
    h('div', { class: 'slot-no' }, `${t('slot')} ${s.slot}`),
    s.present ? bar : h('div', { class: 'soc-bar empty' }),
    h('div', { class: 'soc', 'data-testid': 'slot-soc' }, s.present ? `${s.soc} %` : t('slotEmpty')),
    h('div', { class: 'slot-temp' }, s.temperature === null || s.temperature === undefined ? '' : `${s.temperature} °C`),
    h(
      'div',
      { class: 'slot-state' },
      [isolated ? t('isolated') : t(`charger.${s.charger}`), s.bmsFault ? t('bmsFault') : '', s.doorLocked ? '' : t('doorUnlocked')]
        .filter(Boolean)
        .join(' · '),
    ),
  );
}

export default function swapView(root) {
  const grid = h('div', { class: 'cabinets' });
  const empty = h('p', { class: 'empty' }, t('noSwapCabinets'));
  const swaps = h('tbody');
  const noSwaps = h('p', { class: 'empty' }, t('noOpenSwaps'));
  root.append(
    h('div', { class: 'view-head' }, h('h2', {}, t('swapCabinets'))),
    empty,
    grid,
    h('h3', {}, t('openSwaps')),
    noSwaps,
    h(
      'table',
      { class: 'grid swaps' },
      h('thead', {}, h('tr', {}, h('th', {}, t('device')), h('th', {}, t('slot')), h('th', {}, t('swapPhase')))),
      swaps,
    ),
  );

  function render() {
    const cabs = devicesOf('swap-cabinet');
    empty.hidden = cabs.length > 0;
    grid.replaceChildren(
      ...cabs.map(([id, s]) => {
        const st = s.status ?? {};
        const facts = [
          t(s.online ? 'online' : 'offlineState'),
          st.temperature !== undefined ? `${t('temperature')}: ${st.temperature} °C` : '',
          st.smoke ? `${t('smoke')}!` : '',
          s.fire ? t('fireCut') : '',
        ]
          .filter(Boolean)
          .join(' · ');
        return h(
          'section',
          {
            class: `cabinet swap${s.online ? '' : ' offline'}${s.fire || st.smoke ? ' alarm' : ''}`,
            'data-testid': 'swap-cabinet',
            'data-cabinet': id,
          },
          h('header', {}, h('strong', {}, id)),
          h('p', { class: 'facts-line' }, facts),
          h('div', { class: 'slots' }, ...(s.slots ?? []).map((slot) => slotTile(id, slot))),
        );
      }),
    );
    const open = cabs.filter(([, s]) => s.swap);
    noSwaps.hidden = open.length > 0;
    swaps.replaceChildren(
      ...open.map(([id, s]) =>
        h(
          'tr',
          { 'data-testid': 'swap-row', 'data-cabinet': id },
          h('td', {}, id),
          h('td', {}, String(s.swap.phase === 'issuing' ? s.swap.issueSlot : s.swap.returnSlot)),
          h('td', {}, t(`phase.${s.swap.phase}`)),
        ),
      ),
    );
  }

  let timer;
  const off = onLive((msg) => {
    if (msg.type === 'state' || msg.type === 'reconnected') {
      clearTimeout(timer);
      timer = setTimeout(render, 150);
    }
  });
  render();
  return () => {
    off();
    clearTimeout(timer);
  };
}
