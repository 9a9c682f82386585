/**
 * One digital input module on a Modbus bus: its poll loop and its availability. Each poll
 * is one request for the inputs (FC 02 discrete inputs by default, or coils / one register
 * with a bit per channel) and, for modules with line supervision, one for the supervision
 * register. The samples go to the service with the poll's monotonic time, which is what
 * zone debouncing measures.
 *
 * Online/offline comes from the bus (dead-unit detection, link down), as for cabinets; a
 * module that has never answered is reported offline only after a boot grace, because the
 * link may still be opening.
 */
import type { InputModuleConfig } from '../../config/schema.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { isGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export interface InputModuleDeps {
  cfg: InputModuleConfig;
  bus: ModbusBus;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** One poll: input bits and fault bits per channel (index = channel), at monotonic `at`. */
  onSample(inputs: readonly boolean[], faults: readonly boolean[], at: number): void;
  onPresence(online: boolean, reason?: string): void;
}

const BOOT_GRACE_MS = 5000;

/** Bit `i` of a 16-bit register word, channel 0 = LSB. */
export const wordBits = (word: number, n: number): boolean[] => Array.from({ length: n }, (_, i) => ((word >> i) & 1) === 1);

export class InputModule {
  readonly id: string;
  online: boolean | null = null;
  /** Last inputs and faults read, for state and tests. */
  inputs: boolean[] = [];
  faults: boolean[] = [];
  polls = 0;
  private timer: TimerHandle | undefined;
  private running = false;
  private startedMono = 0;
  private lastError: string | undefined;

  constructor(private readonly d: InputModuleDeps) {
    this.id = d.cfg.id;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedMono = this.d.clock.monotonic();
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** The bus says the unit stopped answering or the link is down. */
  markOffline(reason: string): void {
    if (this.online === false) return;
    this.online = false;
    this.d.log.warn({ module: this.id, reason }, 'input module offline');
    this.d.onPresence(false, reason);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.d.timers.setTimeout(() => void this.poll(), ms);
  }

  /** The two reads of one poll; exported through the class for the bench's floor. */
  async read(): Promise<{ inputs: boolean[]; faults: boolean[] }> {
    const { bus, cfg } = this.d;
    const n = cfg.channels;
    let inputs: boolean[];
    const t = cfg.inputs.table;
    if (t === 'discrete' || t === 'coils') inputs = await bus.readBits(cfg.unitId, t === 'discrete' ? 2 : 1, cfg.inputs.address, n, { priority: 'normal' });
    else inputs = wordBits((await bus.read(cfg.unitId, t === 'holding' ? 3 : 4, cfg.inputs.address, 1, { priority: 'normal' }))[0]!, n);
    let faults = new Array<boolean>(n).fill(false);
    const s = cfg.supervision;
    if (s) faults = wordBits((await bus.read(cfg.unitId, s.table === 'holding' ? 3 : 4, s.address, 1, { priority: 'normal' }))[0]!, n);
    return { inputs, faults };
  }

  private async poll(): Promise<void> {
    const began = this.d.clock.monotonic();
    try {
      const { inputs, faults } = await this.read();
      if (!this.running) return;
      this.polls++;
      this.inputs = inputs;
      this.faults = faults;
      this.lastError = undefined;
      if (this.online !== true) {
        this.online = true;
        this.d.log.info({ module: this.id }, 'input module online');
        this.d.onPresence(true);
      }
      this.d.onSample(inputs, faults, this.d.clock.monotonic());
    } catch (err) {
      if (this.running) this.onPollError(err);
    } finally {
      this.schedule(Math.max(0, this.d.cfg.pollMs - (this.d.clock.monotonic() - began)));
    }
  }

  private onPollError(err: unknown): void {
    const code = isGatehouseError(err) ? err.code : 'INTERNAL';
    const message = (err as Error).message;
    const booting = this.online === null && this.d.clock.monotonic() - this.startedMono < Math.max(BOOT_GRACE_MS, 3 * this.d.cfg.pollMs);
    if (!booting && code !== 'DEVICE_PROTOCOL' && code !== 'DEVICE_REFUSED' && (code === 'DEVICE_OFFLINE' || !this.d.bus.isReachable(this.d.cfg.unitId))) {
      this.markOffline(code === 'DEVICE_OFFLINE' ? 'no_answer' : 'bus_down');
    }
    if (this.lastError !== message) this.d.log.warn({ module: this.id, code, err: message }, 'input module poll failed');
    this.lastError = message;
  }
}
