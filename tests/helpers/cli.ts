import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = resolve(ROOT, 'bin/gatehouse.js');

/** The CLI runs from dist/: fail loudly rather than test stale or missing output. */
export function requireBuild(): void {
  if (!existsSync(resolve(ROOT, 'dist/gateway/cli.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does this)');
  }
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  requireBuild();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  requireBuild();
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
