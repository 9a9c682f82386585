/**
 * Alarm commands for the platform and the console: `alarm.acknowledge`, `alarm.close`
 * (guards handle alarms; installers commission devices and must not silence them) and
 * `alarm.list`. The actor in the audit trail is the router's Caller principal and role;
 * the router audits the call itself, the alarm.* event says what it did to the alarm.
 */
import { z } from 'zod';
import { defineCommand, type CommandContext, type CommandDefinition } from '../commands/types.js';
import type { AlarmManager } from './alarm-manager.js';
import { alarmView } from './alarm-views.js';
import type { AlarmActor } from './types.js';

const AlarmId = z.string().regex(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/, 'an alarm id (ULID)');
const HandleArgs = z.object({ alarmId: AlarmId, note: z.string().min(1).max(500).optional() }).strict();
const ListArgs = z.object({ includeClosed: z.boolean().optional(), limit: z.number().int().min(1).max(500).optional() }).strict();

const actor = (ctx: CommandContext, note: string | undefined): AlarmActor => ({
  by: ctx.caller.principal,
  role: ctx.caller.role,
  ...(note !== undefined ? { note } : {}),
});

export function alarmCommands(manager: Pick<AlarmManager, 'acknowledge' | 'close' | 'list' | 'openCount'>): CommandDefinition[] {
  return [
    defineCommand({
      name: 'alarm.acknowledge',
      description: 'A guard takes charge of an alarm (ALARM_ACKNOWLEDGED if someone already did, ALARM_CLOSED, ALARM_UNKNOWN).',
      args: HandleArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args, ctx) {
        return { alarm: alarmView(manager.acknowledge(args.alarmId, actor(ctx, args.note))) };
      },
    }),
    defineCommand({
      name: 'alarm.close',
      description: 'Closes a handled alarm; refused while its condition still holds (ALARM_ACTIVE) and on a closed one (ALARM_CLOSED).',
      args: HandleArgs,
      roles: ['platform', 'guard', 'admin'],
      async handler(args, ctx) {
        return { alarm: alarmView(manager.close(args.alarmId, actor(ctx, args.note))) };
      },
    }),
    defineCommand({
      name: 'alarm.list',
      description:
        'Open alarms, highest priority then newest first; with includeClosed, then the most recently closed (limit 1-500, default 100).',
      args: ListArgs,
      roles: ['platform', 'guard', 'installer', 'admin'],
      async handler(args) {
        const alarms = manager.list({ includeClosed: args.includeClosed ?? false, limit: args.limit ?? 100 });
        return { alarms: alarms.map(alarmView), open: manager.openCount() };
      },
    }),
  ];
}
