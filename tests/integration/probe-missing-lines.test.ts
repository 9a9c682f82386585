/**
 * The live check of Modbus units when the line itself is missing, on real transports: a
 * cabinet whose Modbus TCP endpoint refuses connections, and an input module and an OSDP
 * reader whose RS-485 adapter paths do not exist, fail at once (not after every unit's timeouts) with the advice
 * for a line, not for a unit.
 */
import { describe, expect, it } from 'vitest';
import { secretsFrom } from '../../config/load.js';
import { CompoundConfig } from '../../config/schema.js';
import { realTimers, systemClock } from '../../gateway/core/clock.js';
import { silentLogger } from '../../gateway/core/log.js';
import { FAMILIES } from '../../gateway/families/registry.js';
import { runProbes } from '../../gateway/probe/run-probes.js';
import { freePort } from '../helpers/mosquitto.js';

describe('serial and Modbus probes without a line', () => {
  it('an unreachable TCP endpoint and missing serial adapters fail at once with line advice', async () => {
    const port = await freePort();
    const config = CompoundConfig.parse({
      compound: { id: 'c' },
      gateway: { id: 'g' },
      cabinets: [
        { id: 'cab-1', bus: { tcp: { host: '127.0.0.1', port } }, unitId: 1, ports: 2 },
        { id: 'cab-2', bus: { tcp: { host: '127.0.0.1', port } }, unitId: 2, ports: 2 },
      ],
      inputModules: [{ id: 'wall', bus: { rtu: { path: '/dev/gatehouse-no-such-adapter' } }, channels: 8 }],
      osdpBuses: [{ id: 'rs485-9', path: '/dev/gatehouse-no-such-osdp' }],
      readers: [{ id: 'gate', bus: 'rs485-9', address: 1, secure: 'off' }],
    });
    const started = Date.now();
    const run = await runProbes({
      config,
      secrets: secretsFrom({}),
      dataDir: '/nonexistent',
      families: FAMILIES,
      clock: systemClock({ forceState: 'synced' }),
      timers: realTimers,
      log: silentLogger(),
      deviceTimeoutMs: 3000,
      progress: () => undefined,
    });
    const rows = run.families.flatMap((f) => f.results);
    expect(rows.map((r) => [r.id, r.ok, r.status])).toEqual([
      ['gate', false, 'NO LINE'],
      ['wall', false, 'NO LINE'],
      ['cab-1', false, 'UNREACHABLE'],
      ['cab-2', false, 'UNREACHABLE'],
    ]);
    expect(rows[1]!.advice).toBe(
      'plug in the RS-485 adapter (/dev/gatehouse-no-such-adapter) or correct the bus path in the compound file',
    );
    expect(rows[2]!.advice).toBe(`check that the device or its Modbus TCP gateway at 127.0.0.1:${port} is powered and on the network`);
    expect(rows[2]!.detail).toMatch(new RegExp(`^cannot connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(rows[0]!.advice).toMatch(/^plug in the RS-485 adapter of line rs485-9 \(\/dev\/gatehouse-no-such-osdp\)/);
    // The first failed open is the answer: well inside one device timeout for all four.
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
