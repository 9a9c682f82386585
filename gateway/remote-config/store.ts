/**
 * The configurations the platform applied, kept in the data directory (`{data}/config/`):
 *
 *   state.json          which one runs, which one was last proven good, the one on probation
 *   compound-{seq}.yaml each applied compound file as received (0600), the last `keep` kept
 *   secrets.json        secrets set by the platform (secrets.set, 0600), layered over the seed's secrets file
 *   secrets.prev.json   its content before a secrets.set on probation, restored by a rollback
 *
 * The data directory, not /etc/gatehouse: the unit runs with ProtectSystem=strict, so the
 * daemon cannot write its configuration directory, and the installer's file there stays the
 * seed (see docs/REMOTE-CONFIG.md). Every write goes through writeFileDurable (temp file,
 * fsync, rename, fsync of the directory): after a power cut state.json is the old or the new
 * one, and a compound file is written and synced before state.json names it. The file of
 * the running and of the last good configuration are never pruned.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileDurable } from '../durable-file.js';

export type EntryStatus = 'probation' | 'good' | 'rolled_back';

const Entry = z.object({
  seq: z.int().min(1),
  version: z.string(),
  hash: z.string(),
  /** When it was staged (ms since the epoch, the gateway's clock). */
  at: z.number(),
  /** Who applied it (the caller's principal). */
  by: z.string(),
  status: z.enum(['probation', 'good', 'rolled_back']),
  reason: z.string().optional(),
});
export type ConfigEntry = z.infer<typeof Entry>;

const Probation = z.object({
  /** The configuration on probation (for a secrets.set: the one running, null for the seed). */
  seq: z.int().min(1).nullable(),
  /** A secrets.set on probation: the names set (their previous values are in secrets.prev.json). */
  secrets: z.array(z.string()).optional(),
  /** Starts of the daemon with this configuration; a second start means the first one died. */
  starts: z.int().min(0),
  /** Devices announced online when it was applied: they must answer again. */
  online: z.array(z.string()),
  /** The configuration running before (null: the seed file), restored by a rollback. */
  previous: z.int().nullable(),
});

/** An event decided while no outbox was open (at start); recorded once the gateway runs. */
const Pending = z.object({
  type: z.enum(['config.applied', 'config.rolled_back']),
  version: z.string(),
  hash: z.string(),
  restoredVersion: z.string().optional(),
  reason: z.string().optional(),
  secrets: z.array(z.string()).optional(),
});
export type PendingEvent = z.infer<typeof Pending>;

const State = z.object({
  v: z.literal(1),
  /** The hash of the seed file (--config) when the platform first applied one: a later local edit wins. */
  seedHash: z.string(),
  /** The configuration the daemon starts with; null: the seed file. */
  running: z.int().nullable(),
  lastGood: z.int().nullable(),
  probation: Probation.optional(),
  nextSeq: z.int().min(1),
  entries: z.array(Entry),
  pending: z.array(Pending).default([]),
});
export type ConfigState = z.infer<typeof State>;

function initialState(seedHash: string): ConfigState {
  return { v: 1, seedHash, running: null, lastGood: null, nextSeq: 1, entries: [], pending: [] };
}

export function hashOf(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

export class ConfigStore {
  readonly dir: string;

  constructor(
    dataDir: string,
    private readonly keep = 5,
  ) {
    this.dir = join(dataDir, 'config');
  }

  private get stateFile(): string {
    return join(this.dir, 'state.json');
  }

  fileOf(seq: number): string {
    return join(this.dir, `compound-${seq}.yaml`);
  }

  get secretsFile(): string {
    return join(this.dir, 'secrets.json');
  }

  get previousSecretsFile(): string {
    return join(this.dir, 'secrets.prev.json');
  }

  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The state, or undefined when the platform never applied a configuration. A damaged state.json throws. */
  read(): ConfigState | undefined {
    if (!existsSync(this.stateFile)) return undefined;
    return State.parse(JSON.parse(readFileSync(this.stateFile, 'utf8')));
  }

  write(state: ConfigState): void {
    this.ensureDir();
    writeFileDurable(this.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  text(seq: number): string {
    return readFileSync(this.fileOf(seq), 'utf8');
  }

  entry(state: ConfigState, seq: number | null): ConfigEntry | undefined {
    return seq === null ? undefined : state.entries.find((e) => e.seq === seq);
  }

  /**
   * Writes the new file, then the state naming it as running and on probation. Until the
   * state is renamed into place the previous configuration is the one a start would load.
   */
  stage(
    opts: { text: string; version: string; by: string; at: number; online: string[]; seedHash: string },
    before: ConfigState | undefined,
  ): { state: ConfigState; entry: ConfigEntry } {
    this.ensureDir();
    const state = before ?? initialState(opts.seedHash);
    const seq = state.nextSeq;
    writeFileDurable(this.fileOf(seq), opts.text);
    const entry: ConfigEntry = { seq, version: opts.version, hash: hashOf(opts.text), at: opts.at, by: opts.by, status: 'probation' };
    const previous = state.running;
    const next: ConfigState = {
      ...state,
      nextSeq: seq + 1,
      running: seq,
      probation: { seq, starts: 0, online: opts.online, previous },
      entries: [...state.entries, entry],
    };
    this.write(next);
    return { state: this.prune(next), entry };
  }

  /**
   * A secrets.set on probation: the current platform secrets kept aside, the state saying
   * so, then the new values. A crash before the last step leaves a probation of unchanged
   * secrets (harmless); after it, a rollback has the previous values to restore.
   */
  stageSecrets(values: Record<string, string>, opts: { online: string[]; seedHash: string }, before: ConfigState | undefined): ConfigState {
    this.ensureDir();
    const current = this.readSecrets();
    writeFileDurable(this.previousSecretsFile, `${JSON.stringify(current, null, 2)}\n`);
    const state = before ?? initialState(opts.seedHash);
    const names = Object.keys(values).sort();
    const next: ConfigState = {
      ...state,
      probation: { seq: state.running, secrets: names, starts: 0, online: opts.online, previous: state.running },
    };
    this.write(next);
    this.writeSecrets(values);
    return next;
  }

  /** The configuration on probation proved healthy: it becomes the last good one. */
  confirm(state: ConfigState): ConfigState {
    const p = state.probation;
    if (!p) return state;
    if (p.secrets) {
      const next: ConfigState = { ...state, probation: undefined };
      this.write(next);
      rmSync(this.previousSecretsFile, { force: true });
      return next;
    }
    const seq = p.seq!;
    const next: ConfigState = {
      ...state,
      lastGood: seq,
      probation: undefined,
      entries: state.entries.map((e) => (e.seq === seq ? { ...e, status: 'good' as const } : e)),
    };
    this.write(next);
    return next;
  }

  /** Back to the configuration that ran before the one on probation (the seed file when none did). */
  rollBack(state: ConfigState, reason: string, pending?: PendingEvent): ConfigState {
    const p = state.probation;
    if (!p) return state;
    if (p.secrets) {
      // The previous values back first: a crash before the state is written repeats this.
      if (existsSync(this.previousSecretsFile)) {
        const previous = readFileSync(this.previousSecretsFile, 'utf8');
        writeFileDurable(this.secretsFile, previous);
      }
      const next: ConfigState = { ...state, probation: undefined, pending: pending ? [...state.pending, pending] : state.pending };
      this.write(next);
      rmSync(this.previousSecretsFile, { force: true });
      return next;
    }
    const next: ConfigState = {
      ...state,
      running: p.previous,
      probation: undefined,
      entries: state.entries.map((e) => (e.seq === p.seq ? { ...e, status: 'rolled_back' as const, reason } : e)),
      pending: pending ? [...state.pending, pending] : state.pending,
    };
    this.write(next);
    return next;
  }

  /** Keeps the last `keep` entries (and always the running and last good ones); removes the other files. */
  private prune(state: ConfigState): ConfigState {
    const keepSeqs = new Set(state.entries.slice(-this.keep).map((e) => e.seq));
    for (const s of [state.running, state.lastGood, state.probation?.previous ?? null]) if (s !== null) keepSeqs.add(s);
    const entries = state.entries.filter((e) => keepSeqs.has(e.seq));
    const next = entries.length === state.entries.length ? state : { ...state, entries };
    // The state first: a crash between the two leaves a file no entry names (removed next time), never the reverse.
    if (next !== state) this.write(next);
    for (const name of readdirSync(this.dir)) {
      const m = /^compound-(\d+)\.yaml$/.exec(name);
      if (m && !keepSeqs.has(Number(m[1]))) rmSync(join(this.dir, name), { force: true });
    }
    return next;
  }

  /** Secrets set by the platform (name → value); empty when none. */
  readSecrets(): Record<string, string> {
    if (!existsSync(this.secretsFile)) return {};
    const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(readFileSync(this.secretsFile, 'utf8')));
    // Never echo the content: it is secret values.
    if (!parsed.success) throw new Error(`${this.secretsFile} is not a map of secret names to strings`);
    return parsed.data;
  }

  /** Adds or replaces secrets (0600, atomic); returns the names now set here. */
  writeSecrets(values: Record<string, string>): string[] {
    this.ensureDir();
    const merged = { ...this.readSecrets(), ...values };
    writeFileDurable(this.secretsFile, `${JSON.stringify(merged, null, 2)}\n`);
    return Object.keys(merged).sort();
  }
}
