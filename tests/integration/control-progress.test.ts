/**
 * The control socket's long operations (`probe`, the live device check): progress lines
 * reach the client while the daemon works, the answer is the last line, and a request that
 * arrived whole is no longer cut by the idle limit however long its work takes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer, controlRequest } from '../../gateway/control/control-socket.js';
import { silentLogger } from '../../gateway/core/log.js';

const IDLE_MS = 100;
let dir: string;
let server: ControlServer;
/** Released by the test: the handler's work lasts until then (longer than the idle limit). */
let release: () => void = () => undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-ctl-progress-'));
  server = new ControlServer({
    dataDir: dir,
    idleMs: IDLE_MS,
    log: silentLogger(),
    handlers: {
      slow: async (_req, io) => {
        io.progress('checking reader gate-in…');
        await new Promise<void>((r) => (release = r));
        io.progress('reader gate-in: OK');
        return { done: true };
      },
    },
  });
  await server.start();
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('control socket progress', () => {
  it('streams progress lines before the answer and outlives the idle limit once the request is in', async () => {
    const seen: string[] = [];
    const answer = controlRequest(dir, { op: 'slow' }, 10_000, (line) => {
      seen.push(line);
      // Work on past several idle limits before finishing: the socket must stay open.
      if (seen.length === 1) setTimeout(() => release(), IDLE_MS * 4);
    });
    expect(await answer).toEqual({ ok: true, result: { done: true } });
    expect(seen).toEqual(['checking reader gate-in…', 'reader gate-in: OK']);
  });

  it('answers plain clients as before: the last line is the answer', async () => {
    expect(await controlRequest(dir, { op: 'ping' })).toEqual({ ok: true, result: 'pong' });
  });
});
