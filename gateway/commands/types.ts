/**
 * The shape of a command, shared by every component that offers one (locks, doors,
 * cabinets, zones) and by every caller (platform over MQTT, the console, the CLI).
 */
import type { z } from 'zod';

/** Who may run what. The platform acts as `platform`; console users have one of the others. */
export type Role = 'platform' | 'guard' | 'installer' | 'admin';

export interface Caller {
  /** How the command arrived. */
  via: 'uplink' | 'embedded-broker' | 'console' | 'cli';
  role: Role;
  /** User name (console) or MQTT username (embedded broker operator); never a secret. */
  principal: string;
}

export interface CommandContext {
  id: string;
  caller: Caller;
  /** Monotonic deadline (ms) after which the answer is useless; handlers pass it to device I/O. */
  deadline: number;
}

export interface CommandDefinition<A = unknown> {
  name: string;
  description: string;
  args: z.ZodType<A>;
  roles: readonly Role[];
  /** Returns the `result` of the answer; throws GatehouseError for a coded failure. */
  handler(args: A, ctx: CommandContext): Promise<Record<string, unknown>>;
}

/** The body of a command on `cmd/{name}`. */
export interface CommandRequest {
  id: string;
  /** ISO time after which the command must not run. */
  expires?: string;
  args?: Record<string, unknown>;
}

/** The body of an answer on `cmd/{name}/res`. */
export type CommandReply =
  | { id: string; ok: true; ts: string; result: Record<string, unknown> }
  | { id: string | null; ok: false; ts: string; error: { code: string; message: string; details?: Record<string, unknown> } };

/** Anything that registers commands receives this. */
export interface CommandRegistry {
  register<A>(def: CommandDefinition<A>): void;
}

export function defineCommand<A>(def: CommandDefinition<A>): CommandDefinition<A> {
  return def;
}
