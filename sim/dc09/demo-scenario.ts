/**
 * The SIA DC-09 part of `gatehouse demo`: the compound's first intrusion panel, encrypted with
 * a fresh AES-256 key, reporting to the gateway's receiver over TCP: its periodic test every
 * 30 s, and now and then an alarm on zone 3 followed by its restore.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DemoScenario } from '../scenarios.js';
import { startSimulatedPanels, type SimulatedPanels } from './index.js';

const PANEL_TEST_S = 30;

export const scenario: DemoScenario = {
  family: 'dc09',
  order: 50,
  async prepare(config) {
    const panelCfg = config.alarmPanels[0];
    if (!panelCfg) return undefined;
    const secrets: Record<string, string> = {};
    for (const p of config.alarmPanels) if (p.keySecret) secrets[p.keySecret] = randomBytes(32).toString('hex'); // AES-256
    const abort = new AbortController();
    const pause = (ms: number): Promise<boolean> =>
      sleep(ms, undefined, { signal: abort.signal }).then(
        () => true,
        () => false,
      );
    let panels: SimulatedPanels | undefined;
    let loop: Promise<void> = Promise.resolve();
    return {
      secrets,
      async run(host, say) {
        if (!host.dc09TcpPort) return say('  (DC-09 panel skipped: the gateway has no DC-09 receiver running)');
        panels = await startSimulatedPanels({
          host: '127.0.0.1',
          port: host.dc09TcpPort,
          protocol: 'tcp',
          ackTimeoutMs: 1000,
          maxAttempts: 3,
          panels: [
            {
              account: panelCfg.account,
              key: panelCfg.keySecret ? secrets[panelCfg.keySecret] : undefined,
              encrypted: panelCfg.keySecret !== undefined,
              periodicTestS: PANEL_TEST_S,
              format: 'SIA-DCS',
            },
          ],
        });
        const panel = panels.panel(panelCfg.account);
        loop = (async () => {
          await panel.periodicTest(); // the panel reports in as the demo starts
          let wait = 12_000;
          while (await pause(wait)) {
            await panel.alarm(3);
            if (!(await pause(4000))) break;
            await panel.restore(3);
            wait = 40_000 + Math.random() * 30_000;
          }
        })().catch(() => undefined);
      },
      banner: () => [
        `  SIA DC-09 panel ${panelCfg.id} (account ${panelCfg.account}, AES-256) over TCP: a test every ${PANEL_TEST_S} s, now and then an alarm and its restore (acknowledge them as above)`,
      ],
      halt: () => abort.abort(),
      async stop() {
        abort.abort();
        await panels?.stop();
        await loop;
      },
    };
  },
};
