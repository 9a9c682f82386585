/**
 * WS-Discovery: a real multicast Probe (the `onvif` package's, as `gatehouse discover
 * --onvif` sends it) finding simulated cameras listening on UDP 3702, with the credential
 * check against what a compound file says; and the same through the built CLI.
 *
 * Multicast leaves through the default interface and loops back to our own sockets, so
 * this needs a machine with a multicast-capable default route (any normal host or CI box).
 * Other test processes may run simulators on 3702 at the same time: every assertion looks
 * for our own cameras by their unique names.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsFrom, type LoadedConfig } from '../../config/load.js';
import { CompoundConfig } from '../../config/schema.js';
import { discoverOnvif } from '../../gateway/cameras/discover-command.js';
import { discoverCameras } from '../../drivers/onvif/discovery.js';
import { startSimulatedCameras, type SimulatedCamera } from '../../sim/camera/index.js';
import { spawnCli } from '../helpers/cli.js';

const tag = `t${process.pid}`;

describe('ONVIF discovery', () => {
  let sims: SimulatedCamera[];
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-onvif-'));

  beforeAll(async () => {
    sims = await startSimulatedCameras([
      { id: `${tag}-gate`, username: 'admin', password: 'gate-pw' },
      { id: `${tag}-yard`, username: 'admin', password: 'yard-pw' },
    ]);
  });
  afterAll(async () => {
    await Promise.all((sims ?? []).map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the simulated cameras with name, hardware and, with credentials, model and a verdict', async () => {
    const found = await discoverCameras({
      timeoutMs: 1000,
      credentials: (address) =>
        address === `127.0.0.1:${sims[0]!.httpPort}`
          ? { username: 'admin', password: 'gate-pw' }
          : address === `127.0.0.1:${sims[1]!.httpPort}`
            ? { username: 'admin', password: 'wrong' }
            : undefined,
    });
    const gate = found.find((c) => c.name === `SimCam ${tag}-gate`);
    const yard = found.find((c) => c.name === `SimCam ${tag}-yard`);
    expect(gate).toMatchObject({
      address: '127.0.0.1',
      port: sims[0]!.httpPort,
      xaddr: sims[0]!.xaddr,
      hardware: 'SimCam-HW1',
      model: 'SimCam 2000',
      manufacturer: 'Gatehouse',
      credentialsOk: true,
      endpoint: sims[0]!.endpoint,
    });
    expect(yard).toMatchObject({ port: sims[1]!.httpPort, credentialsOk: false, error: 'DEVICE_AUTH_FAILED' });
    expect(yard!.model).toBeUndefined();
  });

  it('a camera that is offline does not answer the probe', async () => {
    await sims[1]!.goOffline();
    try {
      const found = await discoverCameras({ timeoutMs: 600 });
      expect(found.some((c) => c.name === `SimCam ${tag}-gate`)).toBe(true);
      expect(found.some((c) => c.name === `SimCam ${tag}-yard`)).toBe(false);
    } finally {
      await sims[1]!.comeBack();
    }
  });

  const compound = (yardSecret: string) => ({
    compound: { id: 'maple-court' },
    gateway: { id: 'gw-1' },
    cameras: [
      { id: `${tag}-gate`, host: '127.0.0.1', port: sims[0]!.httpPort, username: 'admin' },
      { id: `${tag}-yard`, host: '127.0.0.1', port: sims[1]!.httpPort, username: 'admin', passwordSecret: 'cams.yard' },
      { id: `${tag}-gone`, host: '127.0.0.1', port: 9, username: 'admin' },
    ],
    secretsFile: 'secrets.yaml',
    _yard: yardSecret,
  });

  it('discover --onvif with a compound file: which configured cameras were found and whether their credentials work', async () => {
    const { _yard, ...raw } = compound('wrong');
    const loaded: LoadedConfig = {
      config: CompoundConfig.parse(raw),
      file: 'x.yaml',
      warnings: [],
      secrets: secretsFrom({ [`cameras.${tag}-gate`]: 'gate-pw', 'cams.yard': _yard }),
    };
    const lines: string[] = [];
    const status = await discoverOnvif({ loaded, timeoutMs: 1000, out: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(status).toBe(1);
    expect(text).toMatch(
      new RegExp(
        `127\\.0\\.0\\.1:${sims[0]!.httpPort}\\s+name "SimCam ${tag}-gate"\\s+hardware SimCam-HW1\\s+model Gatehouse SimCam 2000\\s+credentials ok\\s+\\(configured as ${tag}-gate\\)`,
      ),
    );
    expect(text).toMatch(
      new RegExp(
        `${tag}-yard\\s+127\\.0\\.0\\.1:${sims[1]!.httpPort}\\s+found, credentials REFUSED: check username "admin" and secret cams.yard`,
      ),
    );
    expect(text).toMatch(new RegExp(`${tag}-gone\\s+127\\.0\\.0\\.1:9\\s+NOT FOUND`));
    expect(text).not.toContain('gate-pw');
  });

  it('gatehouse discover --onvif --config FILE (built CLI)', async () => {
    const { _yard, ...raw } = compound('yard-pw');
    raw.cameras = raw.cameras.slice(0, 2);
    writeFileSync(join(dir, 'compound.json.yaml'), JSON.stringify(raw));
    writeFileSync(join(dir, 'secrets.yaml'), JSON.stringify({ [`cameras.${tag}-gate`]: 'gate-pw', cams: { yard: _yard } }), {
      mode: 0o600,
    });
    // Asynchronous: the simulators answer from this process, which must keep running meanwhile.
    const child = spawnCli(['discover', '--onvif', '--config', join(dir, 'compound.json.yaml')]);
    const r = { stdout: '', stderr: '', status: null as number | null };
    child.stdout!.on('data', (c: Buffer) => (r.stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (r.stderr += c.toString()));
    r.status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(r.stdout).toMatch(new RegExp(`${tag}-gate\\s+127\\.0\\.0\\.1:${sims[0]!.httpPort}\\s+found, credentials ok \\(SimCam 2000\\)`));
    expect(r.stdout).toMatch(new RegExp(`${tag}-yard\\s+127\\.0\\.0\\.1:${sims[1]!.httpPort}\\s+found, credentials ok`));
    expect(r.stdout + r.stderr).not.toMatch(/gate-pw|yard-pw/);
    expect(r.status).toBe(0);
  });
});
