/**
 * Remote configuration from the platform (docs/REMOTE-CONFIG.md):
 *
 * - `config.get` (platform, installer, admin): the running configuration's version, hash,
 *   whether it is on probation, the history kept in the data directory, and the names of
 *   the secrets it reads with whether each is set. Never a secret value.
 * - `config.apply` (platform): a whole compound file (YAML text) and a version. Validated
 *   with the schema and the `check` rules (every problem with its key path); nothing changes
 *   when one is found. Otherwise staged in the data directory as the running configuration,
 *   on probation, and the daemon restarts (systemd starts it again; the staged file is
 *   loaded at start by startup.ts).
 * - probation: the restarted gateway must be healthy within `remoteConfig.probationMs`
 *   (no component failed, the uplink connected, every device that answered before the apply
 *   answering again). Then `config.applied` and it is the last good configuration; else it
 *   rolls back by itself (state first, then a restart) and the restored gateway records
 *   `config.rolled_back` with the reason.
 * - `secrets.set` (platform, write-only): named secrets into `{data}/config/secrets.json`
 *   (0600, atomic), `config.secrets_set` with the names only, then a restart so every
 *   component reading them gets the new values.
 */
import { z } from 'zod';
import type { CompoundConfig } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { defineCommand, type CommandDefinition } from '../commands/types.js';
import { FAMILIES } from '../families/registry.js';
import { secretsOf } from '../families/boot.js';
import { ConfigStore, hashOf, type ConfigState, type PendingEvent } from './store.js';
import { SEED_VERSION, type ConfigSource } from './startup.js';
import { layeredSecrets, validateRemote } from './validate.js';
import { healthProblems, type Health } from './health.js';
import { ApplyArgs, districtOnly, PLATFORM, READERS, SecretsArgs } from './command-rules.js';

export type { Health } from './health.js';

/** What the daemon around the gateway provides: how it restarts itself (systemd: exit 75). */
export interface RemoteConfigHost {
  source: ConfigSource;
  /** Stops the gateway and starts it again from what the data directory says (never returns to the caller's flow). */
  restart(reason: string): void | Promise<void>;
  /** The probation's timers (default the gateway's), so tests drive it with a ManualClock. */
  timers?: Timers;
}

export interface RemoteConfigOptions {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  outbox: Pick<Outbox, 'record'>;
  health: () => Health;
  host: RemoteConfigHost | undefined;
  clock: Clock;
  timers: Timers;
  log: Logger;
}

/** Health is looked at this often during a probation. */
const CHECK_EVERY_MS = 1000;
/** The answer to config.apply / secrets.set is committed and on its way before the daemon restarts. */
const RESTART_DELAY_MS = 500;

export class RemoteConfig {
  readonly store: ConfigStore;
  private probationTimer: TimerHandle | undefined;
  private checkTimer: TimerHandle | undefined;
  private restartTimer: TimerHandle | undefined;
  private restarting = false;
  /** A config.apply or secrets.set between its checks and its restart: a second one waits. */
  private changing = false;
  private stopped = false;
  private readonly probationTimers: Timers;

  constructor(private readonly o: RemoteConfigOptions) {
    this.store = new ConfigStore(o.dataDir, o.config.remoteConfig.keep);
    this.probationTimers = o.host?.timers ?? o.timers;
  }

  private get source(): ConfigSource {
    return (
      this.o.host?.source ?? {
        origin: 'seed',
        version: SEED_VERSION,
        hash: hashOf(JSON.stringify(this.o.config)),
        seq: null,
        seedFile: undefined,
        probation: false,
      }
    );
  }

  status(): Record<string, unknown> {
    const s = this.source;
    return { version: s.version, hash: s.hash, origin: s.origin, probation: this.probationTimer !== undefined };
  }

  /** Records what was decided while no outbox was open, then starts the probation if this configuration is on one. */
  async start(): Promise<void> {
    let state = this.readState();
    if (state?.pending.length) {
      for (const p of state.pending) await this.recordPending(p);
      state = { ...state, pending: [] };
      this.store.write(state);
    }
    const seq = this.source.seq;
    if (!this.source.probation || !state?.probation || state.probation.seq !== seq) return;
    const ms = this.o.config.remoteConfig.probationMs;
    const t0 = this.o.clock.monotonic();
    this.o.log.info({ version: this.source.version, probationMs: ms }, 'configuration on probation');
    this.checkTimer = this.probationTimers.setInterval(() => this.check(t0), CHECK_EVERY_MS);
    this.probationTimer = this.probationTimers.setTimeout(() => this.expire(), ms);
  }

  stop(): void {
    this.stopped = true;
    this.endProbation();
    this.restartTimer?.cancel();
  }

  commands(): CommandDefinition<never>[] {
    return [
      defineCommand({
        name: 'config.get',
        description: 'The running configuration: version, hash, probation, history, and the secret names it reads (never their values).',
        args: z.strictObject({}),
        roles: READERS,
        handler: async () => this.describe(),
      }),
      defineCommand({
        name: 'config.apply',
        description:
          'Validates a whole compound file (YAML) and, when valid, applies it: restart, probation, and a rollback by itself if the gateway is not healthy in time.',
        args: ApplyArgs,
        roles: PLATFORM,
        handler: async (args, ctx) => {
          districtOnly(ctx.caller);
          return this.apply(args.yaml, args.version, ctx.caller.principal);
        },
      }),
      defineCommand({
        name: 'secrets.set',
        description: 'Sets named secrets (write-only: never read back) and restarts what uses them.',
        args: SecretsArgs,
        roles: PLATFORM,
        handler: async (args, ctx) => {
          districtOnly(ctx.caller);
          return this.setSecrets(args.secrets);
        },
      }),
    ] as CommandDefinition<never>[];
  }

  private describe(): Record<string, unknown> {
    const s = this.source;
    const state = this.readState();
    const remote = new Set(Object.keys(this.readRemoteSecrets()));
    const names = new Set<string>();
    for (const ref of secretsOf(FAMILIES, this.o.config)) names.add(ref.name);
    if (this.o.config.uplink?.passwordSecret) names.add(this.o.config.uplink.passwordSecret);
    for (const op of this.o.config.broker.operators) names.add(op.passwordSecret);
    return {
      version: s.version,
      hash: s.hash,
      origin: s.origin,
      status: s.probation && state?.probation?.seq === s.seq ? 'probation' : 'good',
      probationMs: this.o.config.remoteConfig.probationMs,
      history: [...(state?.entries ?? [])].reverse().map((e) => ({
        version: e.version,
        hash: e.hash,
        status: e.status,
        appliedAt: new Date(e.at).toISOString(),
        by: e.by,
        ...(e.reason ? { reason: e.reason } : {}),
        running: e.seq === s.seq,
      })),
      secrets: [...names].sort().map((name) => ({ name, set: this.o.secrets.has(name), remote: remote.has(name) })),
    };
  }

  private async apply(text: string, version: string, by: string): Promise<Record<string, unknown>> {
    const host = this.requireHost();
    const state = this.refuseWhileBusy();
    this.changing = true;
    try {
      return await this.validateAndStage(host, state, text, version, by);
    } finally {
      this.changing = false;
    }
  }

  private async validateAndStage(
    host: RemoteConfigHost,
    state: ConfigState | undefined,
    text: string,
    version: string,
    by: string,
  ): Promise<Record<string, unknown>> {
    const seedFile = this.source.seedFile;
    const checked = await validateRemote(text, this.o.config, (c) => layeredSecrets(c, seedFile, this.readRemoteSecrets()), this.o.dataDir);
    if (!checked.ok) {
      throw new GatehouseError(
        'CONFIG_INVALID',
        `${checked.problems.length} problem${checked.problems.length > 1 ? 's' : ''} in the configuration; nothing was changed`,
        { problems: checked.problems },
      );
    }
    const hash = hashOf(text);
    if (hash === this.source.hash) return { version: this.source.version, hash, unchanged: true };
    // The devices answering now must answer again under the new file (those it still configures).
    const online = this.onlineNow();
    const { entry } = this.store.stage(
      { text, version, by, at: this.o.clock.now(), online, seedHash: state?.seedHash ?? this.seedHash() },
      state,
    );
    this.o.log.info({ version, hash, by }, 'configuration staged; restarting to apply it on probation');
    this.scheduleRestart(host, `config.apply ${version}`);
    return {
      version: entry.version,
      hash: entry.hash,
      status: 'probation',
      probationMs: checked.config.remoteConfig.probationMs,
      restarting: true,
    };
  }

  private async setSecrets(values: Record<string, string>): Promise<Record<string, unknown>> {
    const host = this.requireHost();
    const state = this.refuseWhileBusy();
    const given = Object.keys(values).sort();
    // On probation like a configuration: a wrong uplink password must not cut the box off for good.
    this.store.stageSecrets(values, { online: this.onlineNow(), seedHash: state?.seedHash ?? this.seedHash() }, state);
    this.o.log.info({ names: given }, 'secrets set by the platform; restarting to use them on probation');
    await this.o.outbox.record({ class: 'system', type: 'config.secrets_set', source: { device: 'gateway' }, data: { names: given } });
    this.scheduleRestart(host, 'secrets.set');
    return { names: given, status: 'probation', probationMs: this.o.config.remoteConfig.probationMs, restarting: true };
  }

  private requireHost(): RemoteConfigHost {
    if (!this.o.host?.source.seedFile) throw new GatehouseError('CONFIG_REMOTE_UNAVAILABLE');
    return this.o.host;
  }

  private refuseWhileBusy(): ConfigState | undefined {
    const state = this.readState();
    if (this.restarting || this.changing || state?.probation)
      throw new GatehouseError(
        'CONFIG_APPLY_BUSY',
        this.restarting || this.changing
          ? 'another change is being applied and the gateway restarts for it; send this one again once it answers'
          : `${state!.probation!.secrets ? 'a secrets.set' : `configuration ${this.store.entry(state!, state!.probation!.seq)?.version ?? ''}`} is on probation; wait for config.applied or config.rolled_back`,
      );
    return state;
  }

  /** The devices answering now: they must answer again after the change (those it still configures). */
  private onlineNow(): string[] {
    return this.o
      .health()
      .devices.filter((d) => d.announced === true)
      .map((d) => d.device);
  }

  private seedHash(): string {
    // Only reached on the seed (the state exists once anything was applied): its hash is the seed's.
    return this.source.hash;
  }

  private scheduleRestart(host: RemoteConfigHost, reason: string): void {
    this.restarting = true;
    this.restartTimer = this.o.timers.setTimeout(() => {
      if (this.stopped) return;
      void Promise.resolve()
        .then(() => host.restart(reason))
        .catch((err: unknown) => this.o.log.error({ err: (err as Error).message }, 'restart failed'));
    }, RESTART_DELAY_MS);
  }

  /** What keeps the gateway from being healthy now; empty when it is. */
  private problems(online: readonly string[]): string[] {
    return healthProblems(this.o.health(), online);
  }

  private check(t0: number): void {
    const state = this.readState();
    const p = state?.probation;
    if (!state || !p || p.seq !== this.source.seq) return this.endProbation();
    if (this.problems(p.online).length) return;
    this.endProbation();
    const next = this.store.confirm(state);
    const previous = this.store.entry(next, p.previous)?.version ?? SEED_VERSION;
    const probationMs = Math.max(0, Math.round(this.o.clock.monotonic() - t0));
    this.o.log.info(
      { version: this.source.version, probationMs, ...(p.secrets ? { secrets: p.secrets } : {}) },
      p.secrets ? 'secrets proved healthy' : 'configuration proved healthy: it is the last good one',
    );
    const data = { version: this.source.version, hash: this.source.hash, previousVersion: previous, probationMs };
    void this.o.outbox
      .record({
        class: 'system',
        type: 'config.applied',
        source: { device: 'gateway' },
        data: p.secrets ? { ...data, secrets: p.secrets } : data,
      })
      .catch((err: Error) => this.o.log.error({ err: err.message }, 'config.applied not recorded'));
  }

  private expire(): void {
    const state = this.readState();
    const p = state?.probation;
    if (!state || !p || p.seq !== this.source.seq) return this.endProbation();
    const problems = this.problems(p.online);
    if (!problems.length) return this.check(0);
    this.endProbation();
    const reason = `not healthy within ${this.o.config.remoteConfig.probationMs} ms: ${problems.join('; ')}`;
    const restored = this.store.entry(state, p.previous)?.version ?? SEED_VERSION;
    // The decision is durable before anything else: a crash from here on starts the restored configuration.
    this.store.rollBack(state, reason, {
      type: 'config.rolled_back',
      version: this.source.version,
      hash: this.source.hash,
      restoredVersion: restored,
      reason,
      ...(p.secrets ? { secrets: p.secrets } : {}),
    });
    this.o.log.warn(
      { version: this.source.version, restored, reason, ...(p.secrets ? { secrets: p.secrets } : {}) },
      p.secrets ? 'secrets rolled back to their previous values' : 'configuration rolled back',
    );
    const host = this.o.host;
    if (host) this.scheduleRestart(host, `rollback of ${this.source.version}`);
  }

  private endProbation(): void {
    this.probationTimer?.cancel();
    this.checkTimer?.cancel();
    this.probationTimer = this.checkTimer = undefined;
  }

  private async recordPending(p: PendingEvent): Promise<void> {
    if (p.type === 'config.rolled_back') {
      await this.o.outbox.record({
        class: 'system',
        type: 'config.rolled_back',
        source: { device: 'gateway' },
        data: {
          version: p.version,
          hash: p.hash,
          restoredVersion: p.restoredVersion ?? SEED_VERSION,
          reason: p.reason ?? 'unknown',
          ...(p.secrets ? { secrets: p.secrets } : {}),
        },
      });
    }
  }

  private readState(): ConfigState | undefined {
    try {
      return this.store.read();
    } catch (err) {
      this.o.log.error({ err: (err as Error).message }, 'config/state.json cannot be read');
      return undefined;
    }
  }

  private readRemoteSecrets(): Record<string, string> {
    try {
      return this.store.readSecrets();
    } catch {
      return {};
    }
  }
}
