/**
 * The pieces of a district run, shared by the district tests and `npm run bench:district`:
 * reference consumers as child processes (so a test can SIGKILL one mid-batch), real
 * gateway processes, and the fleet emulator in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { declaredEvents } from '../../gateway/events/asyncapi-gen.js';
import { Fleet, templatesFromExamples, type FleetOptions } from '../../sim/fleet/fleet.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The package root from the source (tests/district) and from the compiled copy (dist/tests/district), which the bench runs. */
function packageRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(resolve(dir, 'package.json'))) {
    if (dirname(dir) === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = dirname(dir);
  }
  return dir;
}
const ROOT = packageRoot();

function requireBuild(): void {
  if (!existsSync(resolve(ROOT, 'dist/sim/district/consume-main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm run test:district does this)');
  }
}

export interface Child {
  proc: ChildProcess;
  out: string;
  err: string;
  /** Resolves when a line matching `re` has been printed. */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
}

function child(script: string, args: string[], env: NodeJS.ProcessEnv): Child {
  requireBuild();
  const proc = spawn(process.execPath, [resolve(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const c: Child = {
    proc,
    out: '',
    err: '',
    line(re, timeoutMs = 60_000) {
      return new Promise((res, rej) => {
        const find = (): string | undefined => c.out.split('\n').find((l) => re.test(l));
        const hit = find();
        if (hit !== undefined) return res(hit);
        const t = setTimeout(() => {
          proc.stdout.off('data', on);
          rej(new Error(`${script} printed no line matching ${re} in ${timeoutMs} ms; stderr:\n${c.err.slice(-3000)}`));
        }, timeoutMs);
        const on = (): void => {
          const h = find();
          if (h === undefined) return;
          clearTimeout(t);
          proc.stdout.off('data', on);
          res(h);
        };
        proc.stdout.on('data', on);
      });
    },
  };
  proc.stdout.on('data', (b: Buffer) => (c.out = (c.out + b.toString()).slice(-200_000)));
  proc.stderr.on('data', (b: Buffer) => (c.err = (c.err + b.toString()).slice(-200_000)));
  return c;
}

/** A reference consumer process (sim/district/consume-main.ts) on the AMQP queue, or on an MQTT shared subscription. */
export async function startConsumer(
  o: { db: string; name: string } & ({ amqpUrls: string[]; queue: string; prefetch?: number } | { mqttUrl: string; group: string }),
): Promise<Child> {
  const args = ['--db', o.db, '--name', o.name];
  const env: NodeJS.ProcessEnv = {};
  if ('queue' in o) {
    args.push('--queue', o.queue, '--prefetch', String(o.prefetch ?? 256));
    env.DISTRICT_AMQP_URLS = o.amqpUrls.join(',');
  } else {
    args.push('--group', o.group);
    env.DISTRICT_MQTT_URL = o.mqttUrl;
  }
  const c = child('dist/sim/district/consume-main.js', args, env);
  await c.line(/"ready":true/);
  return c;
}

export interface GatewayChildOptions {
  data: string;
  /** The broker nodes, the one to try first first: the gateway's `uplink.urls`. */
  uplinks: string[];
  compound: string;
  gateway: string;
  user: string;
  password: string;
  /** Simulated smart locks on the gateway's embedded broker. */
  locks: number;
  /** Mean milliseconds between two resident actions on those locks (the gateway's event rate). */
  intervalMs: number;
}

/**
 * A real gateway process with simulated locks (tests/district/gateway-child.ts); resolves once
 * it is started. `finish()` stops the residents and resolves with the last seq once every event
 * up to it is acknowledged by the broker.
 */
export async function startGateway(o: GatewayChildOptions): Promise<Child & { finish(timeoutMs: number): Promise<number> }> {
  const c = child('dist/tests/district/gateway-child.js', [], {
    GH_DATA: o.data,
    GH_UPLINK: o.uplinks.join(','),
    GH_COMPOUND: o.compound,
    GH_GATEWAY: o.gateway,
    GH_USER: o.user,
    GH_PASSWORD: o.password,
    GH_LOCKS: String(o.locks),
    GH_INTERVAL_MS: String(o.intervalMs),
  });
  await c.line(/^ready$/);
  return Object.assign(c, {
    async finish(timeoutMs: number): Promise<number> {
      c.proc.kill('SIGUSR2');
      return Number((await c.line(/^delivered lastSeq=/, timeoutMs)).split('=')[1]);
    },
  });
}

/**
 * The broker nodes a gateway child said its uplink connected to, in order, each with the seq
 * its outbox would assign next at that moment (an event with that seq or higher was recorded
 * after the connection).
 */
export function uplinkNodes(c: Child): { url: string; nextSeq: number }[] {
  return c.out
    .split('\n')
    .filter((l) => l.startsWith('uplink '))
    .map((l) => {
      const [, url, next] = l.split(' ');
      return { url: url!, nextSeq: Number(next!.split('=')[1]) };
    });
}

/**
 * CPU seconds (user + system) a running child has used so far, from /proc (Linux; clock ticks
 * of 100 Hz, the kernel's USER_HZ). What the district test reports as the real gateways' cost.
 */
export function cpuSeconds(c: Child): number {
  const stat = readFileSync(`/proc/${c.proc.pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) in parentheses: utime is the 12th, stime the 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export async function stopChild(c: Child, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
  const p = c.proc;
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((res) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
    }, timeoutMs);
    p.once('exit', () => {
      clearTimeout(t);
      res();
    });
    p.kill(signal);
  });
}

/** The fleet emulator with the declared example envelopes, on real time. */
export async function makeFleet(o: Omit<FleetOptions, 'templates' | 'clock' | 'timers'>): Promise<Fleet> {
  return new Fleet({
    ...o,
    templates: templatesFromExamples(await declaredEvents()),
    clock: systemClock({ forceState: 'synced' }),
    timers: realTimers,
  });
}
