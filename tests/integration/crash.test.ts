/**
 * Crash safety: a real gateway process under load is killed with SIGKILL at random
 * moments, again and again. Every event it acknowledged as recorded must reach the
 * platform, seq must be contiguous from 1, and the SQLite file must stay intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { Verifier } from '../../sim/verifier.js';
import { waitFor } from '../helpers/wait.js';
import { topicRoot } from '../../gateway/core/topics.js';
import { requireBuild } from '../helpers/cli.js';
import { LOAD_GATEWAY_SCRIPT as CHILD, startLoadGateway } from '../helpers/load-gateway-child.js';

const KILLS = 24;

describe('crash safety under load (SIGKILL)', () => {
  let broker: Mosquitto;
  let dir: string;

  beforeAll(async () => {
    requireBuild();
    if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: run npm run build`);
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'gh-crash-'));
  });
  afterAll(async () => {
    await broker?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`loses nothing across ${KILLS} kills at random moments`, async () => {
    const verifier = await Verifier.connect({ url: broker.url, root: topicRoot('crash-court', 'gw-crash'), clientId: 'crash-platform' });
    const env = { GH_DATA: dir, GH_UPLINK: broker.url, GH_MODE: 'load' };
    let promised = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = startLoadGateway(env);
      // Kill at a random point: after a random amount of newly acknowledged work.
      const target = promised + 200 + Math.floor(Math.random() * 3000);
      await waitFor(
        () => child.acked >= target || child.proc.exitCode !== null,
        `child ${i} to record past seq ${target}`,
        30_000,
        () => child.stderr.slice(-2000),
      );
      expect(child.proc.exitCode, child.stderr).toBeNull();
      child.proc.kill('SIGKILL');
      await new Promise((r) => child.proc.once('exit', r));
      promised = Math.max(promised, child.acked);
    }
    // Restart without load and let the backlog drain, then stop cleanly.
    const drainer = startLoadGateway({ ...env, GH_MODE: 'drain' });
    await waitFor(
      () => drainer.ready,
      'drain gateway ready',
      20_000,
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
      60_000,
    );
    drainer.proc.kill('SIGTERM');
    const code = await new Promise((r) => drainer.proc.once('exit', r));
    expect(code, drainer.stderr).toBe(0);

    const check = db();
    const integrity = check.pragma('integrity_check', { simple: true });
    const nextSeq = (check.prepare("SELECT v FROM meta WHERE k = 'next_seq'").get() as { v: number }).v;
    const left = (check.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    check.close();
    // A clean stop with the broker up delivers everything, its own gateway.stopping event included.
    expect(left).toBe(0);
    expect(integrity).toBe('ok');
    const lastSeq = nextSeq - 1;
    expect(lastSeq).toBeGreaterThanOrEqual(promised);
    await waitFor(() => verifier.report().maxSeq >= lastSeq, `verifier to see seq ${lastSeq}`, 30_000);
    const report = verifier.report();
    await verifier.close();
    expect(report.problems).toEqual([]);
    expect(report.missingCount).toBe(0);
    expect(report.fromSeq).toBe(1);
    expect(report.maxSeq).toBe(lastSeq);
    expect(report.unique).toBe(lastSeq);
    expect(report.orderViolations).toEqual([]);
  }, 240_000);
});
