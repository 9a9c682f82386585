/**
 * The swap commands offered to the command router, with their roles: `swap.authorize`
 * (the app/QR flow), `swap.cancel`, `slot.open` (maintenance: installer/admin, audited by the
 * router like every command), `slot.isolate` / `slot.release`, `cabinet.power`.
 */
import { z } from 'zod';
import { Id } from '../../config/common.js';
import { MAX_SLOTS } from '../../drivers/swap/register-map.js';
import { defineCommand, type CommandContext, type CommandDefinition } from '../commands/types.js';

const Slot = z.number().int().min(1).max(MAX_SLOTS);
const Reason = z.string().trim().min(1).max(200);

export const AuthorizeArgs = z.object({ cabinet: Id, rider: z.string().min(1).max(120).optional() }).strict();
export const CancelArgs = z.object({ cabinet: Id }).strict();
export const SlotArgs = z.object({ cabinet: Id, slot: Slot, reason: Reason }).strict();
export const PowerArgs = z.object({ cabinet: Id, on: z.boolean(), reason: Reason }).strict();

export interface SwapControl {
  authorize(cabinet: string, rider: string | undefined, ctx: CommandContext): Promise<Record<string, unknown>>;
  cancel(cabinet: string, ctx: CommandContext): Promise<Record<string, unknown>>;
  open(cabinet: string, slot: number, ctx: CommandContext): Promise<Record<string, unknown>>;
  isolate(cabinet: string, slot: number, ctx: CommandContext): Promise<Record<string, unknown>>;
  release(cabinet: string, slot: number, ctx: CommandContext): Promise<Record<string, unknown>>;
  power(cabinet: string, on: boolean, ctx: CommandContext): Promise<Record<string, unknown>>;
}

export function swapCommands(c: SwapControl): CommandDefinition[] {
  return [
    defineCommand({
      name: 'swap.authorize',
      description: 'Authorises a battery swap at a cabinet (the app/QR flow): an empty slot opens for the returned pack.',
      args: AuthorizeArgs,
      roles: ['platform', 'admin'],
      handler: (a, ctx) => c.authorize(a.cabinet, a.rider, ctx),
    }),
    defineCommand({
      name: 'swap.cancel',
      description: 'Cancels the open swap of a cabinet (swap.aborted, reason cancelled); unlocked doors relock by their timeout.',
      args: CancelArgs,
      roles: ['platform', 'guard', 'admin'],
      handler: (a, ctx) => c.cancel(a.cabinet, ctx),
    }),
    defineCommand({
      name: 'slot.open',
      description: 'Maintenance: unlocks one slot door (refused while the slot is isolated). The reason is audited.',
      args: SlotArgs,
      roles: ['installer', 'admin'],
      handler: (a, ctx) => c.open(a.cabinet, a.slot, ctx),
    }),
    defineCommand({
      name: 'slot.isolate',
      description: 'Isolates a slot: charger off, door locked, its pack never issued, until slot.release.',
      args: SlotArgs,
      roles: ['platform', 'installer', 'admin'],
      handler: (a, ctx) => c.isolate(a.cabinet, a.slot, ctx),
    }),
    defineCommand({
      name: 'slot.release',
      description: 'Releases an isolated slot (refused while its pack is still too hot); its charger stays off until the pack is swapped.',
      args: SlotArgs,
      roles: ['platform', 'admin'],
      handler: (a, ctx) => c.release(a.cabinet, a.slot, ctx),
    }),
    defineCommand({
      name: 'cabinet.power',
      description: "Cuts or restores a swap cabinet's power; restoring is refused while smoke or over-temperature is read.",
      args: PowerArgs,
      roles: ['platform', 'admin'],
      handler: (a, ctx) => c.power(a.cabinet, a.on, ctx),
    }),
  ] as CommandDefinition[];
}
