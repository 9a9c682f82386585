/**
 * The battery-swap cabinets of the compound: one ModbusBus per line (RS-485 path or TCP
 * endpoint), a SwapUnit per cabinet, and the router's commands. The swap family owns its
 * lines: a swap cabinet cannot share an RS-485 path with a charging cabinet (family.ts
 * checks it), since each family opens its own serial port.
 */
import type { SwapCabinetConfig, SwapConfig } from '../../config/swap-schema.js';
import { ModbusBus, type ModbusBusOptions } from '../../drivers/modbus/bus.js';
import type { TransportConfig } from '../../drivers/modbus/transport.js';
import type { Clock, Timers } from '../core/clock.js';
import type { CommandContext, CommandDefinition } from '../commands/types.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import type { PresenceTracker } from '../presence/presence-policy.js';
import type { AlarmSink } from '../alarms/types.js';
import { swapCommands } from './commands.js';
import { SwapStore } from './transactions.js';
import { SwapUnit } from './swap-unit.js';

export interface SwapServiceOptions {
  cabinets: readonly SwapCabinetConfig[];
  swap: SwapConfig;
  outbox: Pick<Outbox, 'record' | 'setState' | 'scope'>;
  sink: AlarmSink;
  clock: Clock;
  timers: Timers;
  log: Logger;
  presence?: PresenceTracker;
  busOptions?: Pick<ModbusBusOptions, 'timeoutMs' | 'retries' | 'deadAfter' | 'backoff' | 'openTimeoutMs'>;
}

export const swapBusKey = (c: SwapCabinetConfig): string =>
  'rtu' in c.bus ? `rtu:${c.bus.rtu.path}` : `tcp:${c.bus.tcp.host}:${c.bus.tcp.port}`;

export function transportFor(c: SwapCabinetConfig): TransportConfig {
  if (!('rtu' in c.bus)) return { kind: 'tcp', host: c.bus.tcp.host, port: c.bus.tcp.port };
  const { path, baudRate, parity, stopBits } = c.bus.rtu;
  return { kind: 'rtu', path, baudRate, parity, stopBits, dataBits: 8 };
}

export class SwapService {
  readonly store: SwapStore;
  private readonly buses = new Map<string, ModbusBus>();
  private readonly units = new Map<string, SwapUnit>();
  private running = false;

  constructor(private readonly o: SwapServiceOptions) {
    this.store = new SwapStore(o.outbox.scope('swap'), o.clock);
    for (const cfg of o.cabinets) {
      const key = swapBusKey(cfg);
      let bus = this.buses.get(key);
      if (!bus) {
        bus = new ModbusBus({ ...o.busOptions, transport: transportFor(cfg), name: key, clock: o.clock, timers: o.timers, log: o.log });
        this.buses.set(key, bus);
      }
      const unit = new SwapUnit({
        cfg,
        swap: o.swap,
        bus,
        store: this.store,
        outbox: o.outbox,
        sink: o.sink,
        clock: o.clock,
        timers: o.timers,
        log: o.log,
        ...(o.presence ? { presence: o.presence } : {}),
      });
      this.units.set(cfg.id, unit);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const b of this.buses.values()) b.start();
    for (const u of this.units.values()) u.start();
    this.o.log.info({ cabinets: this.units.size }, 'swap service started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const u of this.units.values()) u.stop();
    await Promise.all([...this.buses.values()].map((b) => b.stop()));
  }

  /** The bus a cabinet is polled on, for the live check through the running daemon (its reads queue with the polls). */
  busOf(id: string): ModbusBus | undefined {
    const cfg = this.o.cabinets.find((c) => c.id === id);
    return cfg ? this.buses.get(swapBusKey(cfg)) : undefined;
  }

  unit(id: string): SwapUnit {
    const u = this.units.get(id);
    if (!u) throw new GatehouseError('DEVICE_UNKNOWN', `no swap cabinet "${id}" in the compound file`, { cabinet: id });
    return u;
  }

  states(): Record<string, unknown> {
    return Object.fromEntries([...this.units].map(([id, u]) => [id, u.stateBody()]));
  }

  commands(): CommandDefinition[] {
    const who = (ctx: CommandContext): string => ctx.caller.principal;
    return swapCommands({
      authorize: async (cabinet, rider, ctx) => {
        const tx = await this.unit(cabinet).flow.authorize('platform', rider ?? who(ctx));
        return { cabinet, swapId: tx.swapId, slot: tx.returnSlot };
      },
      cancel: async (cabinet) => {
        if (!this.unit(cabinet).flow.abort('cancelled'))
          throw new GatehouseError('DEVICE_REFUSED', `swap cabinet ${cabinet} has no open swap`, { cabinet, reason: 'no_open_swap' });
        return { cabinet, cancelled: true };
      },
      open: async (cabinet, slot) => {
        const u = this.unit(cabinet);
        if (u.isolated.has(slot))
          throw new GatehouseError('DEVICE_REFUSED', `slot ${slot} of ${cabinet} is isolated: release it first`, {
            cabinet,
            slot,
            reason: 'isolated',
          });
        await u.send({ kind: 'open', slot, timeoutS: this.o.swap.openTimeoutS }, 'command');
        return { cabinet, slot, open: true };
      },
      isolate: async (cabinet, slot, ctx) => {
        this.unit(cabinet).isolate(slot, 'command', undefined, who(ctx));
        return { cabinet, slot, isolated: true };
      },
      release: (cabinet, slot, ctx) => this.unit(cabinet).release(slot, who(ctx)),
      power: (cabinet, on) => this.unit(cabinet).power(on),
    });
  }
}
