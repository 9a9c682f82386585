/**
 * 100 SIGKILLs of a real gateway process at random moments under mixed load: the crash
 * test's child (tests/helpers/load-gateway.ts) recording as fast as group commit allows, a
 * simulated SIA DC-09 panel sending to its receiver over TCP, smart locks publishing unlock
 * events at QoS 1 to the embedded broker (tests/helpers/lock-load.ts), and two simulated
 * charging cabinets on Modbus TCP (sim/cabinet, outliving every gateway) with sessions
 * started by platform commands, plugs pulled, and smoke in one cabinet halfway through.
 * Then a clean restart that drains: every seq 1..N delivered, none missing, integrity_check
 * ok; every DC-09 message the receiver ACKed and every lock event the broker PUBACKed is on
 * the platform, each under one seq (an ACK/PUBACK is a promise: the device will not resend);
 * the cabinet's smoke is on the platform and its power stays cut across the restarts.
 * SOAK_GATEWAY_KILLS sets the number of kills (default 100).
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
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { waitFor } from '../helpers/wait.js';
import { lockEventKey, lockLoad } from '../helpers/lock-load.js';

const KILLS = Number(process.env.SOAK_GATEWAY_KILLS ?? 100);
const ROOT_TOPIC = topicRoot('crash-court', 'gw-crash');
const LOCKS = ['lock-a', 'lock-b', 'lock-c'].map((id) => ({ id, password: `soak-${id}-secret` }));
const CAB_PORTS = 4;
const SMOKY = 'cab-2';

/** Riders at the cabinets: plug in, ask the platform to start charging, pull the plug later. */
function riders(sims: SimulatedCabinets, platform: mqtt.MqttClient, stopped: () => boolean): { stop: () => void; starts: number } {
  const r = { starts: 0, stop: () => clearInterval(timer) };
  let n = 0;
  const timer = setInterval(() => {
    if (stopped()) return;
    const cab = sims.cabinets[Math.floor(Math.random() * sims.cabinets.length)]!;
    const port = 1 + Math.floor(Math.random() * CAB_PORTS);
    if (Math.random() < 0.3) return sims.inject({ kind: 'unplug', cabinet: cab.id, port });
    sims.inject({ kind: 'plug', cabinet: cab.id, port, soc: 0.3 });
    r.starts++;
    void platform
      .publishAsync(`${ROOT_TOPIC}/cmd/charging.start`, JSON.stringify({ id: `soak-start-${++n}`, args: { cabinet: cab.id, port } }), {
        qos: 1,
      })
      .catch(() => undefined);
  }, 300);
  return r;
}

/**
 * Sends SIA openings (`ri{area}/OP{user}`, unique per message: area = life, user = counter)
 * until stopped; returns the keys the receiver ACKed.
 */
function panelLoad(port: number, area: number): { acked: Set<string>; stop: () => Promise<void> } {
  const acked = new Set<string>();
  let running = true;
  const loop = (async () => {
    const sim = await startSimulatedPanels({
      host: '127.0.0.1',
      port,
      protocol: 'tcp',
      panels: [{ account: '1234', encrypted: false, periodicTestS: 0 }],
      ackTimeoutMs: 1000,
    });
    try {
      for (let user = 1; running && user <= 999; user++) {
        const r = await sim
          .panel('1234')
          .send('SIA-DCS', `#1234|Nri${area}/OP${user}`)
          .catch(() => undefined);
        if (r?.answer === 'ACK') acked.add(`${area}/${user}`);
        else await new Promise((res) => setTimeout(res, 20));
      }
    } finally {
      await sim.stop();
    }
  })();
  return {
    acked,
    stop: async () => {
      running = false;
      await loop;
    },
  };
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

  it(`${KILLS} kills: every seq 1..N delivered, integrity ok, every ACKed DC-09 message and PUBACKed lock event delivered, smoke cut held`, async () => {
    const verifier = await Verifier.connect({ url: broker.url, root: ROOT_TOPIC, clientId: 'soak-kills-platform' });
    // The platform side of the DC-09 check: every panel opening that arrives, by area/user.
    const arrived = new Set<string>();
    // Lock events by key -> the seqs they arrived under (one, or the device was told twice).
    const lockArrived = new Map<string, Set<number>>();
    const cabinetEvents = new Map<string, number>();
    let smokeOnPlatform = false;
    const cmdAnswers = { ok: 0, refused: 0 }; // charging.start answers; refused while a cabinet is offline after a restart
    const platform = await mqtt.connectAsync(broker.url, { clientId: 'soak-kills-panel-check', clean: true });
    platform.on('message', (_t, payload) => {
      type Data = {
        area?: number;
        user?: number | string;
        lock?: string;
        credential?: string;
        cabinet?: string;
        cause?: string;
        active?: boolean;
      };
      if (_t.endsWith('/res')) {
        if ((JSON.parse(payload.toString()) as { ok?: boolean }).ok) cmdAnswers.ok++;
        else cmdAnswers.refused++;
        return;
      }
      const e = JSON.parse(payload.toString()) as { seq?: number; type?: string; data?: Data };
      if (e.type === 'panel.opened' && e.data) arrived.add(`${e.data.area}/${Number(e.data.user)}`);
      if (e.type === 'access.granted' && e.data?.lock && e.data.credential) {
        const key = lockEventKey(e.data.lock, e.data.credential);
        lockArrived.set(key, (lockArrived.get(key) ?? new Set()).add(e.seq ?? -1));
      }
      if (e.type?.startsWith('charging.') && e.data?.cabinet) cabinetEvents.set(e.type, (cabinetEvents.get(e.type) ?? 0) + 1);
      if (e.type === 'charging.fire' && e.data?.cabinet === SMOKY && e.data.active) smokeOnPlatform = true;
    });
    await platform.subscribeAsync([`${ROOT_TOPIC}/evt/#`, `${ROOT_TOPIC}/cmd/+/res`], { qos: 1 });
    const dc09Port = await freePort();
    const sims = await startSimulatedCabinets({
      tcp: ['cab-1', SMOKY].map((id) => ({ id, ports: CAB_PORTS, port: 0, host: '127.0.0.1' })),
      tickMs: 200,
    });
    const env = {
      GH_DATA: dir,
      GH_UPLINK: broker.url,
      GH_MODE: 'load',
      GH_DC09_PORT: String(dc09Port),
      GH_LOCKS: LOCKS.map((l) => `${l.id}:${l.password}`).join(','),
      GH_CABINETS: sims.cabinets.map((c) => `${c.id}:${sims.tcpPort(c.id)}:${CAB_PORTS}`).join(','),
    };
    const lockCounters = new Map<string, number>();
    const lockAcked = new Set<string>();
    let lockSent = 0;
    let smokeAtKill = -1;
    const rider = riders(sims, platform, () => false);
    const ackedByPanel = new Set<string>();
    let promised = 0;
    let kills = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = startLoadGateway(env);
      await waitFor(
        () => child.ready || child.proc.exitCode !== null,
        `child ${i} ready`,
        60_000,
        () => child.stderr.slice(-2000),
      );
      const panel = panelLoad(dc09Port, i + 1);
      const locks = lockLoad(`mqtt://127.0.0.1:${child.brokerPort}`, LOCKS, lockCounters, lockAcked);
      if (i === Math.floor(KILLS / 2)) {
        sims.inject({ kind: 'smoke', cabinet: SMOKY });
        smokeAtKill = i;
      }
      // Half the kills early (during start-up and recovery), half after a random amount of new work.
      const early = Math.random() < 0.5;
      const target = early ? promised + 1 : promised + 200 + Math.floor(Math.random() * 3000);
      await waitFor(
        () => child.acked >= target || child.proc.exitCode !== null,
        `child ${i} to record past seq ${target}`,
        60_000,
        () => child.stderr.slice(-2000),
      );
      // The late half also lives long enough for the devices' traffic (locks connect, cabinets are polled every 200 ms).
      if (!early) await new Promise((r) => setTimeout(r, 500 + Math.floor(Math.random() * 2500)));
      expect(child.proc.exitCode, child.stderr).toBeNull();
      if (process.env.SOAK_VERBOSE)
        console.log(JSON.stringify({ life: i, early, target, acked: child.acked, locks: locks.sent, dc09: panel.acked.size }));
      child.proc.kill('SIGKILL');
      await new Promise((r) => child.proc.once('exit', r));
      await panel.stop();
      await locks.stop();
      lockSent += locks.sent;
      for (const k of panel.acked) ackedByPanel.add(k);
      kills++;
      promised = Math.max(promised, child.acked);
    }
    const drainer = startLoadGateway({ ...env, GH_MODE: 'drain' });
    await waitFor(
      () => drainer.ready,
      'drain gateway ready',
      60_000,
      () => drainer.stderr,
    );
    const db = () => new Database(join(dir, 'outbox.db'), { readonly: true });
    await waitFor(
      () => {
        const d = db();
        try {
          return (d.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n === 0;
        } finally {
          d.close();
        }
      },
      'the backlog to drain',
      300_000,
    );
    // The devices' side, while the drain gateway is up: every PUBACKed lock event arrives, the smoke (latched, re-read) is reported.
    const lockPending = () => [...lockAcked].filter((k) => !lockArrived.has(k));
    // Riders keep going until a session has started: with few kills the short lives may have had none.
    const started = () => (cabinetEvents.get('charging.session_started') ?? 0) > 0;
    await waitFor(
      () => (lockPending().length === 0 && smokeOnPlatform && started()) || undefined,
      'the locks, the smoke and a session at the platform',
      30_000,
    ).catch(() => undefined); // asserted below, with the figures printed first
    rider.stop();
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
    const lockLost = lockPending();
    const lockDuplicated = [...lockArrived.values()].filter((seqs) => seqs.size > 1).length;
    // The smoke latch was persisted: every restart after the smoke re-asserted the cut on the cabinet.
    const smokyPowerOn = sims.cabinet(SMOKY).powerOn;
    await sims.stop();
    await platform.endAsync();
    console.log(
      JSON.stringify({
        kills,
        promised,
        lastSeq,
        delivered: report.unique,
        missing: report.missingCount,
        duplicates: report.duplicates,
        integrity,
        dc09Acked: ackedByPanel.size,
        dc09Arrived: arrived.size,
        dc09AckedLost: lostAcked.length,
        dc09AckedLostSample: lostAcked.slice(0, 10),
        lockSent,
        lockAcked: lockAcked.size,
        lockArrived: lockArrived.size,
        lockAckedLost: lockLost.length,
        lockAckedLostSample: lockLost.slice(0, 10),
        lockDuplicated,
        riderStarts: rider.starts,
        cabinetEvents: Object.fromEntries(cabinetEvents),
        smokeAtKill,
        smokeOnPlatform,
        smokyPowerOn,
        cmdAnswers,
      }),
    );
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
    expect(lockAcked.size).toBeGreaterThan(KILLS);
    expect(lockLost).toEqual([]);
    expect(lockDuplicated).toBe(0);
    expect(cabinetEvents.get('charging.session_started') ?? 0).toBeGreaterThan(0);
    expect(smokeOnPlatform).toBe(true);
    expect(smokyPowerOn).toBe(false);
  });
});
