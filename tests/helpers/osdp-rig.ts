/**
 * An OSDP line for tests: a socat pty pair, simulated readers on one end, an
 * OsdpControlPanel on the other, every ReaderEvent recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { OsdpControlPanel, type OsdpReaderOptions } from '../../drivers/osdp/control-panel.js';
import type { ReaderEvent } from '../../drivers/osdp/types.js';
import type { OsdpBusConfig } from '../../config/access-schema.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { startSimulatedReaders, type SimReaderOptions, type SimulatedReaders } from '../../sim/osdp/index.js';
import { createPtyPair, type PtyPair } from './pty.js';

export interface OsdpRig {
  dir: string;
  pty: PtyPair;
  sim: SimulatedReaders;
  cp: OsdpControlPanel;
  events: ReaderEvent[];
  /** Events of one kind (and reader). */
  of<K extends ReaderEvent['kind']>(kind: K, address?: number): Extract<ReaderEvent, { kind: K }>[];
  online(address: number): boolean;
  /** Kills socat and the simulated line's port with it (the adapter unplugged). */
  unplugAdapter(): Promise<void>;
  /** Starts socat again on the same paths. */
  plugAdapter(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOsdpRig(opts: {
  sim: SimReaderOptions[];
  cp: OsdpReaderOptions[];
  bus?: Partial<OsdpBusConfig>;
  emulateWire?: boolean;
}): Promise<OsdpRig> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-osdp-'));
  let pty = await createPtyPair({ dir });
  const sim = await startSimulatedReaders({
    path: pty.b,
    baudRate: 115_200,
    readers: opts.sim,
    ...(opts.emulateWire !== undefined ? { emulateWire: opts.emulateWire } : {}),
  });
  const bus: OsdpBusConfig = {
    id: 'osdp-test',
    path: pty.a,
    baudRate: 115_200,
    replyTimeoutMs: 200,
    offlineAfterMisses: 4,
    idleMs: 0,
    ...opts.bus,
  };
  const cp = new OsdpControlPanel({
    bus,
    readers: opts.cp,
    clock: systemClock({ forceState: 'synced' }),
    timers: realTimers,
    log: pino({ level: process.env.OSDP_TEST_LOG ?? 'silent' }),
    readerBackoff: { minMs: 200, maxMs: 1000 },
    lineBackoff: { minMs: 100, maxMs: 500 },
  });
  const events: ReaderEvent[] = [];
  cp.on('event', (e) => events.push(e));
  cp.start();
  const rig: OsdpRig = {
    dir,
    get pty() {
      return pty;
    },
    sim,
    cp,
    events,
    of: (kind, address) => events.filter((e) => e.kind === kind && (address === undefined || e.address === address)) as never,
    online: (address) => cp.status().find((s) => s.address === address)?.online === true,
    async unplugAdapter() {
      await pty.stop();
    },
    async plugAdapter() {
      pty = await createPtyPair({ dir });
    },
    async stop() {
      await cp.stop();
      await sim.close();
      await pty.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}
