/**
 * A real Prometheus for tests (Debian's `prometheus` package): started on a free loopback
 * port with a generated prometheus.yml that scrapes the given targets every second, its TSDB
 * in a temp dir; queried through its HTTP API (`/api/v1/query`).
 *
 * Fails loudly when /usr/bin/prometheus (or GATEHOUSE_PROMETHEUS) is missing: a metrics test
 * that skips proves nothing. `.ci/run` installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mosquitto.js';

export const PROMETHEUS_BIN = process.env.GATEHOUSE_PROMETHEUS ?? '/usr/bin/prometheus';

export function requirePrometheus(): string {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(
      `Prometheus is not installed at ${PROMETHEUS_BIN}. The metrics tests scrape with a real one: ` +
        'install it with `sudo apt-get install -y prometheus` (the .ci/run script does), or point GATEHOUSE_PROMETHEUS at the binary.',
    );
  }
  return PROMETHEUS_BIN;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export class Prometheus {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly url: string,
  ) {
    const collect = (b: Buffer) => {
      this.output += b.toString();
      if (this.output.length > 100_000) this.output = this.output.slice(-50_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
  }

  /** Starts Prometheus scraping `targets` (host:port) every second, and waits until it is ready. */
  static async start(targets: string[], job = 'gatehouse'): Promise<Prometheus> {
    const bin = requirePrometheus();
    const dir = mkdtempSync(join(tmpdir(), 'gh-prometheus-'));
    const port = await freePort();
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 900ms',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      `  - job_name: ${job}`,
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const child = spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const p = new Prometheus(child, dir, `http://127.0.0.1:${port}`);
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`prometheus ${exited} during start-up:\n${p.output}`);
      try {
        const r = await fetch(`${p.url}/-/ready`);
        if (r.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus not ready within 30 s:\n${p.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return p;
  }

  log(): string {
    return this.output;
  }

  /** An instant PromQL query; its vector as samples. Throws with Prometheus's own error. */
  async query(promql: string): Promise<PromSample[]> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await r.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error ?? r.status}`);
    if (body.data!.resultType !== 'vector') throw new Error(`PromQL ${promql}: a ${body.data!.resultType}, not a vector`);
    return body.data!.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  /** The scrape targets as Prometheus sees them (health, last error). */
  async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
    const r = await fetch(`${this.url}/api/v1/targets`);
    const body = (await r.json()) as { data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] } };
    return body.data.activeTargets;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
        this.child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        this.child.kill('SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
