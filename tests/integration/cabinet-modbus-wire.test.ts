/**
 * What goes on the wire to a cabinet, checked on the bytes (issue 13, Modbus): a TCP proxy
 * between the gateway's bus and the simulated cabinets hands every client chunk to the test,
 * which deframes the MBAP frames itself. Stop, enable/disable and the power cut go as FC 06
 * as the register map says, start and set-limit as FC 16; a unit answering exception 01 to
 * FC 06 gets FC 16 from then on; exception 06 (busy) is waited out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CabinetConfig } from '../../config/schema.js';
import { portControlAddress } from '../../drivers/cabinet/register-map.js';
import { decodeRequestPdu, type ModbusRequest } from '../../drivers/modbus/pdu.js';
import { TcpDeframer } from '../../drivers/modbus/tcp-frame.js';
import { systemClock } from '../../gateway/core/clock.js';
import type { CabinetService } from '../../gateway/charging/cabinet-service.js';
import { Outbox } from '../../gateway/outbox/outbox.js';
import { startSimulatedCabinets, type SimulatedCabinets } from '../../sim/cabinet/index.js';
import { cabinetProbes, testCabinetService } from '../helpers/cabinet-rig.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const POLL_MS = 150;
const IDS = ['lit', 'fc16', 'busy'] as const;

describe('cabinet Modbus writes on the wire (TCP, frames sniffed by a proxy)', () => {
  let dir: string;
  let sims: SimulatedCabinets;
  let outbox: Outbox;
  let service: CabinetService;
  const proxies = new Map<string, TcpProxy>();
  /** Every request frame the gateway sent, per cabinet, decoded from the sniffed bytes. */
  const wire = new Map<string, ModbusRequest[]>();
  const clock = systemClock({ forceState: 'synced' });
  const { find, run, port } = cabinetProbes(
    () => outbox,
    () => service,
  );
  const writes = (cab: string, from = 0) =>
    wire
      .get(cab)!
      .slice(from)
      .filter((r) => r.fc === 6 || r.fc === 16);

  const startCharging = async (cab: string, n: number) => {
    sims.inject({ kind: 'plug', cabinet: cab, port: n, soc: 0.3 });
    await waitFor(() => port(cab, n)?.state === 'plugged', `${cab} port ${n} plugged`);
    await run('charging.start', { cabinet: cab, port: n });
    sims.cabinet(cab).step(1000);
    await waitFor(() => port(cab, n)?.state === 'charging', `${cab} port ${n} charging`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cabinet-wire-'));
    sims = await startSimulatedCabinets({ tcp: IDS.map((id) => ({ id, ports: 4, port: 0, host: '127.0.0.1' })), tickMs: 0 });
    for (const id of IDS) {
      const proxy = await TcpProxy.start({ port: sims.tcpPort(id) });
      const deframer = new TcpDeframer();
      wire.set(id, []);
      proxy.tap = (b) => {
        for (const f of deframer.push(b)) wire.get(id)!.push(decodeRequestPdu(f.pdu));
      };
      proxies.set(id, proxy);
    }
    outbox = new Outbox({ file: join(dir, 'outbox.db'), clock, config: { checkpointIntervalMs: 0 } });
    const cabinets = IDS.map((id) =>
      CabinetConfig.parse({ id, bus: { tcp: { host: '127.0.0.1', port: proxies.get(id)!.port } }, unitId: 1, ports: 4, pollMs: POLL_MS }),
    );
    service = testCabinetService({
      cabinets,
      outbox,
      clock,
      busOptions: { timeoutMs: 300, retries: 0, deadAfter: 2, backoff: { minMs: 200, maxMs: 1000 } },
    });
    service.start();
    await waitFor(() => IDS.every((id) => find('device.online', (e) => e.source.device === id)), 'every cabinet online');
  });

  afterAll(async () => {
    await service?.stop();
    for (const p of proxies.values()) await p.close();
    await sims?.stop();
    outbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends stop, disable/enable and the power cut as FC 06, start and set-limit as FC 16', async () => {
    const from = wire.get('lit')!.length;
    await startCharging('lit', 1);
    await run('charging.set_limit', { cabinet: 'lit', port: 1, powerLimitW: 100 });
    await run('charging.stop', { cabinet: 'lit', port: 1 });
    await waitFor(() => port('lit', 1)?.state === 'plugged', 'port 1 read stopped');
    await run('charging.port_enable', { cabinet: 'lit', port: 2, enabled: false });
    await run('charging.port_enable', { cabinet: 'lit', port: 2, enabled: true });
    sims.inject({ kind: 'smoke', cabinet: 'lit' });
    await waitFor(() => writes('lit', from).some((w) => w.fc === 6 && w.address === 0x1000), 'the power cut on the wire');
    const base = portControlAddress(1);
    expect(writes('lit', from)).toEqual([
      { fc: 16, address: base, values: [expect.any(Number), expect.any(Number), 600, 480, 1] },
      { fc: 16, address: base + 2, values: [100, 0, 3] },
      { fc: 6, address: base + 4, value: 2 },
      { fc: 6, address: portControlAddress(2) + 4, value: 5 },
      { fc: 6, address: portControlAddress(2) + 4, value: 4 },
      { fc: 6, address: 0x1000, value: 1 },
    ]);
    expect(sims.cabinet('lit').powerOn).toBe(false);
  });

  it('falls back to FC 16 once for a unit that answers exception 01 to FC 06, and remembers it', async () => {
    sims.inject({ kind: 'noFc6', cabinet: 'fc16' });
    await startCharging('fc16', 1);
    const from = wire.get('fc16')!.length;
    await run('charging.stop', { cabinet: 'fc16', port: 1 });
    const stopAt = portControlAddress(1) + 4;
    expect(writes('fc16', from)).toEqual([
      { fc: 6, address: stopAt, value: 2 },
      { fc: 16, address: stopAt, values: [2] },
    ]);
    expect(sims.cabinet('fc16').accepted.at(-1)).toEqual({ kind: 'stop', port: 1 });
    await waitFor(() => port('fc16', 1)?.state === 'plugged', 'port 1 read stopped');
    const again = wire.get('fc16')!.length;
    await run('charging.port_enable', { cabinet: 'fc16', port: 3, enabled: false });
    expect(writes('fc16', again)).toEqual([{ fc: 16, address: portControlAddress(3) + 4, values: [5] }]);
  });

  it('waits out exception 06 (busy): the command succeeds, the cabinet stays online with no fault', async () => {
    await startCharging('busy', 2);
    const unit = service.unit('busy')!;
    sims.inject({ kind: 'busy', cabinet: 'busy', count: 2 });
    const res = await run('charging.stop', { cabinet: 'busy', port: 2 });
    expect(res).toMatchObject({ cabinet: 'busy', port: 2, stopped: true });
    expect(sims.cabinet('busy').busyNext).toBe(0);
    // A poll meeting a busy cabinet is not a failed poll either.
    sims.inject({ kind: 'busy', cabinet: 'busy', count: 3 });
    const at = unit.last!.at;
    await waitFor(() => unit.last!.at > at + 2 * POLL_MS, 'polled through the busy answers');
    expect(find('device.protocol_fault', (e) => e.source.device === 'busy')).toBeUndefined();
    expect(find('device.offline', (e) => e.source.device === 'busy')).toBeUndefined();
    expect(unit.online).toBe(true);
  });
});
