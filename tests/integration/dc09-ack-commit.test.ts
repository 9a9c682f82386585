/**
 * "Acknowledge only after commit" for SIA DC-09 (issue 11): a panel told ACK must find its
 * alarm in outbox.db whatever happens next, and a message that could not be recorded is
 * NAKed so the panel retries. Real outbox.db, real AlarmManager, real TCP on 127.0.0.1,
 * and for the crash a real SIGKILL of a child process the instant it wrote the ACK.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { AlarmsConfig, Dc09PanelConfig, Dc09ReceiverConfig } from '../../config/perimeter-schema.js';
import { parseKeyHex } from '../../drivers/dc09/cipher.js';
import { Dc09Deframer } from '../../drivers/dc09/deframer.js';
import { formatSeq } from '../../drivers/dc09/frame.js';
import { encodeMessage } from '../../drivers/dc09/message.js';
import { AlarmManager } from '../../gateway/alarms/alarm-manager.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { Dc09ReplayGuard } from '../../gateway/perimeter/dc09-replay.js';
import { Dc09Receiver } from '../../gateway/perimeter/dc09-receiver.js';
import { PanelService } from '../../gateway/perimeter/panel-service.js';
import { ROOT, requireBuild } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { outboxConnection } from '../helpers/store.js';

const KEY = '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4';
const ACCOUNT = 'C0DE';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-dc09-commit-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'outbox.db');
}

/** An AES-256 message: a burglary on `zone` and an open by user `zone` in one SIA-DCS message. */
function burglary(seq: number, zone: number, ts = Date.now()): string {
  const z = String(zone).padStart(3, '0');
  return encodeMessage(
    { token: 'SIA-DCS', encrypted: true, seq: formatSeq(seq), line: '0', account: ACCOUNT },
    { data: `#${ACCOUNT}|Nri1/BA${z}/OP${z}`, extended: [], timestamp: ts },
    parseKeyHex(KEY),
  );
}

/** One TCP connection of a panel: send a message, get the next answer's token. */
async function panelConnection(port: number): Promise<{ send: (m: string) => Promise<string>; socket: Socket }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  const d = new Dc09Deframer();
  const answers: string[] = [];
  socket.on('data', (c: Buffer) => {
    for (const o of d.push(c)) if (o.kind === 'message') answers.push(o.text);
  });
  cleanups.push(() => void socket.destroy());
  return {
    socket,
    send: async (m) => {
      socket.write(m, 'latin1');
      const text = await waitFor(() => answers.shift(), 'an answer from the receiver', 10_000);
      return /^\n[0-9A-F]{8}"(\*?[A-Z]+)"/.exec(text)?.[1] ?? text;
    },
  };
}

interface Stored {
  alarmRaised: string[];
  opened: string[];
  alarmRows: number;
}

function stored(file: string): Stored {
  const db = new Database(file, { readonly: true });
  try {
    const bodies = (db.prepare('SELECT body FROM events ORDER BY seq').all() as { body: string }[]).map(
      (r) => JSON.parse(r.body) as { type: string; source: { point?: string }; data: { kind?: string } },
    );
    const alarmRaised = bodies
      .filter((e) => e.type === 'alarm.raised' && e.data.kind === 'panel.burglary')
      .map((e) => e.source.point ?? '');
    const opened = bodies.filter((e) => e.type === 'panel.opened').map((e) => JSON.stringify(e.data));
    const alarmRows = (db.prepare("SELECT COUNT(*) AS n FROM alarms WHERE body LIKE '%panel.burglary%'").get() as { n: number }).n;
    return { alarmRaised, opened, alarmRows };
  } finally {
    db.close();
  }
}

describe('DC-09 ACK only after commit', () => {
  it('a gateway SIGKILLed the instant it wrote the ACK has the ACKed alarm and event in outbox.db (6 kills)', async () => {
    requireBuild();
    const file = tempDb();
    const rounds = 6;
    for (let i = 1; i <= rounds; i++) {
      const child = spawn(process.execPath, [resolve(ROOT, 'dist/tests/helpers/dc09-crash-child.js'), file, KEY], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
      cleanups.push(() => void child.kill('SIGKILL'));
      const port = Number(
        (
          await waitFor(
            () => /READY (\d+)/.exec(out),
            'the child receiver to listen',
            20_000,
            () => out,
          )
        )[1],
      );
      const panel = await panelConnection(port);
      expect(await panel.send(burglary(i, i))).toBe('*ACK');
      expect(await exited).toBe('SIGKILL');
    }
    const s = stored(file);
    expect(s.alarmRaised.sort()).toEqual(Array.from({ length: rounds }, (_, k) => `zone-${k + 1}`).sort());
    expect(s.opened).toHaveLength(rounds);
    expect(s.alarmRows).toBe(rounds);
  });

  it('a message whose records fail is NAKed; its retransmission after recovery is recorded once and ACKed', async () => {
    const file = tempDb();
    const clock = systemClock({ forceState: 'synced' });
    const log = silentLogger();
    const outbox = new Outbox({ file, clock, config: { checkpointIntervalMs: 0 } });
    const failures: string[] = [];
    outbox.on('error', (err) => failures.push(err.code));
    const alarms = new AlarmManager({ db: outbox.scope('alarms'), outbox, config: AlarmsConfig.parse({}), clock, log, timers: realTimers });
    const panels = [Dc09PanelConfig.parse({ id: 'panel-1', account: ACCOUNT, keySecret: 'k', supervisionS: 0 })];
    const service = new PanelService({ panels, sink: alarms, outbox, clock, timers: realTimers, log });
    const replay = new Dc09ReplayGuard({ db: outbox.scope('dc09'), onError: () => undefined });
    const receiver = new Dc09Receiver({
      config: Dc09ReceiverConfig.parse({}),
      panels,
      secrets: secretsFrom({ k: KEY }),
      service,
      clock,
      log,
      replay,
    });
    const { tcpPort } = await receiver.start();
    cleanups.push(() => outbox.close());
    cleanups.push(async () => {
      await receiver.stop();
      await alarms.stop();
    });
    const panel = await panelConnection(tcpPort);
    // A real SQLite refusal of every write on the outbox's own connection (SQLITE_READONLY),
    // standing for a full disk or an I/O error.
    outboxConnection(outbox).pragma('query_only = ON');
    const message = burglary(1, 5);
    expect(await panel.send(message)).toBe('NAK');
    expect(await panel.send(message)).toBe('NAK');
    outboxConnection(outbox).pragma('query_only = OFF');
    // The panel retransmits the very same message once the gateway can record again.
    expect(await panel.send(message)).toBe('*ACK');
    expect(await panel.send(message)).toBe('*ACK');
    expect(receiver.processor.counts).toMatchObject({ ack: 1, duplicate: 1, nak: 2 });
    expect(failures.length).toBeGreaterThanOrEqual(2);
    const s = stored(file);
    expect(s.alarmRaised).toEqual(['zone-5']);
    expect(s.opened).toHaveLength(1);
    expect(s.alarmRows).toBe(1);
  });
});
