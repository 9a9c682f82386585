/**
 * 100 SIGKILLs of a real gateway process at random moments under load (the crash test's
 * child, tests/helpers/load-gateway.ts), then a clean restart that drains: every seq 1..N
 * delivered exactly as promised, none missing, and SQLite's integrity_check ok.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicRoot } from '../../gateway/topics.js';
import { Verifier } from '../../sim/verifier.js';
import { ROOT, requireBuild } from '../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const CHILD = resolve(ROOT, 'dist/tests/helpers/load-gateway.js');
const KILLS = Number(process.env.SOAK_GATEWAY_KILLS ?? 100);

interface Child {
  proc: ChildProcess;
  acked: number;
  ready: boolean;
  stderr: string;
}

function startChild(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = { proc, acked: 0, ready: false, stderr: '' };
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') child.ready = true;
      else if (line.startsWith('acked ')) child.acked = Math.max(child.acked, Number(line.slice(6)));
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (child.stderr = (child.stderr + d.toString()).slice(-20_000)));
  return child;
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

  it(`${KILLS} kills: every seq 1..N delivered, integrity ok`, async () => {
    const verifier = await Verifier.connect({ url: broker.url, root: topicRoot('crash-court', 'gw-crash'), clientId: 'soak-kills-platform' });
    const env = { GH_DATA: dir, GH_UPLINK: broker.url, GH_MODE: 'load' };
    let promised = 0;
    let kills = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = startChild(env);
      // Half the kills early (during start-up and recovery), half after a random amount of new work.
      const target = Math.random() < 0.5 ? promised + 1 : promised + 200 + Math.floor(Math.random() * 3000);
      await waitFor(() => child.acked >= target || child.proc.exitCode !== null, `child ${i} to record past seq ${target}`, 60_000, () => child.stderr.slice(-2000));
      expect(child.proc.exitCode, child.stderr).toBeNull();
      child.proc.kill('SIGKILL');
      await new Promise((r) => child.proc.once('exit', r));
      kills++;
      promised = Math.max(promised, child.acked);
    }
    const drainer = startChild({ ...env, GH_MODE: 'drain' });
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
    console.log(JSON.stringify({ kills, promised, lastSeq, delivered: report.unique, missing: report.missingCount, duplicates: report.duplicates, integrity }));
    expect(kills).toBe(KILLS);
    expect(integrity).toBe('ok');
    expect(lastSeq).toBeGreaterThanOrEqual(promised);
    expect(report.problems).toEqual([]);
    expect(report.missingCount).toBe(0);
    expect(report.fromSeq).toBe(1);
    expect(report.maxSeq).toBe(lastSeq);
    expect(report.unique).toBe(lastSeq);
  });
});
