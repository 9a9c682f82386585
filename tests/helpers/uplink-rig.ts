/**
 * A gateway's delivery path for the uplink tests: a real Outbox (SQLite file in a temp
 * dir) and a real Uplink against a real broker URL, with short timeouts so faults are
 * detected in about a second, a log captured for assertions, and a load generator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { secretsFrom, type Secrets } from '../../config/load.js';
import { UplinkConfig, type OutboxConfig } from '../../config/schema.js';
import { systemClock, type Clock } from '../../gateway/core/clock.js';
import type { Envelope, EventClass, EventInput } from '../../gateway/core/events.js';
import { untyped } from './untyped-event.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { topicRoot } from '../../gateway/core/topics.js';
import { Uplink, type UplinkOptions } from '../../gateway/uplink/uplink.js';

export const TEST_ROOT = topicRoot('test-court', 'gw-1');

export interface RigOptions {
  url: string;
  dir?: string;
  root?: string;
  /** Overrides after schema defaults; not validated, so tests may go below the schema's minimums. */
  uplink?: Partial<UplinkConfig>;
  outbox?: Partial<OutboxConfig>;
  secrets?: Secrets;
  clock?: Clock;
  extra?: Partial<UplinkOptions>;
}

export interface Rig {
  dir: string;
  root: string;
  outbox: Outbox;
  uplink: Uplink;
  commands: { name: string; payload: string }[];
  logs: string[];
  /** Stops the uplink and closes the outbox (the directory stays, for a restart). */
  close(): Promise<void>;
  /** close() and remove the directory. */
  dispose(): Promise<void>;
}

/** Fast fault detection for tests: ~1 s to notice a dead link, reconnect within 200 ms. */
export function testUplinkConfig(url: string, overrides: Partial<UplinkConfig> = {}): UplinkConfig {
  return {
    ...UplinkConfig.parse({ url }),
    keepaliveSeconds: 5,
    ackTimeoutMs: 1000,
    connectTimeoutMs: 1000,
    inflightWindow: 100,
    backoff: { minMs: 20, maxMs: 200 },
    ...overrides,
  };
}

export function makeRig(opts: RigOptions): Rig {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gh-uplink-'));
  const root = opts.root ?? TEST_ROOT;
  const clock = opts.clock ?? systemClock({ forceState: 'synced' });
  const outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0, ...opts.outbox } });
  const logs: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(c, _e, cb) {
        logs.push(String(c));
        if (logs.length > 20_000) logs.splice(0, 10_000);
        cb();
      },
    }),
  );
  const commands: Rig['commands'] = [];
  const uplink = new Uplink({
    config: testUplinkConfig(opts.url, opts.uplink),
    secrets: opts.secrets ?? secretsFrom({}),
    outbox,
    clock,
    log,
    topicRoot: root,
    onCommand: (name, payload) => commands.push({ name, payload: payload.toString() }),
    stopWaitMs: 500,
    ...opts.extra,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await uplink.stop();
    outbox.close();
  };
  return {
    dir,
    root,
    outbox,
    uplink,
    commands,
    logs,
    close,
    dispose: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CLASSES: EventClass[] = ['access', 'device', 'charging', 'alarm', 'system'];

/** A plausible event; the class cycles unless given. */
export function testEvent(i: number, cls: EventClass = CLASSES[i % CLASSES.length]!): EventInput {
  return untyped({
    class: cls,
    type: `${cls === 'alarm' ? 'alarm' : 'test'}.tick`,
    source: { device: `dev-${i % 7}`, point: `p${i % 3}` },
    data: { i, pad: 'x'.repeat(40 + (i % 50)) },
  });
}

export interface Load {
  /** Every envelope recorded so far (seq and class are what the tests need). */
  readonly recorded: Envelope[];
  /** Stops recording and resolves once the last batch is committed. */
  stop(): Promise<Envelope[]>;
}

/** Records `perTick` events every `everyMs` until stopped: a gateway under steady load. */
export function startLoad(outbox: Outbox, opts: { perTick?: number; everyMs?: number; event?: (i: number) => EventInput } = {}): Load {
  const perTick = opts.perTick ?? 20;
  const everyMs = opts.everyMs ?? 5;
  const make = opts.event ?? ((i: number) => testEvent(i));
  const recorded: Envelope[] = [];
  let running = true;
  let i = 0;
  const loop = (async () => {
    while (running) {
      const batch: Promise<Envelope>[] = [];
      for (let j = 0; j < perTick; j++) batch.push(outbox.record(make(i++)));
      recorded.push(...(await Promise.all(batch)));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    recorded,
    stop: async () => {
      running = false;
      await loop;
      return recorded;
    },
  };
}

/** Rows still in the outbox once pending acks are written. */
export function outboxBacklog(outbox: Outbox): number {
  outbox.flushAcks();
  return outbox.stats().events;
}
