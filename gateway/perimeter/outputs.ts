/**
 * Sirens, strobes and relays: coils of the input modules, driven with FC 05 at high
 * priority so a siren goes on ahead of any queued poll. Implements the alarm lifecycle's
 * OutputDriver (linkage rules call it) and `output.set` with an optional timed off.
 *
 * The state kept here is what was last written successfully; a write that fails leaves it
 * as it was and throws (DEVICE_OFFLINE when the module does not answer).
 */
import type { InputModuleConfig, OutputConfig } from '../../config/schema.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import type { OutputDriver } from '../alarms/types.js';
import type { TimerHandle, Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export interface OutputState {
  on: boolean;
  kind: OutputConfig['kind'];
  module: string;
  index: number;
  /** Wall ms of the automatic off, when timed. */
  offAt: number | null;
}

export interface PerimeterOutputsDeps {
  outputs: readonly OutputConfig[];
  modules: ReadonlyMap<string, { cfg: InputModuleConfig; bus: ModbusBus }>;
  timers: Timers;
  now(): number;
  log: Logger;
  /** Told after every successful write. */
  onChange?(output: string, state: OutputState): void;
}

export class PerimeterOutputs implements OutputDriver {
  private readonly states = new Map<string, OutputState>();
  private readonly cfg = new Map<string, OutputConfig>();
  private readonly offTimers = new Map<string, TimerHandle>();

  constructor(private readonly d: PerimeterOutputsDeps) {
    for (const o of d.outputs) {
      this.cfg.set(o.id, o);
      this.states.set(o.id, { on: false, kind: o.kind, module: o.module, index: o.index, offAt: null });
    }
  }

  /** OutputDriver: switches an output; cancels a pending timed off. */
  async setOutput(output: string, on: boolean): Promise<void> {
    this.cancelTimer(output);
    await this.write(output, on, null);
  }

  /** `output.set`: on for `seconds` then off (the off is retried once if it fails). */
  async set(output: string, on: boolean, seconds?: number): Promise<OutputState> {
    this.cancelTimer(output);
    const offAt = on && seconds !== undefined ? this.d.now() + seconds * 1000 : null;
    await this.write(output, on, offAt);
    if (offAt !== null) {
      const off = (retry: boolean) => {
        this.offTimers.delete(output);
        this.write(output, false, null).catch((err: unknown) => {
          this.d.log.warn({ output, err: (err as Error).message, retry }, 'timed output off failed');
          if (retry)
            this.offTimers.set(
              output,
              this.d.timers.setTimeout(() => off(false), 1000),
            );
        });
      };
      this.offTimers.set(
        output,
        this.d.timers.setTimeout(() => off(true), seconds! * 1000),
      );
    }
    return this.state(output);
  }

  state(output: string): OutputState {
    const s = this.states.get(output);
    if (!s) throw new GatehouseError('DEVICE_UNKNOWN', `no output "${output}" in the compound file`, { output });
    return { ...s };
  }

  all(): Record<string, OutputState> {
    return Object.fromEntries([...this.states.keys()].map((id) => [id, this.state(id)]));
  }

  stop(): void {
    for (const t of this.offTimers.values()) t.cancel();
    this.offTimers.clear();
  }

  private cancelTimer(output: string): void {
    this.offTimers.get(output)?.cancel();
    this.offTimers.delete(output);
  }

  private async write(output: string, on: boolean, offAt: number | null): Promise<void> {
    const o = this.cfg.get(output);
    if (!o) throw new GatehouseError('DEVICE_UNKNOWN', `no output "${output}" in the compound file`, { output });
    const m = this.d.modules.get(o.module);
    if (!m?.cfg.outputs) throw new GatehouseError('CONFIG_INVALID', `module ${o.module} has no outputs configured`, { output });
    await m.bus.writeCoils(m.cfg.unitId, m.cfg.outputs.address + o.index, [on], { priority: 'high' });
    const s = this.states.get(output)!;
    s.on = on;
    s.offAt = offAt;
    this.d.log.info({ output, on, offAt }, 'output switched');
    this.d.onChange?.(output, { ...s });
  }
}
