// #/video: the video wall. One JSMpeg canvas per camera, fed MPEG-TS over /api/video/{camera};
// the players stop when the guard leaves the page (the gateway then stops its ffmpeg).
import { t } from '../strings.js';
import { command, h } from '../common.js';
import { devicesOf, onLive } from '../store.js';

let loading;
/** JSMpeg is loaded on the first visit of the wall only (it injects a stylesheet the CSP refuses, harmlessly). */
function loadJsmpeg() {
  if (window.JSMpeg) return Promise.resolve(window.JSMpeg);
  loading ??= new Promise((resolve) => {
    const s = document.createElement('script');
    s.src = '/vendor/jsmpeg-player.js';
    s.onload = () => resolve(window.JSMpeg);
    s.onerror = () => {
      loading = undefined;
      resolve(undefined);
    };
    document.head.append(s);
  });
  return loading;
}

export default function videoView(root) {
  const wall = h('div', { class: 'wall' });
  const empty = h('p', { class: 'empty' }, t('noCameras'));
  root.append(h('div', { class: 'view-head' }, h('h2', {}, t('videoWall'))), empty, wall);
  const tiles = new Map(); // camera → { el, player, status }
  let stopped = false;
  const wsBase = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/video/`;

  function startPlayer(camera, canvas) {
    const JSMpeg = window.JSMpeg;
    if (!JSMpeg?.Player) return undefined;
    try {
      // WebAssembly would need 'wasm-unsafe-eval' in the CSP: the JavaScript decoder is enough for a tile.
      return new JSMpeg.Player(wsBase + encodeURIComponent(camera), {
        canvas,
        audio: false,
        disableWebAssembly: true,
        disableGl: false,
        videoBufferSize: 1024 * 1024,
        reconnectInterval: 5,
      });
    } catch (err) {
      console.error(err);
      return undefined;
    }
  }

  function tile(camera) {
    const canvas = h('canvas', { 'data-testid': 'video', 'data-camera': camera, width: '640', height: '360' });
    const status = h('span', { class: 'cam-status', 'data-testid': 'camera-status' });
    const preset = h('input', { type: 'text', class: 'preset', maxlength: '64', placeholder: t('preset'), 'aria-label': t('preset') });
    const go = h('button', { type: 'button', 'data-testid': 'ptz-goto' }, t('gotoPreset'));
    const snap = h('button', { type: 'button', 'data-testid': 'camera-snapshot' }, t('takeSnapshot'));
    const shot = h('div', { class: 'shot' });
    go.addEventListener('click', () => {
      if (preset.value.trim()) void command('camera.ptz.goto', { camera, preset: preset.value.trim() });
    });
    snap.addEventListener('click', async () => {
      const reply = await command('camera.snapshot', { camera }, t('snapshotTaken'));
      const media = reply?.result?.media;
      const id = typeof media === 'string' ? media : media?.id;
      if (id)
        shot.replaceChildren(
          h(
            'a',
            { href: `/api/media/${id}`, target: '_blank', rel: 'noopener' },
            h('img', { src: `/api/media/${id}`, alt: t('snapshot') }),
          ),
        );
    });
    const el = h(
      'figure',
      { class: 'tile', 'data-testid': 'camera-tile', 'data-camera': camera },
      h('div', { class: 'screen' }, canvas),
      h('figcaption', {}, h('strong', {}, camera), ' ', status, h('span', { class: 'controls' }, preset, go, snap)),
      shot,
    );
    const entry = { el, player: undefined, status };
    void loadJsmpeg().then(() => {
      if (stopped) return;
      entry.player = startPlayer(camera, canvas);
      if (!entry.player) {
        entry.failed = true;
        status.textContent = t('videoUnavailable');
      }
    });
    return entry;
  }

  function render() {
    const cams = devicesOf('camera');
    empty.hidden = cams.length > 0;
    for (const [id, s] of cams) {
      let tl = tiles.get(id);
      if (!tl) {
        tl = tile(id);
        tiles.set(id, tl);
        wall.append(tl.el);
      }
      tl.el.classList.toggle('offline', s.online === false);
      if (!tl.failed)
        tl.status.textContent = s.online === false ? `${t('offlineState')}${s.lastError ? ` [${s.lastError}]` : ''}` : t('online');
    }
  }

  const off = onLive((msg) => {
    if (msg.type === 'state' || msg.type === 'reconnected') render();
  });
  render();
  return () => {
    stopped = true;
    off();
    for (const tl of tiles.values()) {
      try {
        tl.player?.destroy();
      } catch {
        /* already gone */
      }
    }
    tiles.clear();
  };
}
