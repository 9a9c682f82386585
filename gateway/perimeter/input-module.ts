/**
 * One digital input module on a Modbus bus: its reads and its samples. Each poll
 * is one request for the inputs (FC 02 discrete inputs by default, or coils / one register
 * with a bit per channel) and, for modules with line supervision, one for the supervision
 * register. The samples go to the service with the poll's monotonic time, which is what
 * zone debouncing measures.
 *
 * The poll schedule, online/offline and presence are the polled unit's
 * (gateway/modbus/polled-unit.ts), shared with the charging cabinets.
 */
import type { InputModuleConfig } from '../../config/schema.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import type { Clock, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { PolledUnit } from '../modbus/polled-unit.js';
import type { DevicePresence, PresenceAnnouncement, PresenceTracker } from '../presence/presence-policy.js';

export interface InputModuleDeps {
  cfg: InputModuleConfig;
  bus: ModbusBus;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** One poll: input bits and fault bits per channel (index = channel), at monotonic `at`. */
  onSample(inputs: readonly boolean[], faults: readonly boolean[], at: number): void;
  /** Decides what of the raw online/offline is announced (gateway/presence); default: everything. */
  presence?: PresenceTracker;
  /** Each answered poll's duration in seconds (the metrics, when enabled). */
  pollCycle?: (seconds: number) => void;
  /** What the presence policy decided to announce. */
  announce(a: PresenceAnnouncement): void;
}

/** Bit `i` of a 16-bit register word, channel 0 = LSB. */
export const wordBits = (word: number, n: number): boolean[] => Array.from({ length: n }, (_, i) => ((word >> i) & 1) === 1);

export class InputModule {
  readonly id: string;
  /** Last inputs and faults read, for state and tests. */
  inputs: boolean[] = [];
  faults: boolean[] = [];
  /** The poll schedule, presence and the bus's unit events (gateway/modbus/polled-unit.ts). */
  private readonly poller: PolledUnit<{ inputs: boolean[]; faults: boolean[] }>;

  constructor(private readonly d: InputModuleDeps) {
    this.id = d.cfg.id;
    this.poller = new PolledUnit({
      id: this.id,
      unitId: d.cfg.unitId,
      pollMs: d.cfg.pollMs,
      bus: d.bus,
      clock: d.clock,
      timers: d.timers,
      log: d.log,
      family: 'module',
      logKey: 'module',
      label: 'input module',
      ...(d.presence ? { presence: d.presence } : {}),
      ...(d.pollCycle ? { pollCycle: d.pollCycle } : {}),
      announce: (a) => d.announce(a),
      read: () => this.read(),
      onReading: ({ inputs, faults }, at) => {
        this.inputs = inputs;
        this.faults = faults;
        // Online before the zones judge the sample: their state carries the module's presence.
        this.poller.answered();
        d.onSample(inputs, faults, at);
      },
    });
  }

  /** null until the first poll settles. */
  get online(): boolean | null {
    return this.poller.online;
  }

  /** Answered polls. */
  get polls(): number {
    return this.poller.polls;
  }

  /** What the presence policy announces for this module (the module's and its zones' state). */
  get presence(): DevicePresence {
    return this.poller.presence;
  }

  start(): void {
    this.poller.start();
  }

  stop(): void {
    this.poller.stop();
  }

  /** The bus says the unit stopped answering or the link is down. */
  markOffline(reason: string): void {
    this.poller.markOffline(reason);
  }

  /** The two reads of one poll; exported through the class for the bench's floor. */
  read(): Promise<{ inputs: boolean[]; faults: boolean[] }> {
    return readModule(this.d.bus, this.d.cfg);
  }
}

/** One poll of a module: its inputs and, with line supervision, its fault bits (also the live check's poll). */
export async function readModule(
  bus: ModbusBus,
  cfg: InputModuleConfig,
  priority: 'normal' | 'low' = 'normal',
): Promise<{ inputs: boolean[]; faults: boolean[] }> {
  const n = cfg.channels;
  let inputs: boolean[];
  const t = cfg.inputs.table;
  if (t === 'discrete' || t === 'coils')
    inputs = await bus.readBits(cfg.unitId, t === 'discrete' ? 2 : 1, cfg.inputs.address, n, { priority });
  else inputs = wordBits((await bus.read(cfg.unitId, t === 'holding' ? 3 : 4, cfg.inputs.address, 1, { priority }))[0]!, n);
  let faults = new Array<boolean>(n).fill(false);
  const s = cfg.supervision;
  if (s) faults = wordBits((await bus.read(cfg.unitId, s.table === 'holding' ? 3 : 4, s.address, 1, { priority }))[0]!, n);
  return { inputs, faults };
}
