/**
 * The command router: every command, from the platform over MQTT or from the console,
 * takes the same path — name, size, JSON, request shape, command, role, expiry, arguments,
 * replay — then runs with a deadline, and leaves an answer and an audit event in the
 * outbox. A bad command is answered with a coded error; it never throws out of the router
 * and never takes the daemon down.
 *
 * Stage order is deliberate: the size is checked before anything is parsed; the id is
 * claimed in the replay store last, so only a command that would actually run consumes an
 * id (garbage cannot fill the table, and a refused command may be fixed and resent).
 *
 * Expiry and an unsynchronised clock: a Pi without an RTC boots with the time it last saved
 * (fake-hwclock), which lags the real time. A command whose `expires` is before even that
 * lagging clock is certainly expired, so it is still refused (CMD_EXPIRED, details say the
 * clock is unsynced). One that looks unexpired may in truth be expired; refusing every
 * command until NTP syncs would leave a compound without remote control during an outage,
 * so it runs, and its deadline ignores `expires` (only defaultTtlMs bounds it).
 */
import type { CommandsConfig } from '../../config/schema.js';
import { realTimers, type Clock, type TimerHandle, type Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { EventDataMap } from '../core/events.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { RefusalLimiter, DEFAULT_REFUSAL_LIMITS, type RefusalLimits, type RefusalSummary } from './refusal-limiter.js';
import { ReplayStore } from './replay-store.js';
import {
  decodePayload,
  displayName,
  encodeDirect,
  isRegistrableCommandName,
  isSafeCommandName,
  parseRequest,
  readId,
  summariseIssues,
} from './request.js';
import type { Caller, CommandContext, CommandDefinition, CommandRegistry, CommandReply, Role } from './types.js';
import { isStorageError, sqliteCode } from '../outbox/disk-space.js';

/** What the router needs from the outbox (the database hosts the replay table). */
export type RouterOutbox = Pick<Outbox, 'record' | 'recordReply' | 'scope'>;

export interface CommandRouterOptions {
  config: CommandsConfig;
  outbox: RouterOutbox;
  clock: Clock;
  log: Logger;
  /** Handler deadlines and flood summaries; defaults to real (unref'd) timers. */
  timers?: Timers;
  refusalLimits?: Partial<RefusalLimits>;
}

export interface CommandInfo {
  name: string;
  description: string;
  roles: readonly Role[];
}

/** Used when defaultTtlMs is 0 ("no default expiry"): a handler still cannot hang forever. */
const FALLBACK_BUDGET_MS = 60_000;

interface Prepared {
  def: CommandDefinition<unknown>;
  args: unknown;
  id: string;
  budgetMs: number;
}

interface Outcome {
  reply: CommandReply;
  /** Refused before running (these are flood-limited); false once a handler ran. */
  refused: boolean;
  t0: number;
}

export class CommandRouter implements CommandRegistry {
  readonly clock: Clock;
  private readonly config: CommandsConfig;
  private readonly outbox: RouterOutbox;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly defs = new Map<string, CommandDefinition<unknown>>();
  private readonly replay: ReplayStore;
  private readonly limiter: RefusalLimiter;

  constructor(opts: CommandRouterOptions) {
    this.config = opts.config;
    this.outbox = opts.outbox;
    this.clock = opts.clock;
    this.log = opts.log;
    this.timers = opts.timers ?? realTimers;
    this.replay = new ReplayStore(opts.outbox.scope('commands'), opts.clock, opts.config.replayWindowMs);
    this.limiter = new RefusalLimiter(opts.clock, this.timers, { ...DEFAULT_REFUSAL_LIMITS, ...opts.refusalLimits }, (s) =>
      this.recordSummary(s),
    );
  }

  /** Adds a command. A bad or duplicate name is a programming error and throws at startup. */
  register<A>(def: CommandDefinition<A>): void {
    if (!isRegistrableCommandName(def.name)) {
      throw new GatehouseError(
        'INTERNAL',
        `command name "${displayName(def.name)}" must be lower-case dotted words (a-z 0-9 _ -), at most 64 characters`,
      );
    }
    if (this.defs.has(def.name)) throw new GatehouseError('INTERNAL', `command "${def.name}" is registered twice`);
    this.defs.set(def.name, def as CommandDefinition<unknown>);
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  list(): CommandInfo[] {
    return [...this.defs.values()]
      .map((d) => ({ name: d.name, description: d.description, roles: d.roles }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * A command from MQTT (`cmd/{name}`). Resolves once the answer and the audit event are
   * handed to the outbox (or dropped by the flood limit). Never rejects.
   */
  async handleMessage(name: string, payload: Buffer, caller: Caller): Promise<void> {
    try {
      // Our own answers, if a subscription is wide enough to hear them: not commands.
      if (name.endsWith('/res'))
        return void this.log.debug({ command: displayName(name) }, 'ignored a command answer delivered as a command');
      const out = await this.process(name, () => payload, caller);
      await this.settle(name, out, caller, isSafeCommandName(name));
    } catch (err) {
      this.log.error(
        { command: displayName(name), err: (err as Error).message },
        'command router failed unexpectedly; the command was dropped',
      );
    }
  }

  /**
   * A command from an operator on the embedded broker: the same rules and audit, but the
   * answer is returned for the broker to deliver to that operator alone, never recorded for
   * the platform (undefined when the flood limit says not to answer). Never rejects.
   */
  async answerMessage(name: string, payload: Buffer, caller: Caller): Promise<CommandReply | undefined> {
    try {
      if (name.endsWith('/res')) return undefined;
      const out = await this.process(name, () => payload, caller);
      return (await this.settle(name, out, caller, false, isSafeCommandName(name))) ? out.reply : undefined;
    } catch (err) {
      this.log.error(
        { command: displayName(name), err: (err as Error).message },
        'command router failed unexpectedly; the command was dropped',
      );
      return undefined;
    }
  }

  /** A command from the console or the CLI: the same rules, the answer returned instead of published. */
  async execute(name: string, request: unknown, caller: Caller): Promise<CommandReply> {
    let reply: CommandReply | undefined;
    try {
      const out = await this.process(name, () => encodeDirect(request), caller);
      reply = out.reply;
      await this.settle(name, out, caller, false);
      return out.reply;
    } catch (err) {
      this.log.error({ command: displayName(name), err: (err as Error).message }, 'command router failed unexpectedly');
      return reply ?? this.failure(null, new GatehouseError('INTERNAL'));
    }
  }

  /** Records the summaries of open flood windows now, e.g. before shutdown. */
  flushRefusalSummaries(): void {
    this.limiter.flush();
  }

  private async process(name: string, payload: () => Buffer, caller: Caller): Promise<Outcome> {
    const t0 = this.clock.monotonic();
    const seen = { id: null as string | null };
    let prepared: Prepared;
    try {
      prepared = await this.prepare(name, payload(), caller, seen);
    } catch (err) {
      return { reply: this.failure(seen.id, this.refusalError(err, name)), refused: true, t0 };
    }
    return { reply: await this.run(name, prepared, caller), refused: false, t0 };
  }

  private async prepare(name: string, payload: Buffer, caller: Caller, seen: { id: string | null }): Promise<Prepared> {
    if (!isSafeCommandName(name)) {
      throw new GatehouseError(
        'CMD_UNKNOWN',
        'command name is not a safe topic level (1-64 characters, no "/", "+", "#" or control characters)',
        { reason: 'unsafe-name' },
      );
    }
    const raw = decodePayload(payload, this.config.maxPayloadBytes);
    seen.id = readId(raw);
    const req = parseRequest(raw);
    const def = this.defs.get(name);
    if (!def) throw new GatehouseError('CMD_UNKNOWN', `no command "${name}"`, { command: name });
    if (!def.roles.includes(caller.role))
      throw new GatehouseError('CMD_FORBIDDEN', `role "${caller.role}" may not run "${name}"`, { role: caller.role });

    const now = this.clock.now();
    const synced = this.clock.state() === 'synced';
    let expiresAt: number | undefined;
    if (req.expires !== undefined) {
      expiresAt = Date.parse(req.expires);
      if (expiresAt <= now) {
        const details: Record<string, unknown> = {
          expires: req.expires,
          now: new Date(now).toISOString(),
          clock: synced ? 'synced' : 'unsynced',
        };
        if (!synced) details.note = 'the gateway clock is not synchronised; the command expired even by that clock';
        throw new GatehouseError('CMD_EXPIRED', `command expired at ${req.expires}`, details);
      }
    }
    const parsed = await def.args.safeParseAsync(req.args ?? {});
    if (!parsed.success)
      throw new GatehouseError('CMD_INVALID', `arguments of "${name}" do not match its schema`, {
        issues: summariseIssues(parsed.error.issues, ['args']),
      });

    let claim;
    try {
      claim = this.replay.claim(req.id, expiresAt);
    } catch (err) {
      // Without a durable record of the id, replay refusal cannot be promised: fail closed.
      this.log.error({ command: name, id: req.id, err: (err as Error).message }, 'could not record a command id');
      if (isStorageError(err)) {
        throw new GatehouseError(
          'OUTBOX_DISK_FULL',
          `the gateway's disk is full or failing (${sqliteCode(err)}): the command id could not be recorded, so the command was not run; send it again once space is freed`,
        );
      }
      throw new GatehouseError('INTERNAL', 'the command id could not be recorded, so the command was not run');
    }
    if (!claim.fresh)
      throw new GatehouseError('CMD_REPLAYED', `command id "${req.id}" was already received`, { firstSeenAt: claim.firstSeenAt });

    let budgetMs = this.config.defaultTtlMs > 0 ? this.config.defaultTtlMs : FALLBACK_BUDGET_MS;
    if (expiresAt !== undefined && synced) budgetMs = Math.min(budgetMs, expiresAt - now);
    return { def, args: parsed.data, id: req.id, budgetMs: Math.max(1, budgetMs) };
  }

  /** Runs the handler against its deadline; maps whatever happens to an answer. */
  private async run(name: string, p: Prepared, caller: Caller): Promise<CommandReply> {
    const ctx: CommandContext = { id: p.id, caller: { ...caller }, deadline: this.clock.monotonic() + p.budgetMs };
    let timer: TimerHandle | undefined;
    let timedOut = false;
    const running = Promise.resolve().then(() => p.def.handler(p.args, ctx));
    // A handler that settles after its deadline must not become an unhandled rejection.
    running.then(
      () => timedOut && this.log.info({ command: name, id: p.id }, 'command finished after its deadline; its result was dropped'),
      () => undefined,
    );
    const deadline = new Promise<never>((_, reject) => {
      timer = this.timers.setTimeout(() => {
        timedOut = true;
        reject(new GatehouseError('CMD_TIMEOUT', `no answer within ${p.budgetMs} ms`, { timeoutMs: p.budgetMs }));
      }, p.budgetMs);
    });
    try {
      const result = await Promise.race([running, deadline]);
      return { id: p.id, ok: true, ts: this.iso(), result: this.cleanResult(name, result) };
    } catch (err) {
      return this.failure(p.id, this.handlerError(err, name, p.id));
    } finally {
      timer?.cancel();
    }
  }

  /** Results are published as JSON: anything that is not a JSON object is a handler bug. */
  private cleanResult(name: string, result: unknown): Record<string, unknown> {
    if (result === undefined) return {};
    if (result === null || typeof result !== 'object' || Array.isArray(result)) {
      throw new GatehouseError('CMD_FAILED', `command "${name}" produced a result that is not an object`);
    }
    try {
      return JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
    } catch {
      throw new GatehouseError('CMD_FAILED', `command "${name}" produced a result that cannot be sent as JSON`);
    }
  }

  private handlerError(err: unknown, name: string, id: string): GatehouseError {
    if (err instanceof GatehouseError) return err;
    if (isStorageError(err)) {
      // Not a bug: the change could not be stored. Nothing was applied (the write was one transaction).
      this.log.error({ command: name, id, err: (err as Error).message }, 'command could not store its change: the disk is full or failing');
      return new GatehouseError(
        'OUTBOX_DISK_FULL',
        `the gateway's disk is full or failing (${sqliteCode(err)}): "${name}" was not applied; send it again once space is freed`,
      );
    }
    // The platform gets a code; the operator gets the details in the local log.
    this.log.error(
      { command: name, id, err: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined },
      'command handler threw',
    );
    return new GatehouseError('CMD_FAILED');
  }

  private refusalError(err: unknown, name: string): GatehouseError {
    if (err instanceof GatehouseError) return err;
    this.log.error(
      { command: displayName(name), err: err instanceof Error ? err.message : String(err) },
      'command validation failed unexpectedly',
    );
    return new GatehouseError('INTERNAL');
  }

  private failure(id: string | null, err: GatehouseError): CommandReply {
    const error: { code: string; message: string; details?: Record<string, unknown> } = { code: err.code, message: err.message };
    if (err.details) {
      try {
        error.details = JSON.parse(JSON.stringify(err.details)) as Record<string, unknown>;
      } catch {
        /* details that cannot be serialised are left out; the code and message remain */
      }
    }
    return { id, ok: false, ts: this.iso(), error };
  }

  /**
   * Hands the answer (when `publish`) and the audit event to the outbox, within the flood
   * limits. Returns whether an answer is due, for callers that deliver it themselves (`direct`).
   */
  private async settle(name: string, out: Outcome, caller: Caller, publish: boolean, direct = false): Promise<boolean> {
    const { reply } = out;
    const code = reply.ok ? undefined : reply.error.code;
    let audit = true;
    let answer = publish || direct;
    if (out.refused) {
      const admitted = this.limiter.admit(caller, code ?? 'INTERNAL');
      audit = admitted.audit;
      answer = answer && admitted.reply;
    }
    const durationMs = Math.max(0, Math.round(this.clock.monotonic() - out.t0));
    const who = { via: caller.via, role: caller.role, principal: caller.principal };
    const command = displayName(name);
    if (audit) {
      // Never args or results: they may carry credentials.
      const fields = { command, id: reply.id, caller: who, ok: reply.ok, ...(code ? { error: code } : {}), durationMs };
      if (reply.ok) this.log.info(fields, 'command executed');
      else this.log.warn(fields, out.refused ? 'command refused' : 'command failed');
    }
    const tasks: Promise<unknown>[] = [];
    if (answer && publish) tasks.push(attempt(() => this.outbox.recordReply(`cmd/${name}/res`, reply)));
    if (audit) {
      // The reply's code is one of ErrorCodes (the router only answers with coded errors).
      const error = code as EventDataMap['command.executed']['error'];
      const data = { command, id: reply.id, caller: who, ok: reply.ok, ...(error ? { error } : {}), durationMs };
      tasks.push(attempt(() => this.outbox.record({ class: 'system', type: 'command.executed', source: { device: 'gateway' }, data })));
    }
    for (const r of await Promise.allSettled(tasks)) if (r.status === 'rejected') this.recordFailed(r.reason, command);
    return answer;
  }

  private recordSummary(s: RefusalSummary): void {
    this.log.warn(
      { caller: s.caller, count: s.count, unanswered: s.unanswered, byCode: s.byCode },
      'command flood: refusals counted, not audited one by one',
    );
    const data = {
      caller: { via: s.caller.via, role: s.caller.role, principal: s.caller.principal },
      count: s.count,
      unanswered: s.unanswered,
      byCode: s.byCode,
      from: s.from,
      to: s.to,
    };
    attempt(() => this.outbox.record({ class: 'system', type: 'command.refusals_suppressed', source: { device: 'gateway' }, data })).catch(
      (err: unknown) => this.recordFailed(err, '(summary)'),
    );
  }

  private recordFailed(err: unknown, command: string): void {
    // At shutdown the outbox closes first; late answers are expected to go nowhere.
    if (err instanceof GatehouseError && err.code === 'OUTBOX_CLOSED')
      return void this.log.debug({ command }, 'outbox closed; command answer or audit dropped');
    this.log.error({ command, err: (err as Error).message }, 'could not record a command answer or audit event');
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

/** Turns a synchronous throw into a rejection so one bad call cannot escape settle(). */
function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    // Whatever the handler threw, unchanged: settle() tells coded errors from the rest.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    return Promise.reject(err);
  }
}
