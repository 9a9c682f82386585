// #/alarms: the live alarm board. Open alarms, highest priority then newest first; a beep on
// every new alarm; acknowledge with a note, close; the linked snapshot when there is one.
import { t } from '../strings.js';
import { api, command, fmtTime, h } from '../common.js';
import { onLive } from '../store.js';

const PRIORITY = { critical: 0, high: 1, medium: 2, low: 3 };
/** A closed alarm stays on the board this long (state "closed") before it leaves. */
const CLOSED_LINGER_MS = 2500;

/** Two short tones through WebAudio (no audio file; needs a prior click on the page). */
export function beep() {
  const ctx = window.gatehouseAudio;
  if (!ctx) return;
  try {
    ctx.resume?.();
    const start = ctx.currentTime;
    for (const [i, f] of [
      [0, 880],
      [1, 660],
    ]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.0001, start + i * 0.2);
      gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.2 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.2 + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + i * 0.2);
      osc.stop(start + i * 0.2 + 0.2);
    }
  } catch {
    /* audio is a nicety */
  }
}

const order = (a, b) => (PRIORITY[a.priority] ?? 9) - (PRIORITY[b.priority] ?? 9) || String(b.raisedAt).localeCompare(String(a.raisedAt));

const sourceText = (s) => (s ? `${s.device}${s.point ? ` / ${s.point}` : ''}` : '—');

function detailText(a) {
  const d = a.data ?? {};
  const parts = [];
  for (const [k, v] of Object.entries(d)) {
    if (v === null || typeof v === 'object') continue;
    parts.push(`${k}: ${v}`);
  }
  return parts.join(', ');
}

export default function alarmsView(root) {
  const alarms = new Map(); // id → alarm view
  const rows = new Map(); // id → { row, parts }
  const lingering = new Map(); // id → timer
  const list = h('div', { class: 'alarm-list', 'data-testid': 'alarm-list' });
  const empty = h('p', { class: 'empty', 'data-testid': 'alarm-empty' }, t('noAlarms'));
  const count = h('span', { class: 'count', 'data-testid': 'alarm-count' });
  root.append(h('div', { class: 'view-head' }, h('h2', {}, t('openAlarms'), ' ', count)), empty, list);

  function buildRow(a) {
    const note = h('input', {
      type: 'text',
      'data-testid': 'alarm-note',
      maxlength: '500',
      placeholder: t('notePlaceholder'),
      'aria-label': t('note'),
    });
    const ack = h('button', { type: 'button', 'data-testid': 'ack', class: 'primary' }, t('acknowledge'));
    const close = h('button', { type: 'button', 'data-testid': 'close' }, t('close'));
    const parts = {
      priority: h('span', { class: 'priority', 'data-testid': 'alarm-priority' }),
      kind: h('span', { class: 'kind', 'data-testid': 'alarm-kind' }),
      kindLabel: h('span', { class: 'kind-label' }),
      state: h('span', { class: 'state', 'data-testid': 'alarm-state' }),
      source: h('span', { class: 'source', 'data-testid': 'alarm-source' }),
      times: h('span', { class: 'times' }),
      detail: h('span', { class: 'detail' }),
      who: h('span', { class: 'who' }),
      media: h('div', { class: 'media' }),
      // The panel's audio/video verification link (DC-09 extended data V), when it sent one.
      verify: h('a', { class: 'verify', 'data-testid': 'alarm-verification', target: '_blank', rel: 'noopener noreferrer', hidden: '' }),
      note,
      ack,
      close,
    };
    const act = async (name) => {
      const args = { alarmId: a.id };
      const text = note.value.trim();
      if (text) args.note = text;
      ack.disabled = close.disabled = true;
      const reply = await command(name, args, t(name === 'alarm.acknowledge' ? 'acknowledgedOk' : 'closedOk'));
      ack.disabled = close.disabled = alarms.get(a.id)?.state === 'closed';
      if (reply) {
        note.value = '';
        const updated = reply.result?.alarm ?? reply.result;
        if (updated?.id === a.id && updated.state) upsert(updated, false);
        else void load();
      }
    };
    ack.addEventListener('click', () => act('alarm.acknowledge'));
    close.addEventListener('click', () => act('alarm.close'));
    const row = h(
      'article',
      { class: 'alarm', 'data-testid': 'alarm-row', 'data-alarm-id': a.id },
      h(
        'div',
        { class: 'alarm-main' },
        h('div', { class: 'line1' }, parts.priority, parts.kind, parts.kindLabel, parts.state),
        h('div', { class: 'line2' }, parts.source, parts.times),
        h('div', { class: 'line3' }, parts.detail, parts.verify, parts.who),
        h('div', { class: 'alarm-actions' }, note, ack, close),
      ),
      parts.media,
    );
    return { row, parts };
  }

  function fill(entry, a) {
    const { row, parts } = entry;
    row.className = `alarm p-${a.priority} s-${a.state}${a.active ? ' active' : ''}`;
    row.dataset.state = a.state;
    row.dataset.priority = a.priority;
    parts.priority.textContent = t(`priority.${a.priority}`);
    parts.kind.textContent = a.kind;
    const label = t(`kind.${a.kind}`);
    parts.kindLabel.textContent = label === `kind.${a.kind}` ? '' : label;
    parts.state.textContent = t(`state.${a.state}`);
    parts.source.textContent = `${t('source')}: ${sourceText(a.source)}`;
    parts.times.textContent = `${t('raisedAt')} ${fmtTime(a.raisedAt)}${a.count > 1 ? ` · ×${a.count} · ${t('lastAt')} ${fmtTime(a.lastAt)}` : ''}${a.active ? ` · ${t('activeNow')}` : ''}`;
    parts.detail.textContent = detailText(a);
    const ackd = a.acknowledged
      ? `${t('acknowledgedBy')} ${a.acknowledged.by}${a.acknowledged.note ? ` — “${a.acknowledged.note}”` : ''}`
      : '';
    const closed = a.closed ? `${t('closedBy')} ${a.closed.by}` : '';
    parts.who.textContent = [ackd, closed].filter(Boolean).join(' · ');
    const closedNow = a.state === 'closed';
    parts.ack.disabled = parts.close.disabled = parts.note.disabled = closedNow;
    parts.ack.classList.toggle('done', Boolean(a.acknowledged));
    parts.close.classList.toggle('primary', !a.active && Boolean(a.acknowledged));
    const url = a.data?.verificationUrl;
    // Only a web link is ever made clickable (never javascript: or data:).
    if (typeof url === 'string' && /^https?:\/\//i.test(url)) {
      parts.verify.href = url;
      parts.verify.textContent = t('verification');
      parts.verify.hidden = false;
    } else {
      parts.verify.removeAttribute('href');
      parts.verify.hidden = true;
    }
    const mediaId = (a.media ?? []).at(-1);
    const img = parts.media.querySelector('img');
    if (mediaId && img?.dataset.media !== mediaId) {
      const link = h(
        'a',
        { href: `/api/media/${mediaId}`, target: '_blank', rel: 'noopener' },
        h('img', {
          'data-testid': 'alarm-snapshot',
          src: `/api/media/${mediaId}`,
          alt: t('snapshot'),
          'data-media': mediaId,
          loading: 'lazy',
        }),
      );
      parts.media.replaceChildren(link);
    } else if (!mediaId) parts.media.replaceChildren();
  }

  function render() {
    const open = [...alarms.values()].sort(order);
    for (const [id, entry] of rows)
      if (!alarms.has(id)) {
        entry.row.remove();
        rows.delete(id);
      }
    open.forEach((a, i) => {
      let entry = rows.get(a.id);
      if (!entry) {
        entry = buildRow(a);
        rows.set(a.id, entry);
      }
      fill(entry, a);
      // Moved only when out of place: moving a row would take the focus out of its note field.
      if (list.children[i] !== entry.row) list.insertBefore(entry.row, list.children[i] ?? null);
    });
    empty.hidden = open.length > 0;
    const n = open.filter((a) => a.state !== 'closed').length;
    count.textContent = n ? `(${n})` : '';
  }

  // The list request is answered with the alarms as they were when the server read them: a
  // push that arrives while it is in flight is newer, and an answer to an earlier request is
  // older than one to a later request. Without this, a stale answer removed a just-pushed row.
  let loadSeq = 0;
  let appliedSeq = 0;
  /** Alarms the feed (or a command reply) updated while the latest list request was in flight. */
  const touchedSince = new Set();

  function upsert(a, fromFeed) {
    if (loadSeq > appliedSeq) touchedSince.add(a.id);
    if (a.state === 'closed') {
      if (!alarms.has(a.id)) return;
      alarms.set(a.id, a);
      if (!lingering.has(a.id)) {
        lingering.set(
          a.id,
          setTimeout(() => {
            lingering.delete(a.id);
            alarms.delete(a.id);
            render();
          }, CLOSED_LINGER_MS),
        );
      }
    } else {
      const isNew = !alarms.has(a.id);
      alarms.set(a.id, a);
      if (isNew && fromFeed) beep();
    }
    render();
  }

  async function load() {
    const seq = ++loadSeq;
    // What happened before this request is in its answer.
    touchedSince.clear();
    const r = await api('GET', '/api/alarms');
    if (!r.ok || seq !== loadSeq) return;
    appliedSeq = seq;
    const fresh = new Map((r.data?.alarms ?? []).map((a) => [a.id, a]));
    for (const id of alarms.keys()) if (!fresh.has(id) && !lingering.has(id) && !touchedSince.has(id)) alarms.delete(id);
    for (const a of fresh.values()) if (!touchedSince.has(a.id)) alarms.set(a.id, a);
    touchedSince.clear();
    render();
  }

  const off = onLive((msg) => {
    if (msg.type === 'alarm' && msg.alarm) {
      if (msg.event === 'raised' && !alarms.has(msg.alarm.id)) upsert(msg.alarm, true);
      else upsert(msg.alarm, false);
    } else if (msg.type === 'event' && msg.envelope?.type === 'alarm.media') {
      const id = msg.envelope.data?.alarmId;
      const mediaId = msg.envelope.data?.mediaId;
      const a = alarms.get(id);
      if (a && mediaId && !(a.media ?? []).includes(mediaId)) upsert({ ...a, media: [...(a.media ?? []), mediaId] }, false);
    } else if (msg.type === 'notify' && msg.alarm) {
      upsert(msg.alarm, false);
      beep();
    } else if (msg.type === 'reconnected') void load();
  });
  void load();
  return () => {
    off();
    for (const timer of lingering.values()) clearTimeout(timer);
  };
}
