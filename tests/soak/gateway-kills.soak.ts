/**
 * 100 SIGKILLs of a real gateway process at random moments under load (the crash test's
 * child, tests/helpers/load-gateway.ts, recording as fast as group commit allows) while a
 * simulated SIA DC-09 panel sends to its receiver over TCP; then a clean restart that drains:
 * every seq 1..N delivered, none missing, SQLite's integrity_check ok, and every DC-09 message
 * the receiver ACKed is on the platform (an ACK is a promise to the panel, which will not resend).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicRoot } from '../../gateway/core/topics.js';
import { Verifier } from '../../sim/verifier.js';
import { requireBuild } from '../helpers/cli.js';
import { startLoadGateway } from '../helpers/load-gateway-child.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { startSimulatedPanels } from '../../sim/dc09/index.js';
import { waitFor } from '../helpers/wait.js';

const KILLS = Number(process.env.SOAK_GATEWAY_KILLS ?? 100);
const ROOT_TOPIC = topicRoot('crash-court', 'gw-crash');

/**
 * Sends SIA openings (`ri{area}/OP{user}`, unique per message: area = life, user = counter)
 * until stopped; returns the keys the receiver ACKed.
 */
function panelLoad(port: number, area: number): { acked: Set<string>; stop: () => Promise<void> } {
  const acked = new Set<string>();
  let running = true;
  const loop = (async () => {
    const sim = await startSimulatedPanels({ host: '127.0.0.1', port, protocol: 'tcp', panels: [{ account: '1234', encrypted: false, periodicTestS: 0 }], ackTimeoutMs: 1000 });
    try {
      for (let user = 1; running && user <= 999; user++) {
        const r = await sim.panel('1234').send('SIA-DCS', `#1234|Nri${area}/OP${user}`).catch(() => undefined);
        if (r?.answer === 'ACK') acked.add(`${area}/${user}`);
        else await new Promise((res) => setTimeout(res, 20));
      }
    } finally {
      await sim.stop();
    }
  })();
  return { acked, stop: async () => { running = false; await loop; } };
}

describe('soak: gateway SIGKILLed at random moments', () => {
  let broker: Mosquitto;
  let dir: string;
  beforeAll(async () => {
    requireBuild();
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'gh-soak-kills-'));
  });
  afterAll(async () => {
    await broker?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`${KILLS} kills: every seq 1..N delivered, integrity ok, every ACKed DC-09 message delivered`, async () => {
    const verifier = await Verifier.connect({ url: broker.url, root: ROOT_TOPIC, clientId: 'soak-kills-platform' });
    // The platform side of the DC-09 check: every panel opening that arrives, by area/user.
    const arrived = new Set<string>();
    const platform = await mqtt.connectAsync(broker.url, { clientId: 'soak-kills-panel-check', clean: true });
    platform.on('message', (_t, payload) => {
      const e = JSON.parse(payload.toString()) as { type?: string; data?: { area?: number; user?: number | string } };
      if (e.type === 'panel.opened' && e.data) arrived.add(`${e.data.area}/${Number(e.data.user)}`);
    });
    await platform.subscribeAsync(`${ROOT_TOPIC}/evt/#`, { qos: 1 });
    const dc09Port = await freePort();
    const env = { GH_DATA: dir, GH_UPLINK: broker.url, GH_MODE: 'load', GH_DC09_PORT: String(dc09Port) };
    const ackedByPanel = new Set<string>();
    let promised = 0;
    let kills = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = startLoadGateway(env);
      await waitFor(() => child.ready || child.proc.exitCode !== null, `child ${i} ready`, 60_000, () => child.stderr.slice(-2000));
      const panel = panelLoad(dc09Port, i + 1);
      // Half the kills early (during start-up and recovery), half after a random amount of new work.
      const target = Math.random() < 0.5 ? promised + 1 : promised + 200 + Math.floor(Math.random() * 3000);
      await waitFor(() => child.acked >= target || child.proc.exitCode !== null, `child ${i} to record past seq ${target}`, 60_000, () => child.stderr.slice(-2000));
      expect(child.proc.exitCode, child.stderr).toBeNull();
      child.proc.kill('SIGKILL');
      await new Promise((r) => child.proc.once('exit', r));
      await panel.stop();
      for (const k of panel.acked) ackedByPanel.add(k);
      kills++;
      promised = Math.max(promised, child.acked);
    }
    const drainer = startLoadGateway({ ...env, GH_MODE: 'drain' });
    await waitFor(() => drainer.ready, 'drain gateway ready', 60_000, () => drainer.stderr);
    const db = () => new Database(join(dir, 'outbox.db'), { readonly: true });
    await waitFor(() => {
      const d = db();
      try {
        return (d.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n === 0;
      } finally {
        d.close();
      }
    }, 'the backlog to drain', 300_000);
    drainer.proc.kill('SIGTERM');
    expect(await new Promise((r) => drainer.proc.once('exit', r)), drainer.stderr).toBe(0);
    const check = db();
    const integrity = check.pragma('integrity_check', { simple: true });
    const lastSeq = (check.prepare("SELECT v FROM meta WHERE k = 'next_seq'").get() as { v: number }).v - 1;
    check.close();
    await waitFor(() => verifier.report().maxSeq >= lastSeq, `verifier to see seq ${lastSeq}`, 60_000);
    const report = verifier.report();
    await verifier.close();
    const lostAcked = [...ackedByPanel].filter((k) => !arrived.has(k));
    await platform.endAsync();
    console.log(JSON.stringify({ kills, promised, lastSeq, delivered: report.unique, missing: report.missingCount, duplicates: report.duplicates, integrity,
      dc09Acked: ackedByPanel.size, dc09Arrived: arrived.size, dc09AckedLost: lostAcked.length, dc09AckedLostSample: lostAcked.slice(0, 10) }));
    expect(kills).toBe(KILLS);
    expect(integrity).toBe('ok');
    expect(lastSeq).toBeGreaterThanOrEqual(promised);
    expect(report.problems).toEqual([]);
    expect(report.missingCount).toBe(0);
    expect(report.fromSeq).toBe(1);
    expect(report.maxSeq).toBe(lastSeq);
    expect(report.unique).toBe(lastSeq);
    expect(ackedByPanel.size).toBeGreaterThan(KILLS);
    expect(lostAcked).toEqual([]);
  });
});
