/**
 * What happens at the wall, in terms of zones rather than bits: an intruder breaking an IR
 * beam, cutting the fence, opening a tamper switch, pressing an SOS button, or walking
 * along the wall crossing beams one after another. Each zone maps to a module channel and
 * a contact type, so "tripped" becomes the right electrical level (an NC beam goes to 0).
 *
 * Timed actions run on the injected timers and resolve when they are over.
 */
import type { TimerHandle, Timers } from '../../gateway/core/clock.js';
import type { SimInputModule } from './sim-module.js';

export interface SimZone {
  id: string;
  module: string;
  channel: number;
  contact: 'NO' | 'NC';
}

export class PerimeterScenario {
  private readonly zones = new Map<string, SimZone>();
  private readonly pending = new Set<TimerHandle>();

  constructor(
    private readonly modules: ReadonlyMap<string, SimInputModule>,
    zones: readonly SimZone[],
    private readonly timers: Timers,
  ) {
    for (const z of zones) {
      if (!modules.has(z.module)) throw new Error(`zone ${z.id}: no simulated module "${z.module}"`);
      this.zones.set(z.id, z);
    }
  }

  /** Every zone back to normal (NC inputs active), faults repaired. */
  quiet(): void {
    for (const z of this.zones.values()) {
      this.trip(z.id, false);
      this.moduleOf(z.id).setFault(z.channel, false);
    }
  }

  /** Sets a zone tripped (or normal) at its input, whatever its contact type. */
  trip(zone: string, tripped = true): void {
    const z = this.zone(zone);
    this.moduleOf(zone).setInput(z.channel, z.contact === 'NC' ? !tripped : tripped);
  }

  /** An IR beam: `cross()` breaks it for `ms` (an intruder passing, ~300 ms). */
  beam(zone: string) {
    return {
      cross: (ms = 300) => this.hold(zone, ms),
      block: () => this.trip(zone, true),
      restore: () => this.trip(zone, false),
    };
  }

  /** A supervised fence line: `cut()` sets its supervision (line fault) bit; `repair()` clears it. */
  fence(zone: string) {
    const z = this.zone(zone);
    return {
      cut: () => this.moduleOf(zone).setFault(z.channel, true),
      repair: () => this.moduleOf(zone).setFault(z.channel, false),
    };
  }

  /** A tamper switch (an h24 zone): `open()` (lid off), `close()`. */
  tamper(zone: string) {
    return { open: () => this.trip(zone, true), close: () => this.trip(zone, false) };
  }

  /** An SOS button: `press(ms)` holds it for `ms` (default 1 s). */
  sos(zone: string) {
    return { press: (ms = 1000) => this.hold(zone, ms), hold: () => this.trip(zone, true), release: () => this.trip(zone, false) };
  }

  /** An intruder walking along the wall: crosses each beam for `crossMs`, `stepMs` apart (start to start). */
  async intruder(beams: readonly string[], opts: { stepMs?: number; crossMs?: number } = {}): Promise<void> {
    const stepMs = opts.stepMs ?? 1500;
    const crossMs = opts.crossMs ?? 300;
    const crossings: Promise<void>[] = [];
    for (let i = 0; i < beams.length; i++) {
      if (i > 0) await this.wait(stepMs);
      crossings.push(this.beam(beams[i]!).cross(crossMs));
    }
    await Promise.all(crossings);
  }

  cancel(): void {
    for (const h of this.pending) h.cancel();
    this.pending.clear();
  }

  private async hold(zone: string, ms: number): Promise<void> {
    this.trip(zone, true);
    await this.wait(ms);
    this.trip(zone, false);
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const h = this.timers.setTimeout(() => {
        this.pending.delete(h);
        resolve();
      }, ms);
      this.pending.add(h);
    });
  }

  private zone(id: string): SimZone {
    const z = this.zones.get(id);
    if (!z) throw new Error(`no simulated zone "${id}"`);
    return z;
  }

  private moduleOf(zone: string): SimInputModule {
    return this.modules.get(this.zone(zone).module)!;
  }
}
