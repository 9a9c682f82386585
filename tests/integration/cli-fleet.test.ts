/**
 * `gatehouse fleet` (issue 16) through the real CLI: bad usage exits 2 saying what is wrong;
 * a small fleet against a real Mosquitto sends every event of every box and says so, and
 * with GATEHOUSE_FLEET_SECRET the boxes log in with the derived passwords (the broker
 * refuses anonymous logins); without it, or with a wrong one, the refused login stops the
 * run at once with exit 2 and says what to fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetIdentity } from '../../sim/fleet/box.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { runCli, spawnCli } from '../helpers/cli.js';

/**
 * The CLI in a child process without blocking this one: spawnSync would stop this process
 * reading the Mosquitto it started, whose log pipe then fills and stalls the broker.
 */
function runAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  p.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => p.on('close', (status) => resolve({ status, stdout, stderr })));
}

const SECRET = 'cli-fleet-test-secret';

describe('gatehouse fleet', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    const ids = [0, 1, 2].map((i) => fleetIdentity('clifleet', i, SECRET));
    broker = await startMosquitto({ users: Object.fromEntries(ids.map((b) => [b.username!, b.password!])) });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('refuses bad usage with exit 2 and says what is wrong', () => {
    const none = runCli(['fleet', '--uplink', broker.url]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('--boxes N is required');
    const noUplink = runCli(['fleet', '--boxes', '2'], { GATEHOUSE_UPLINK_URL: '' });
    expect(noUplink.status).toBe(2);
    expect(noUplink.stderr).toContain('--uplink URL');
    const badUrl = runCli(['fleet', '--boxes', '2', '--uplink', 'http://x']);
    expect(badUrl.status).toBe(2);
  });

  it('sends every event of every box with derived credentials and reports per box', async () => {
    const r = await runAsync(['fleet', '--boxes', '3', '--rate', '20', '--events', '15', '--prefix', 'clifleet', '--uplink', broker.url], {
      GATEHOUSE_FLEET_SECRET: SECRET,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const c of ['clifleet-001', 'clifleet-002', 'clifleet-003'])
      expect(r.stdout).toContain(`${c} gw-1 lastSeq=15 acked=15 connections=1`);
    expect(r.stdout).toContain('45 recorded, 45 acknowledged, 0 not acknowledged');
    // The secret never appears in what the fleet prints.
    expect(r.stdout).not.toContain(SECRET);
  }, 60_000);

  it('without the secret the broker refuses the boxes, and it stops at once with exit 2 saying what to set', async () => {
    // --duration 600: only the refusal can end this run within the test's time.
    const r = await runAsync(
      ['fleet', '--boxes', '1', '--rate', '20', '--duration', '600', '--prefix', 'clifleet', '--uplink', broker.url],
      {
        GATEHOUSE_FLEET_SECRET: '',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `the broker at ${broker.url} refused the login of box clifleet-001/gw-1 (Connection refused: Not authorized)`,
    );
    expect(r.stderr).toContain('GATEHOUSE_FLEET_SECRET is not set');
  }, 60_000);

  it('with a wrong secret it stops with exit 2 and names the user to check, never the secret', async () => {
    const r = await runAsync(
      ['fleet', '--boxes', '1', '--rate', '20', '--duration', '600', '--prefix', 'clifleet', '--uplink', broker.url],
      {
        GATEHOUSE_FLEET_SECRET: 'not-the-secret',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('refused the login of box clifleet-001/gw-1');
    expect(r.stderr).toContain('check that the broker has user box-clifleet-001-gw-1');
    expect(r.stdout + r.stderr).not.toContain('not-the-secret');
  }, 60_000);
});
