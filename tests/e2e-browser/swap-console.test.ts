/**
 * The battery-swap console view (gateway/console/public/views/swap.js, issue 17) in a real
 * headless Chromium (Debian's /usr/bin/chromium through playwright-core, as the console
 * browser suite drives it; a missing Chromium fails loudly with the install command), against
 * a real Gateway on the rig (real Mosquitto platform) with the swap cabinet simulator on real
 * Modbus TCP. The page polls and keeps live connections open, so every wait is on rendered
 * content, never on network idle. Screenshots go to test-artifacts/console/swap-*.png.
 */
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../../gateway/console/accounts.js';
import { startSimulatedSwapCabinets, type SimulatedSwapCabinets } from '../../sim/swap/index.js';
import { ARTIFACTS, CHROMIUM_ARGS, requireChromium, visible } from '../helpers/console-browser-rig.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const GUARD = { username: 'guard-swap', password: 'a long swap guard passphrase' };
const ISOLATED = 2;
const RETURN_SLOT = 5;

type SlotState = { slot: number; present: boolean; soc: number | null; temperature: number | null; isolated: boolean; charger: string };

let sim: SimulatedSwapCabinets | undefined;
let rig: Rig | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

const text = async (loc: Locator) => ((await loc.textContent()) ?? '').trim();

const tile = (slot: number) => page.locator(`[data-testid=slot][data-cabinet=swap-1][data-slot="${slot}"]`);

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('battery-swap console view in a real browser', () => {
  beforeAll(async () => {
    const chromiumBin = requireChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
    sim = await startSimulatedSwapCabinets({ tcp: [{ id: 'swap-1', slots: 6, port: 0, host: '127.0.0.1' }], tickMs: 0, stock: {} });
    // Packs at distinct temperatures, so the tile of each slot must show its own.
    sim.cabinet('swap-1').slots.forEach((s, i) => s.pack && (s.pack.temperature = 24 + i * 1.5));
    [rig, browser] = await Promise.all([
      startRig({
        name: 'swap-console',
        config: {
          swapCabinets: [{ id: 'swap-1', bus: { tcp: { host: '127.0.0.1', port: sim.tcpPort('swap-1') } }, slots: 6, pollMs: 100 }],
          swap: { packIdPrefixes: ['GH-'] },
          console: { enabled: true, port: 0, tls: { enabled: true } },
        },
      }),
      chromium.launch({ executablePath: chromiumBin, args: CHROMIUM_ARGS, timeout: 30_000 }),
    ]);
    await rig.platform.waitState('swap-1', (s) => s.online === true && s.slots?.length === 6, 'swap-1 online and read');
    // An isolated slot and an open swap, through the router as the platform would.
    expect(await rig.platform.command('slot.isolate', { cabinet: 'swap-1', slot: ISOLATED, reason: 'inspection' })).toMatchObject({
      ok: true,
    });
    expect(await rig.platform.command('swap.authorize', { cabinet: 'swap-1', rider: 'rider-7' })).toMatchObject({
      ok: true,
      result: { slot: RETURN_SLOT },
    });
    await rig.platform.waitState(
      'swap-1',
      (s) => s.swap?.phase === 'returning' && s.slots?.[ISOLATED - 1]?.isolated === true,
      'the isolated slot and the open swap in the retained state',
    );

    const accounts = new Accounts(rig.gateway.outbox.scope('console'), () => Date.now());
    await accounts.add(GUARD.username, 'guard', GUARD.password);
    const origin = new URL(rig.gateway.consoleUrl!).origin;
    const ctx = await browser.newContext({
      ignoreHTTPSErrors: true,
      baseURL: origin,
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
    });
    const res = await ctx.request.post('/api/login', { data: GUARD, headers: { Origin: origin } });
    if (res.status() !== 200) throw new Error(`API login answered ${res.status()}: ${await res.text()}`);
    page = await ctx.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (m) => void (m.type() === 'error' && pageErrors.push(`console.error ${m.text()}`)));
    await page.goto('/');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await rig?.stop();
    await sim?.stop();
  }, 30_000);

  it('shows the slots grid with SoC and temperature, the isolated slot highlighted and the open swap; Chinese strings on the switch', async () => {
    await (await visible(page, 'a[data-route=swap]', 'the nav link to the swap page (registered by the family)')).click();
    await visible(page, '[data-testid=swap-cabinet][data-cabinet=swap-1]', 'the swap cabinet section');
    await expect.poll(() => tile(1).count(), { message: 'six slot tiles' }).toBe(1);
    expect(await page.locator('[data-testid=slot][data-cabinet=swap-1]').count()).toBe(6);

    // Every tile against the state the gateway published for it.
    const state = rig!.platform.state('swap-1') as { slots: SlotState[] };
    for (const s of state.slots) {
      const t = tile(s.slot);
      if (s.present) {
        await expect.poll(() => text(t.locator('[data-testid=slot-soc]')), { message: `slot ${s.slot} SoC` }).toBe(`${s.soc} %`);
        expect(await text(t.locator('.slot-temp')), `slot ${s.slot} temperature`).toBe(`${s.temperature} °C`);
        expect(await t.locator('[role=meter]').getAttribute('aria-valuenow'), `slot ${s.slot} SoC bar`).toBe(String(s.soc));
        // The fill is drawn at the SoC's share of the bar (what a guard sees, not only the number).
        const share = await t.locator('[role=meter]').evaluate((bar) => {
          const fill = bar.querySelector('.soc-fill')!;
          return fill.getBoundingClientRect().width / bar.clientWidth;
        });
        expect(share, `slot ${s.slot} SoC bar fill`).toBeCloseTo(s.soc! / 100, 1);
      } else expect(await text(t.locator('[data-testid=slot-soc]')), `slot ${s.slot} empty`).toBe('empty');
    }
    expect(state.slots[0]!.temperature).not.toBe(state.slots[2]!.temperature);
    expect(await text(tile(1).locator('.slot-state'))).toContain('charging');

    // The isolated slot: marked, worded and drawn differently from its neighbours.
    await expect.poll(() => tile(ISOLATED).getAttribute('data-isolated'), { message: 'slot 2 marked isolated' }).toBe('true');
    expect(await text(tile(ISOLATED).locator('.slot-state'))).toBe('isolated');
    const look = (slot: number) =>
      tile(slot).evaluate((el: any) => {
        const cs = el.ownerDocument.defaultView.getComputedStyle(el);
        return { background: String(cs.backgroundColor), border: `${cs.borderTopWidth} ${cs.borderTopColor}` };
      });
    const [isolatedLook, normalLook] = [await look(ISOLATED), await look(1)];
    expect(isolatedLook.background, 'the isolated tile background').not.toBe(normalLook.background);
    expect(isolatedLook.border, 'the isolated tile border').not.toBe(normalLook.border);
    expect(await tile(1).getAttribute('data-isolated')).toBe('false');

    // The open swap, waiting for the returned pack in slot 5 (whose door is unlocked).
    const row = await visible(page, '[data-testid=swap-row][data-cabinet=swap-1]', 'the open swap row');
    expect(await text(row.locator('td').nth(1))).toBe(String(RETURN_SLOT));
    expect(await text(row.locator('td').nth(2))).toBe('waiting for the returned pack');
    await expect.poll(() => text(tile(RETURN_SLOT).locator('.slot-state')), { message: 'slot 5 door unlocked' }).toBe('idle · unlocked');
    await shot('swap-en');

    // Chinese.
    await (await visible(page, '[data-testid=lang-zh]', 'the Chinese language switch')).click();
    await expect.poll(() => text(page.locator('a[data-route=swap]').first()), { message: 'the swap nav link in Chinese' }).toBe('换电');
    await expect.poll(() => text(page.locator('.view-head h2').first()), { message: 'the page title in Chinese' }).toBe('换电柜');
    await expect.poll(() => text(tile(1).locator('.slot-no')), { message: 'the slot label in Chinese' }).toBe('仓位 1');
    expect(await text(tile(ISOLATED).locator('.slot-state'))).toBe('已隔离');
    expect(await text(tile(6).locator('[data-testid=slot-soc]'))).toBe('空');
    expect(await text(tile(1).locator('.slot-state'))).toContain('充电中');
    expect(await text(page.locator('[data-testid=swap-row][data-cabinet=swap-1] td').nth(2))).toBe('等待归还电池');
    expect(await text(tile(RETURN_SLOT).locator('.slot-state'))).toBe('空闲 · 已开锁');
    await shot('swap-zh');
    await (await visible(page, '[data-testid=lang-en]', 'the English language switch')).click();
    await expect.poll(() => text(page.locator('a[data-route=swap]').first()), { message: 'back in English' }).not.toBe('换电');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
