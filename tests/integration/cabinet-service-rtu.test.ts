/**
 * The cabinet service over a real serial line: a socat pty pair stands in for the RS-485
 * bus, the simulated cabinets (two RTU units) share one end and the gateway's ModbusBus
 * opens the other. Waits are on conditions, each bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CabinetConfig } from '../../config/schema.js';
import { systemClock } from '../../gateway/core/clock.js';
import type { CabinetService } from '../../gateway/charging/cabinet-service.js';
import { CABINET } from '../../drivers/cabinet/register-map.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';
import { cabinetProbes, testCabinetService } from '../helpers/cabinet-rig.js';

const POLL_MS = 200;

describe('CabinetService over Modbus RTU (socat pty, two units on one line)', () => {
  let dir: string;
  let pty: PtyPair;
  let sims: SimulatedCabinets;
  let outbox: Outbox;
  let service: CabinetService;

  const { find, run, port } = cabinetProbes(
    () => outbox,
    () => service,
  );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cabinet-rtu-'));
    pty = await createPtyPair();
    sims = await startSimulatedCabinets({
      rtu: {
        path: pty.b,
        baudRate: 115_200,
        units: [
          { id: 'north', unitId: 1, ports: 6 },
          { id: 'south', unitId: 2, ports: 4 },
        ],
      },
      tickMs: 0,
    });
    const clock = systemClock({ forceState: 'synced' });
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    const cabinets = [
      CabinetConfig.parse({ id: 'north', bus: { rtu: { path: pty.a, baudRate: 115_200 } }, unitId: 1, ports: 6, pollMs: POLL_MS }),
      CabinetConfig.parse({ id: 'south', bus: { rtu: { path: pty.a, baudRate: 115_200 } }, unitId: 2, ports: 4, pollMs: POLL_MS }),
    ];
    service = testCabinetService({
      cabinets,
      outbox,
      clock,
      busOptions: { timeoutMs: 200, retries: 1, deadAfter: 3, backoff: { minMs: 200, maxMs: 1000 } },
    });
    service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await sims?.stop();
    await pty?.stop();
    outbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads both units of the line online', async () => {
    await waitFor(
      () => find('device.online', (e) => e.source.device === 'north') && find('device.online', (e) => e.source.device === 'south'),
      'both units online',
      10_000,
    );
    expect(service.unit('north')!.portCount).toBe(6);
    expect(service.unit('south')!.portCount).toBe(4);
  });

  it('runs a session started by command on each unit, with meter values', async () => {
    sims.inject({ kind: 'plug', cabinet: 'north', port: 2, soc: 0.3 });
    sims.inject({ kind: 'plug', cabinet: 'south', port: 1, soc: 0.3 });
    await waitFor(() => port('north', 2)?.state === 'plugged' && port('south', 1)?.state === 'plugged', 'both bikes read plugged', 5000);
    const north = await run('charging.start', { cabinet: 'north', port: 2, sessionId: 7001 });
    expect(north).toMatchObject({ cabinet: 'north', port: 2, sessionId: 7001 });
    const south = await run('charging.start', { cabinet: 'south', port: 1, sessionId: 7002 });
    expect(south).toMatchObject({ cabinet: 'south', port: 1, sessionId: 7002 });
    expect(sims.cabinet('north').port(2).state).toBe('charging');
    await waitFor(
      () =>
        find('charging.session_started', (e) => e.data.sessionId === 7001) &&
        find('charging.session_started', (e) => e.data.sessionId === 7002),
      'both sessions started',
      5000,
    );
    const meter = await waitFor(
      () => {
        sims.step(60_000);
        return find('charging.meter', (e) => e.data.sessionId === 7001 && e.data.energyWh > 0);
      },
      'a meter value with energy on north',
      10_000,
    );
    expect(meter.data).toMatchObject({ cabinet: 'north', port: 2 });
  });

  it('cuts every port of the unit that smokes while the other unit on the line keeps being polled and charging', async () => {
    const north = sims.cabinet('north');
    const seen = north.accepted.length;
    sims.inject({ kind: 'smoke', cabinet: 'north' });
    await waitFor(
      () => {
        const after = north.accepted.slice(seen);
        return after.some((c) => c.kind === 'cabinetPower' && !c.on) && after.some((c) => c.kind === 'stop' && c.port === 2);
      },
      'north power cut and port 2 stopped',
      5000,
      () => north.accepted.slice(seen),
    );
    await waitFor(() => find('charging.fire', (e) => e.data.cabinet === 'north'), 'fire alarm on north', 5000);
    await waitFor(
      () => find('charging.session_stopped', (e) => e.data.sessionId === 7001 && e.data.reason === 'smoke'),
      'north session stopped for smoke',
      5000,
    );
    expect(north.ports.every((p) => p.state !== 'charging' && p.state !== 'finishing')).toBe(true);

    // The other unit on the same line: untouched, still polled, still charging.
    const before = service.unit('south')!.last!.at;
    await waitFor(() => service.unit('south')!.last!.at > before + 2 * POLL_MS, 'south still polled after the cut', 5000);
    expect(sims.cabinet('south').port(1).state).toBe('charging');
    expect(port('south', 1)?.state).toBe('charging');
    expect(find('charging.fire', (e) => e.data.cabinet === 'south')).toBeUndefined();
    expect(find('charging.session_stopped', (e) => e.data.sessionId === 7002)).toBeUndefined();
    expect(find('device.offline')).toBeUndefined();
  });

  it('a unit whose smoke register holds 2 becomes unsupervised and is cut, on the shared RTU line', async () => {
    const south = sims.cabinet('south');
    const seen = south.accepted.length;
    sims.inject({ kind: 'register', cabinet: 'south', address: CABINET.address + CABINET.smoke, raw: 2 });
    await waitFor(
      () => find('cabinet.unsupervised', (e) => e.source.device === 'south' && e.data.active === true),
      'south unsupervised',
      5000,
    );
    await waitFor(
      () => south.accepted.slice(seen).some((c) => c.kind === 'cabinetPower' && !c.on),
      'south cut',
      5000,
      () => south.accepted.slice(seen),
    );
    await waitFor(
      () => find('charging.session_stopped', (e) => e.data.sessionId === 7002 && e.data.reason === 'unsupervised'),
      'south session stopped as unsupervised',
      5000,
    );
    expect(find('device.protocol_fault', (e) => e.source.device === 'south')!.data).toMatchObject({
      field: 'smoke',
      register: '0x00F3',
      raw: 2,
    });
    expect(find('device.offline', (e) => e.source.device === 'south')).toBeUndefined();
  });
});
