/**
 * A box as systemd runs it, for remote-configuration tests: a seed compound file and its
 * secrets file on disk, a data directory, and a Gateway built the way `gatehouse run` builds
 * it (gateway/remote-config/startup.ts picks the file). When the gateway asks to restart
 * (config.apply, secrets.set, a rollback) the box does what the unit's Restart=always does:
 * stops it and starts a new one from what the data directory now says. The probation runs
 * on the box's ManualClock; everything else (uplink, broker, outbox) on real time and I/O.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Gateway } from '../../gateway/app.js';
import { ManualClock } from '../../gateway/core/clock.js';
import type { LoggerFactory } from '../../gateway/core/log.js';
import { resolveStartup, type Startup } from '../../gateway/remote-config/startup.js';

export interface BoxOptions {
  /** The seed compound file as an object (written as YAML). */
  seed: Record<string, unknown>;
  /** The seed's secrets file. */
  secrets: Record<string, string>;
  logs: LoggerFactory;
  name?: string;
}

export class Box {
  readonly dir: string;
  readonly dataDir: string;
  readonly seedFile: string;
  /** Drives the probation's timers. */
  readonly probationClock = new ManualClock();
  gateway!: Gateway;
  startup!: Startup;
  /** How many times the box restarted at the gateway's request, and why. */
  readonly restarts: string[] = [];
  private restarting: Promise<void> | undefined;

  constructor(private readonly opts: BoxOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `gh-${opts.name ?? 'box'}-`));
    this.dataDir = join(this.dir, 'data');
    this.seedFile = join(this.dir, 'compound.yaml');
    writeFileSync(this.seedFile, stringify({ ...opts.seed, secretsFile: 'secrets.yaml' }), { mode: 0o600 });
    writeFileSync(join(this.dir, 'secrets.yaml'), stringify(opts.secrets), { mode: 0o600 });
  }

  /** What `gatehouse run` does at start. */
  async start(): Promise<Gateway> {
    this.startup = resolveStartup(this.seedFile, this.dataDir);
    const { loaded, source } = this.startup;
    this.gateway = new Gateway({
      config: loaded.config,
      secrets: loaded.secrets,
      dataDir: this.dataDir,
      logs: this.opts.logs,
      remoteConfig: {
        source,
        timers: this.probationClock,
        restart: (reason) => {
          this.restarts.push(reason);
          this.restarting = this.restart();
        },
      },
    });
    await this.gateway.start();
    return this.gateway;
  }

  /** Resolves once the restart the gateway asked for is done (the new gateway started). */
  async settled(): Promise<void> {
    while (this.restarting) {
      const r = this.restarting;
      await r;
      if (this.restarting === r) this.restarting = undefined;
    }
  }

  private async restart(): Promise<void> {
    await this.gateway.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.settled().catch(() => undefined);
    await this.gateway?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
