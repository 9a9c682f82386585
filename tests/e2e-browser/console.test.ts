/**
 * The guard console end to end in a real headless Chromium, against a real Gateway with
 * simulated devices behind it and a real Mosquitto as the platform (see the rig). Each
 * scenario saves a screenshot in test-artifacts/console/. Selectors are the console's DOM
 * contract (data-testid / data-route / ids); a page that breaks the contract fails here with
 * the selector and what was expected of it.
 *
 *   1. a guard signs in through the login form and sees their name;
 *   2. a simulated beam raises an alarm: its row appears without a reload, the linked camera
 *      snapshot shows on it, and acknowledging it with a note reaches the platform with the
 *      note and the guard's name;
 *   2c. an alarm raised before the page's live feed is open, while its first alarm list answer
 *      is still on the way, shows on the board, and that older answer does not remove it;
 *   3. opening a door asks for confirmation, then the simulated lock releases;
 *   4. the video wall paints live frames of the simulated camera;
 *   5. the Chinese UI;
 *   6. security: nothing without a session (HTTP and both WebSockets), a guard gets 403 on the
 *      user API and sees none of the administrator's actions;
 *   7. repeated wrong passwords: the login form says how many seconds to wait (last: it
 *      throttles this address);
 *   8. the pages and device kinds come from the server's families: a lock whose state looks
 *      like an input module's is listed as a smart lock; a family not configured has no page.
 */
import { connect } from 'node:net';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapBody } from '../../drivers/dc09/frame.js';
import { ConsoleBrowserRig, IDS, USERS, pngStats, visible } from '../helpers/console-browser-rig.js';
import { waitFor } from '../helpers/wait.js';
import { ConfigStore } from '../../gateway/remote-config/store.js';
import type { Dc09Instance } from '../../gateway/perimeter/create-dc09.js';

/** Follows a nav link of the contract (a[data-route=…]) and waits for `landmark` on the page it opens. */
async function go(page: Page, route: string, landmark: string, what: string, timeoutMs = 5000): Promise<Locator> {
  await (await visible(page, `a[data-route=${route}]`, `the nav link to ${route}`)).click();
  return visible(page, landmark, what, timeoutMs);
}

const text = async (loc: Locator) => ((await loc.textContent()) ?? '').trim();

describe('guard console in a real browser', () => {
  const rig = new ConsoleBrowserRig();
  let guard: Page; // one signed-in guard page for scenarios 2-5
  const started = Date.now();

  beforeAll(async () => {
    await rig.start();
    guard = await rig.signedIn(USERS.guard);
  }, 60_000);

  afterAll(async () => {
    await rig.stop();
    // The suite's budget: report it with the results.
    process.stderr.write(`console browser suite: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }, 30_000);

  it('1. a guard signs in with the login form and sees their name', async () => {
    const ctx = await rig.context();
    const page = await ctx.newPage();
    await rig.step(page, '01-login', async () => {
      await page.goto('/');
      // Not signed in: the console sends the browser to its login page.
      await visible(page, '#username', 'the login form (redirect from / without a session)');
      await page.locator('#username').fill(USERS.guard.username);
      await page.locator('#password').fill(USERS.guard.password);
      await rig.screenshot(page, '01-login-form');
      await page.locator('button[type=submit]').click();
      const user = await visible(page, '[data-testid=user]', 'the signed-in user after login');
      await expect
        .poll(() => text(user), { message: '[data-testid=user] shows the username', timeout: 3000 })
        .toContain(USERS.guard.username);
      await rig.screenshot(page, '01-signed-in');
    });
  });

  it('2. an alarm from the simulator appears on the board without a reload; acknowledged with a note, the platform hears who and why', async () => {
    const page = guard;
    await rig.step(page, '02-alarm', async () => {
      await go(page, 'alarms', '[data-testid=user]', 'the alarm board');
      let navigations = 0;
      const onNav = (f: { parentFrame(): unknown }) => {
        if (!f.parentFrame()) navigations++;
      };
      page.on('framenavigated', onNav);
      const t0 = Date.now();
      rig.modules.scenario.beam(IDS.alarmZone).block();
      const raised = await waitFor(
        () => rig.events('alarm.raised').find((e) => e.body.source?.device === IDS.alarmZone),
        'alarm.raised for the beam at the platform',
        5000,
      );
      const alarmId = raised.body.data.alarmId as string;
      const rowSel = `[data-testid=alarm-row][data-alarm-id="${alarmId}"]`;
      const row = await visible(page, rowSel, `the new alarm's row, pushed live (beam blocked ${Date.now() - t0} ms ago)`, 2500);
      const latency = Date.now() - t0;
      page.off('framenavigated', onNav);
      expect(navigations, 'the board must update live, without a page load').toBe(0);
      expect(latency, 'beam → row on the board').toBeLessThan(2500);
      expect(await text(row.locator('[data-testid=alarm-kind]'))).toContain('zone.tamper');
      expect(await text(row.locator('[data-testid=alarm-state]'))).toBe('raised');
      // The linked camera's snapshot, fetched by the gateway, shows on the row (not a broken image).
      const snap = await visible(page, `${rowSel} img[data-testid=alarm-snapshot]`, 'the camera snapshot on the alarm row', 15_000);
      await expect
        .poll(() => snap.evaluate((img: any) => (img.complete ? img.naturalWidth : 0)), {
          message: 'the snapshot image loaded',
          timeout: 5000,
        })
        .toBeGreaterThan(0);
      await rig.screenshot(page, '02-alarm-board');

      const note = 'guard on the way to the east wall';
      await row.locator('[data-testid=alarm-note]').fill(note);
      await row.locator('[data-testid=ack]').click();
      const acked = await waitFor(
        () => rig.events('alarm.acknowledged').find((e) => e.body.data?.alarmId === alarmId),
        'alarm.acknowledged at the real Mosquitto subscriber',
        5000,
        () => rig.messages.filter((m) => m.topic.endsWith('/evt/alarm')).map((m) => m.body.type),
      );
      expect(acked.body.data).toMatchObject({ by: USERS.guard.username, note });
      await expect
        .poll(() => text(page.locator(`${rowSel} [data-testid=alarm-state]`)), {
          message: 'the row shows the alarm acknowledged',
          timeout: 3000,
        })
        .toBe('acknowledged');
      await rig.screenshot(page, '02-alarm-acknowledged');
      rig.modules.scenario.beam(IDS.alarmZone).restore();
    });
  });

  it('2b. a DC-09 panel alarm with a verification link: the row offers the link, nothing else becomes one', async () => {
    const url = 'https://nvr.example/clip/17?t=3';
    const send = async (seq: string, zone: string, xdata: string) => {
      const socket = connect({ host: '127.0.0.1', port: rig.gateway.family<Dc09Instance>('dc09').ports!.tcpPort });
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      socket.write(wrapBody(`"SIA-DCS"${seq}L0#B7A1[#B7A1|Nri1/BA${zone}]${xdata}`), 'latin1');
      await waitFor(
        () => answer.includes('"ACK"'),
        `the receiver's ACK of ${seq}`,
        5000,
        () => answer,
      );
      socket.destroy();
    };
    await go(guard, 'alarms', '[data-testid=user]', 'the alarm board');
    await send('0001', '021', `[V${url}]`);
    await send('0002', '022', '[Vjavascript:alert(1)]');
    const alarmRow = async (point: string) => {
      const raised = await waitFor(
        () => rig.events('alarm.raised').find((e) => e.body.source?.device === IDS.panel && e.body.source?.point === point),
        `alarm.raised for ${point}`,
        5000,
      );
      return `[data-testid=alarm-row][data-alarm-id="${raised.body.data.alarmId as string}"]`;
    };
    const link = await visible(
      guard,
      `${await alarmRow('zone-21')} a[data-testid=alarm-verification]`,
      'the verification link on the panel alarm',
    );
    expect(await link.getAttribute('href')).toBe(url);
    expect(await link.getAttribute('rel')).toContain('noopener');
    const other = guard.locator(`${await alarmRow('zone-22')} a[data-testid=alarm-verification]`);
    await expect.poll(() => other.count(), { message: 'the second row is rendered', timeout: 3000 }).toBe(1);
    expect(await other.isVisible()).toBe(false);
    expect(await other.getAttribute('href')).toBeNull();
    await rig.screenshot(guard, '02b-panel-verification');
  });

  it('2c. an alarm raised while the board is still starting shows on it, and a stale list answer does not remove it', async () => {
    // The page's live feed opens only when the test says (a slow upgrade on a busy box), and
    // its first alarm list answer is held back (read by the server before the alarm).
    let listRead!: () => void;
    const listWasRead = new Promise<void>((r) => (listRead = r));
    let releaseList!: () => void;
    const listReleased = new Promise<void>((r) => (releaseList = r));
    let lists = 0;
    const page = await rig.signedIn(USERS.guard, async (p) => {
      await p.addInitScript(() => {
        // In the page (no DOM types here): the live feed's WebSocket is made only once __openLive() is called.
        const w = globalThis as any;
        const Real = w.WebSocket;
        let open!: () => void;
        const gate = new Promise<void>((r) => (open = r));
        w.__openLive = open;
        // How many alarm list answers the page has read: the board renders in the same task.
        w.__alarmLists = 0;
        const realFetch = w.fetch.bind(w);
        w.fetch = async (...args: any[]) => {
          const res = await realFetch(...args);
          if (!String(args[0]).endsWith('/api/alarms')) return res;
          const json = res.json.bind(res);
          res.json = async () => {
            try {
              return await json();
            } finally {
              w.__alarmLists++;
            }
          };
          return res;
        };
        w.WebSocket = function (url: string, protocols?: string | string[]) {
          if (!String(url).endsWith('/api/live')) return new Real(url, protocols);
          let real: any;
          const proxy: any = { readyState: 0, send: (d: string) => real?.send(d), close: () => real?.close() };
          void gate.then(() => {
            real = new Real(url, protocols);
            for (const h of ['onopen', 'onmessage', 'onclose', 'onerror']) real[h] = (e: unknown) => proxy[h]?.(e);
          });
          return proxy;
        };
      });
      await p.route('**/api/alarms', async (route) => {
        if (lists++ > 0) return route.continue();
        const answer = await route.fetch();
        listRead();
        await listReleased;
        await route.fulfill({ response: answer });
      });
    });
    await rig.step(page, '02c-alarm-while-starting', async () => {
      await listWasRead;
      const socket = connect({ host: '127.0.0.1', port: rig.gateway.family<Dc09Instance>('dc09').ports!.tcpPort });
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      socket.write(wrapBody('"SIA-DCS"0031L0#B7A1[#B7A1|Nri1/BA031]'), 'latin1');
      await waitFor(
        () => answer.includes('"ACK"'),
        "the receiver's ACK",
        5000,
        () => answer,
      );
      socket.destroy();
      const raised = await waitFor(
        () => rig.events('alarm.raised').find((e) => e.body.source?.device === IDS.panel && e.body.source?.point === 'zone-31'),
        'alarm.raised for zone-31 at the platform',
        5000,
      );
      const rowSel = `[data-testid=alarm-row][data-alarm-id="${raised.body.data.alarmId as string}"]`;
      // Raised before the feed was open: nothing was pushed to this page; opening the feed reloads.
      await page.evaluate(() => (globalThis as any).__openLive());
      await visible(page, rowSel, 'the alarm raised before the feed opened, after the feed opened', 10_000);
      // The first list answer, older than the row, arrives last: it must not take the row away.
      releaseList();
      await expect
        .poll(() => page.evaluate(() => (globalThis as any).__alarmLists as number), {
          message: 'both list answers read by the page',
          timeout: 10_000,
        })
        .toBe(2);
      expect(await page.locator(rowSel).count(), 'the row after the stale list answer').toBe(1);
      await rig.screenshot(page, '02c-alarm-while-starting');
    });
    await page.context().close();
  });

  it('3. opening a door asks for confirmation, then the simulated lock releases', async () => {
    const page = guard;
    const door = rig.readers.door(IDS.doorReader);
    await rig.step(page, '03-door', async () => {
      const row = await go(page, 'doors', `[data-testid=door-row][data-door="${IDS.door}"]`, `the row of door ${IDS.door}`);
      await visible(page, `[data-testid=door-row][data-door="${IDS.door}"] [data-testid=door-state]`, 'the door state');
      const releasesBefore = door.history.filter((h) => h.event === 'released').length;
      await row.locator('[data-testid=door-open]').click();
      const dialog = await visible(page, '[data-testid=confirm]', 'the confirmation dialog before a door opens');
      await rig.screenshot(page, '03-door-confirm');
      // Nothing opens before the guard confirms.
      expect(door.released, 'the lock released before confirmation').toBe(false);
      await dialog.locator('[data-testid=confirm-yes]').click();
      await waitFor(
        () => door.history.filter((h) => h.event === 'released').length > releasesBefore || undefined,
        'the simulated lock to release after confirming',
        5000,
        () => door.history.slice(-5),
      );
      await rig.screenshot(page, '03-door-opened');
    });
  });

  it('4. the video wall paints live frames from the camera', async () => {
    const page = guard;
    await rig.step(page, '04-video', async () => {
      const canvas = await go(page, 'video', `canvas[data-testid=video][data-camera="${IDS.camera}"]`, `the video canvas of ${IDS.camera}`);
      // The composited pixels (an element screenshot works for WebGL and 2D alike, whatever
      // preserveDrawingBuffer is), decoded and measured: the test card has colour bars.
      let last = { width: 0, height: 0, stddev: 0, colours: 0 };
      const deadline = Date.now() + 15_000;
      for (;;) {
        last = await pngStats(rig.browser, await canvas.screenshot());
        if (last.stddev > 20 && last.colours >= 8) break;
        if (Date.now() > deadline)
          throw new Error(
            `the video canvas stayed blank for 15 s: ${JSON.stringify(last)}; live view ${JSON.stringify(rig.gateway.liveView!.stats())}`,
          );
        await page.waitForTimeout(250);
      }
      // Live, not a still: the test card's frame counter changes the picture.
      const first = await canvas.screenshot();
      const moving = Date.now() + 5000;
      while ((await canvas.screenshot()).equals(first)) {
        if (Date.now() > moving) throw new Error('the video canvas shows a picture but it has not changed for 5 s: not live');
        await page.waitForTimeout(200);
      }
      expect(last.width).toBeGreaterThan(0);
      await rig.screenshot(page, '04-video-wall');
    });
  }, 30_000);

  it('5. switching to Chinese translates the console', async () => {
    const page = guard;
    await rig.step(page, '05-zh', async () => {
      await (await visible(page, '[data-testid=lang-zh]', 'the Chinese language switch')).click();
      await expect
        .poll(() => text(page.locator('a[data-route=alarms]').first()), { message: 'the alarms nav link in Chinese', timeout: 3000 })
        .toBe('告警');
      await go(page, 'alarms', '[data-testid=user]', 'the alarm board in Chinese');
      await rig.screenshot(page, '05-chinese');
      await (await visible(page, '[data-testid=lang-en]', 'the English language switch')).click();
      await expect
        .poll(() => text(page.locator('a[data-route=alarms]').first()), { message: 'the alarms nav link back in English', timeout: 3000 })
        .not.toBe('告警');
    });
  });

  it('8. each device shows under the family the server names, not one guessed from its state; unconfigured families have no page', async () => {
    await rig.step(guard, '08-devices', async () => {
      // `channels` is what an input module's state has: a page guessing from keys would call this lock a module.
      await rig.gateway.outbox.setState(IDS.lock, { online: false, locked: true, channels: 8, outputs: [] });
      await guard.reload();
      const row = await go(guard, 'devices', `[data-testid=device-row][data-device="${IDS.lock}"]`, `the row of lock ${IDS.lock}`);
      expect(await row.getAttribute('data-kind'), 'the kind of the lock').toBe('lock');
      expect(await row.getAttribute('data-family'), 'the family of the lock').toBe('locks');
      expect(await text(row.locator('td').nth(1)), 'the kind column').toBe('smart lock');
      const module = guard.locator('[data-testid=device-row][data-device="wall-east"]');
      expect(await module.getAttribute('data-kind'), 'the input module').toBe('module');
      // The compound has no cabinets: no charging page in the nav, and its module is not served.
      expect(await guard.locator('a[data-route=charging]').count(), 'a charging nav link').toBe(0);
      for (const route of ['video', 'doors', 'zones'])
        expect(await guard.locator(`a[data-route=${route}]`).count(), `the ${route} nav link`).toBe(1);
      const served = await guard.evaluate(async () => [
        (await fetch('/views/charging.js')).status,
        (await fetch('/views/zones.js')).status,
      ]);
      expect(served, '/views/charging.js and /views/zones.js').toEqual([404, 200]);
      await rig.screenshot(guard, '08-devices');
    });
  });

  it('6a. without a session: the API answers 401 and both WebSockets are refused', async () => {
    // In a browser with no cookies, from the console's own origin.
    const ctx = await rig.context();
    const page = await ctx.newPage();
    await page.goto('/login.html');
    const status = await page.evaluate(async () => (await fetch('/api/alarms')).status);
    expect(status, 'fetch(/api/alarms) without a session').toBe(401);
    // And from outside the browser.
    expect((await rig.get('/api/alarms')).status).toBe(401);
    expect(await rig.upgradeStatus('/api/live'), 'WebSocket /api/live without a session').toBe(401);
    expect(await rig.upgradeStatus(`/api/video/${IDS.camera}`), 'WebSocket /api/video without a session').toBe(401);
    expect(await rig.upgradeStatus('/api/video/x'), 'WebSocket /api/video/x without a session').toBe(401);
    expect(rig.gateway.liveView!.stats().streams.filter((s) => s.camera === 'x')).toEqual([]);
  });

  it('6b. a guard gets 403 on the user API and sees none of the administrator actions', async () => {
    const page = guard;
    const status = await page.evaluate(async () => (await fetch('/api/users')).status);
    expect(status, 'GET /api/users as a guard').toBe(403);
    // The visible controls of a page, by test id, name or text. The administrator's system
    // page is the reference for what counts as an administrator's action there.
    const controls = (p: Page) =>
      p.evaluate(() => {
        const d = (globalThis as any).document;
        const out: string[] = [];
        for (const el of d.querySelectorAll(
          'main button, main input, main select, main textarea, main form, [data-testid] button, [data-testid] input, form button, form input',
        )) {
          const r = el.getBoundingClientRect();
          if (!r.width || !r.height) continue;
          out.push(
            el.getAttribute('data-testid') ??
              el.getAttribute('name') ??
              `${el.tagName.toLowerCase()}:${(el.textContent ?? '').trim().slice(0, 40)}`,
          );
        }
        return [...new Set(out)].sort();
      });
    const admin = await rig.signedIn(USERS.admin);
    const { adminControls, systemUrl } = await rig.step(admin, '06-admin-system', async () => {
      await go(admin, 'system', '[data-testid=user]', 'the system page (admin)');
      // What the page fetches, rendered (not 'networkidle': the page polls its status every
      // 5 s and the console keeps live connections, so the network is rarely idle for long).
      await visible(admin, '[data-testid=system] dd', 'the system facts (admin)');
      await visible(admin, '[data-testid=config-facts] dd', 'the running configuration (admin)');
      await visible(admin, '[data-testid=user-password-set]', 'the user rows (admin)');
      await rig.screenshot(admin, '06-admin-system');
      return { adminControls: await controls(admin), systemUrl: admin.url() };
    });
    const guardView = await rig.step(page, '06-guard-system', async () => {
      await visible(page, 'a[data-route=alarms]', 'the nav');
      // The system page's nav link may be hidden from a guard altogether; either way, the
      // page itself, opened by its address, must not offer the administrator's actions.
      const link = page.locator('a[data-route=system]');
      const linkShown = (await link.count()) > 0 && (await link.first().isVisible());
      if (linkShown) await link.first().click();
      else await page.goto(systemUrl);
      await visible(page, '[data-testid=user]', 'the console shell after opening the system page (guard)');
      await visible(page, '[data-testid=forbidden], [data-testid=system] dd', 'the system page or its refusal (guard)');
      await rig.screenshot(page, '06-guard-system');
      return { linkShown, url: page.url(), controls: await controls(page) };
    });
    // Either the guard was turned away from the system page (the console keeps it for staff)…
    if (guardView.url !== systemUrl) return;
    // …or the page is shown without the administrator's actions: nothing the admin does not
    // also see there, and no user management whatever it is called.
    expect(
      guardView.controls.filter((c) => /users?[-_]|password|role|disable/i.test(c)),
      "user-management controls on the guard's system page",
    ).toEqual([]);
    expect(
      guardView.controls.filter((c) => !adminControls.includes(c)),
      `controls on the guard's system page beyond the admin's (${adminControls.join(', ') || 'none'})`,
    ).toEqual([]);
    const adminOnly = adminControls.filter((c) => !guardView.controls.includes(c));
    if (adminControls.length)
      expect(adminOnly.length, `the admin's actions (${adminControls.join(', ')}) are all offered to a guard too`).toBeGreaterThan(0);
  });

  it('9. the system page shows the running configuration and the history the platform applied, in English and Chinese', async () => {
    // Two applies as the platform's would leave them in the data directory: one in force, one rolled back.
    const store = new ConfigStore(rig.dir);
    const stage = (version: string) =>
      store.stage({ text: `# ${version}\n`, version, by: 'platform', at: Date.now(), online: [], seedHash: 'sha256:seed' }, store.read());
    stage('2026-12-01.1');
    store.confirm(store.read()!);
    stage('2026-12-02.1');
    store.rollBack(store.read()!, 'not healthy within 120000 ms: uplink not connected');
    const admin = await rig.signedIn(USERS.admin);
    await rig.step(admin, '09-config', async () => {
      await go(admin, 'system', '[data-testid=config-row]', 'the configuration history on the system page');
      // The rig's gateway runs its seed (it was built from a file, not applied by the platform).
      expect(await text(admin.locator('[data-testid=config-version]')), 'the running version').toBe('installer file (seed)');
      expect(await text(admin.locator('[data-testid=config-status]')), 'its state').toBe('in force');
      const rows = admin.locator('[data-testid=config-row]');
      expect(await rows.count(), 'history rows').toBe(2);
      expect(await rows.first().getAttribute('data-version'), 'newest first').toBe('2026-12-02.1');
      expect(await text(rows.first()), 'the rolled back row').toContain('rolled back');
      expect(await text(rows.first()), 'its reason').toContain('uplink not connected');
      await rig.screenshot(admin, '09-config');
      await (await visible(admin, '[data-testid=lang-zh]', 'the Chinese language switch')).click();
      await expect
        .poll(() => text(admin.locator('[data-testid=config-version]')), { message: 'the running version in Chinese', timeout: 5000 })
        .toBe('安装人员文件（初始）');
      expect(await text(admin.locator('[data-testid=config-row]').first()), 'the rolled back row in Chinese').toContain('已回滚');
      await rig.screenshot(admin, '09-config-zh');
      await (await visible(admin, '[data-testid=lang-en]', 'the English language switch')).click();
    });
  });

  it('7. repeated wrong passwords: the login form says how long to wait', async () => {
    const ctx = await rig.context();
    const page = await ctx.newPage();
    await rig.step(page, '07-throttled', async () => {
      await page.goto('/login.html');
      await visible(page, '#username', 'the login form');
      let status = 0;
      for (let i = 0; i < 10 && status !== 429; i++) {
        await page.locator('#username').fill('intruder');
        await page.locator('#password').fill(`wrong password ${i}`);
        const reply = page.waitForResponse((r) => r.url().endsWith('/api/login'));
        await page.locator('button[type=submit]').click();
        status = (await reply).status();
      }
      expect(status, 'a throttled login within 10 wrong passwords').toBe(429);
      const error = await visible(page, '#error', 'the login error');
      await expect
        .poll(() => text(error), { message: '#error says how many seconds to wait', timeout: 3000 })
        .toMatch(/^Too many failed attempts\. Try again in \d+ s\. \[CONSOLE_LOCKED_OUT\]$/);
      await rig.screenshot(page, '07-throttled');
    });
  });
});
