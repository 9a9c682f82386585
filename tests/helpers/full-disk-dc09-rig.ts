/**
 * DC-09 alarms into a gateway whose data directory is a real tmpfs that fills up and frees
 * again, forwarding to a real Mosquitto as the platform. Simulated panels (sim/dc09) send
 * burglary alarms on distinct zones while the filesystem is filled to the last byte and
 * released in cycles. Afterwards every alarm must be on the platform: those the panel got
 * an ACK for, and those it did not (NAK or no answer) once the panel sends them again
 * after space is back. Used by the short test (npm test) and the soak (npm run soak).
 */
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import type { Envelope } from '../../gateway/core/events.js';
import { startSimulatedPanels, type SendResult } from '../../sim/dc09/index.js';
import { startMosquitto } from './mosquitto.js';
import { mountTmpfs } from './tmpfs.js';
import { waitFor } from './wait.js';
import type { Dc09Instance } from '../../gateway/perimeter/create-dc09.js';

export interface FullDiskRunOptions {
  panels: number;
  alarmsPerPanel: number;
  /** Full/free cycles while the panels send, spread evenly over the alarms sent. */
  cycles: number;
  tmpfsBytes?: number;
}

export interface FullDiskRunResult {
  sent: number;
  ackedFirstTime: number;
  refusedFirstTime: number;
  /** Alarms the panel got an ACK for that never reached the platform (must be empty). */
  ackedButLost: string[];
  /** Alarms never on the platform even after the panel sent them again (must be empty). */
  neverDelivered: string[];
  /** alarm.raised events per alarm beyond the first (a re-send can be recorded twice). */
  duplicates: number;
  diskFullErrors: number;
  diskFullReports: string[];
  integrity: string;
  crashed: boolean;
  ms: number;
}

const PANEL_KEY = randomBytes(32).toString('hex');

export async function runFullDiskDc09(opts: FullDiskRunOptions): Promise<FullDiskRunResult> {
  const t0 = Date.now();
  const fs = mountTmpfs(opts.tmpfsBytes ?? 16 * 1024 * 1024);
  const broker = await startMosquitto({ persistence: false });
  const dataDir = join(fs.dir, 'data');
  mkdirSync(dataDir);
  const accounts = Array.from({ length: opts.panels }, (_, i) => `C${String(i + 1).padStart(3, '0')}`);
  const config = CompoundConfig.parse({
    compound: { id: 'fulldisk-court' },
    gateway: { id: 'gw-1' },
    broker: { port: 0 },
    console: { enabled: false },
    uplink: { url: broker.url, keepaliveSeconds: 5, ackTimeoutMs: 2000, connectTimeoutMs: 2000, backoff: { minMs: 50, maxMs: 300 } },
    outbox: { reserveBytes: 128 * 1024, diskRetryMs: 250, checkpointIntervalMs: 0 },
    log: { level: 'silent' },
    perimeter: { dc09: { host: '127.0.0.1', tcpPort: 0, udpPort: 0 } },
    alarmPanels: accounts.map((account, i) => ({ id: `panel-${i + 1}`, account, keySecret: 'dc09.key', supervisionS: 0 })),
    alarms: { maxOpen: 100_000 },
  });
  const gateway = new Gateway({
    config,
    secrets: secretsFrom({ 'dc09.key': PANEL_KEY }),
    dataDir,
    logs: createLoggerFactory({ level: 'silent' }, { destination: process.stderr }),
  });
  let diskFullErrors = 0;
  gateway.outbox.on('error', (e) => void (e.code === 'OUTBOX_DISK_FULL' && diskFullErrors++));
  const platform = await mqtt.connectAsync(broker.url, { clientId: 'platform-fulldisk', reconnectPeriod: 100 });
  const raised = new Map<string, number>();
  const diskFullReports: string[] = [];
  platform.on('message', (_topic, payload) => {
    if (payload.length === 0) return;
    const env = JSON.parse(payload.toString()) as Envelope<Record<string, unknown>>;
    if (env.type === 'outbox.disk_full') diskFullReports.push(String(env.data.state));
    if (env.type !== 'alarm.raised') return;
    const source = env.data.source as { device: string; point?: string };
    const key = `${source.device}/${source.point}`;
    raised.set(key, (raised.get(key) ?? 0) + 1);
  });
  await platform.subscribeAsync(`${gateway.root}/evt/#`, { qos: 1 });
  let crashed = false;
  const onCrash = () => void (crashed = true);
  process.on('uncaughtException', onCrash);
  await gateway.start();
  const panels = await startSimulatedPanels({
    host: '127.0.0.1',
    port: gateway.family<Dc09Instance>('dc09').ports!.tcpPort,
    protocol: 'tcp',
    ackTimeoutMs: 1000,
    maxAttempts: 3,
    panels: accounts.map((account) => ({ account, key: PANEL_KEY, encrypted: true, periodicTestS: 0, format: 'SIA-DCS' as const })),
  });
  const first = new Map<string, SendResult>();
  try {
    // The disk fills and frees under the panels' feet: toggled at evenly spaced counts of alarms sent.
    const total = opts.panels * opts.alarmsPerPanel;
    const toggles = Array.from({ length: opts.cycles * 2 }, (_, i) => Math.floor(((i + 1) * total) / (opts.cycles * 2 + 1)));
    let sent = 0;
    let full = false;
    const afterSend = () => {
      sent++;
      while (toggles.length && sent >= toggles[0]!) {
        toggles.shift();
        if (full) fs.release();
        else {
          gateway.outbox.checkpoint();
          fs.fill();
        }
        full = !full;
      }
    };
    await Promise.all(
      accounts.map(async (account, i) => {
        const panel = panels.panel(account);
        for (let zone = 1; zone <= opts.alarmsPerPanel; zone++) {
          first.set(`panel-${i + 1}/zone-${zone}`, await panel.alarm(zone));
          afterSend();
        }
      }),
    );
    fs.release();
    // Whatever the panel was not told ACK, it sends again now that there is room.
    const resend = [...first].filter(([, r]) => r.answer !== 'ACK');
    for (const [key] of resend) {
      const [panelId, zone] = key.split('/') as [string, string];
      const account = accounts[Number(panelId.slice('panel-'.length)) - 1]!;
      const again = await panels.panel(account).alarm(Number(zone.slice('zone-'.length)));
      if (again.answer !== 'ACK') throw new Error(`${key}: still ${again.answer} after space was freed`);
    }
    await waitFor(
      () => gateway.outbox.stats().diskFull === null || undefined,
      'the outbox to leave the disk-full state',
      20_000,
      () => gateway.outbox.stats(),
    );
    await waitFor(
      () => [...first.keys()].every((k) => raised.has(k)) || undefined,
      'every alarm on the platform',
      30_000,
      () => [...first.keys()].filter((k) => !raised.has(k)),
    );
    await waitFor(
      () => diskFullReports.includes('recovered') || diskFullErrors === 0 || undefined,
      'the recovery report on the platform',
      20_000,
    );
    const ackedButLost = [...first].filter(([k, r]) => r.answer === 'ACK' && !raised.has(k)).map(([k]) => k);
    const neverDelivered = [...first.keys()].filter((k) => !raised.has(k));
    let duplicates = 0;
    for (const n of raised.values()) duplicates += n - 1;
    const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    db.close();
    return {
      sent: first.size,
      ackedFirstTime: [...first.values()].filter((r) => r.answer === 'ACK').length,
      refusedFirstTime: [...first.values()].filter((r) => r.answer !== 'ACK').length,
      ackedButLost,
      neverDelivered,
      duplicates,
      diskFullErrors,
      diskFullReports,
      integrity,
      crashed,
      ms: Date.now() - t0,
    };
  } finally {
    process.off('uncaughtException', onCrash);
    await panels.stop();
    await gateway.stop();
    await platform.endAsync(true);
    await broker.stop();
    fs.unmount();
  }
}
