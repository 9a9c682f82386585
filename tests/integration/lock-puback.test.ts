/**
 * A smart lock's QoS 1 event is acknowledged by the embedded broker only once it is
 * committed. The lock is a real MQTT.js client; the data directory is a real tmpfs that
 * the test fills to the last byte. While recording fails the lock gets no PUBACK (its
 * connection is closed, so it sends again after reconnecting); once space is back the
 * resend is recorded exactly once (the lock's event id is not held against it). A lock in
 * another process that holds the database's write lock proves the order: no PUBACK while
 * the gateway cannot commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { CompoundConfig } from '../../config/schema.js';
import { secretsFrom } from '../../config/load.js';
import { createLoggerFactory } from '../../gateway/core/log.js';
import { Gateway } from '../../gateway/app.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT, requireBuild } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const LOCK = 'flat-3-301';
const PASSWORD = 'pw-flat-3-301-x9';

describe('lock events are acknowledged only after commit', () => {
  let fs: Tmpfs;
  let gateway: Gateway;
  let lock: MqttClient;
  let file: string;

  beforeAll(async () => {
    requireBuild();
    fs = mountTmpfs(8 * 1024 * 1024);
    const dataDir = join(fs.dir, 'data');
    mkdirSync(dataDir);
    file = join(dataDir, 'outbox.db');
    const config = CompoundConfig.parse({
      compound: { id: 'lock-court' },
      gateway: { id: 'gw-1' },
      broker: { port: 0 },
      console: { enabled: false },
      // No reserve: the first failed commit is final, so the test sees the refusal at once.
      outbox: { reserveBytes: 0, checkpointIntervalMs: 0 },
      // A platform that is down (nothing listens there): rows stay in the outbox for the test to count.
      uplink: { url: `mqtt://127.0.0.1:${await freePort()}`, backoff: { minMs: 1000, maxMs: 5000 } },
      log: { level: 'silent' },
      locks: [{ id: LOCK }],
    });
    gateway = new Gateway({
      config,
      secrets: secretsFrom({ [`devices.${LOCK}`]: PASSWORD }),
      dataDir,
      logs: createLoggerFactory({ level: 'silent' }, { destination: process.stderr }),
    });
    await gateway.start();
    lock = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.brokerPort}`, {
      clientId: LOCK,
      username: LOCK,
      password: PASSWORD,
      reconnectPeriod: 100,
      clean: true,
    });
  });

  afterAll(async () => {
    await lock?.endAsync(true);
    await gateway?.stop();
    fs?.unmount();
  });

  /** Rows of the events table with this type, read by a second connection (what is on disk). */
  const onDisk = (type: string): number => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM events WHERE body LIKE ?').get(`%"type":"${type}"%`) as { n: number }).n;
    } finally {
      db.close();
    }
  };
  const evt = (body: Record<string, unknown>) => lock.publishAsync(`lan/v1/lock/${LOCK}/evt`, JSON.stringify(body), { qos: 1 });

  it('sends the PUBACK after the event row is on disk', async () => {
    const seenAtPuback: number[] = [];
    const onPacket = (p: { cmd: string }) => {
      if (p.cmd === 'puback') seenAtPuback.push(onDisk('door.opened'));
    };
    lock.on('packetreceive', onPacket);
    await evt({ type: 'door', eid: '301-1', door: 'open' });
    lock.off('packetreceive', onPacket);
    expect(seenAtPuback).toEqual([1]);
  });

  it('sends no PUBACK while the gateway cannot commit (another process holds the write lock), then one after', async () => {
    await lock.endAsync(true);
    const child = spawn(process.execPath, [resolve(ROOT, 'dist/tests/helpers/lock-under-write-lock.js')], {
      env: {
        ...process.env,
        GH_DB: file,
        GH_URL: `mqtt://127.0.0.1:${gateway.brokerPort}`,
        GH_LOCK: LOCK,
        GH_PASSWORD: PASSWORD,
        GH_HOLD_MS: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, out).toBe(0);
    expect(JSON.parse(out.trim())).toEqual({ pubackWhileHeld: false, pubackAfterRelease: true });
    expect(onDisk('door.opened')).toBe(2);
    lock = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.brokerPort}`, {
      clientId: LOCK,
      username: LOCK,
      password: PASSWORD,
      reconnectPeriod: 100,
      clean: true,
    });
  });

  it('withholds the PUBACK while the event cannot be committed, and records the resend once after space is freed', async () => {
    gateway.outbox.checkpoint();
    fs.fill();
    let acked = false;
    let closes = 0;
    lock.on('close', () => closes++);
    const sent = evt({ type: 'tamper', eid: '301-2', active: true }).then(() => (acked = true));
    // The broker closes the connection instead of acknowledging; MQTT.js resends after reconnecting.
    await waitFor(() => closes >= 2, 'the lock to be disconnected at least twice without a PUBACK', 15_000);
    expect(acked).toBe(false);
    expect(onDisk('lock.tamper')).toBe(0);
    fs.release();
    await sent;
    expect(acked).toBe(true);
    await waitFor(() => onDisk('lock.tamper') === 1 || undefined, 'the tamper event on disk');
    // A later message from the lock proves nothing else was pending; the event is there once.
    await evt({ type: 'door', eid: '301-3', door: 'closed' });
    expect(onDisk('lock.tamper')).toBe(1);
  });
});
