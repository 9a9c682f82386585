/**
 * Perimeter alarms end to end through the Gateway: a simulated 8-channel input module on
 * Modbus TCP (IR beams, a supervised fence, a tamper switch, an SOS pole, a siren relay),
 * a simulated SIA DC-09 panel sending AES-encrypted events over TCP, and a real Mosquitto
 * as the district platform. Every alarm goes through the one lifecycle: raised, acknowledged
 * by a command (with a note), cleared when the condition goes, closed; linkage sounds the
 * siren; a panel that falls silent becomes an offline alarm. Every message the gateway
 * publishes is valid against docs/asyncapi.yaml.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedInputModules, type SimulatedInputModules } from '../../sim/perimeter/index.js';
import { startSimulatedPanels, type SimulatedPanels } from '../../sim/dc09/index.js';
import { validateMessage } from '../helpers/asyncapi.js';
import { startRig, type Rig, type RigCompound } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';

const PANEL_KEY = randomBytes(32).toString('hex'); // AES-256
const ZONES = [
  { id: 'north-beam-1', channel: 0, type: 'perimeter', contact: 'NC' },
  { id: 'north-beam-2', channel: 1, type: 'perimeter', contact: 'NC' },
  { id: 'north-fence', channel: 2, type: 'perimeter', contact: 'NC' },
  { id: 'north-tamper', channel: 3, type: 'h24', contact: 'NC' },
  { id: 'gate-sos', channel: 4, type: 'panic', contact: 'NO' },
] as const;

describe('perimeter alarms end to end', () => {
  let rig: Rig;
  let modules: SimulatedInputModules;
  let panels: SimulatedPanels;
  const messages = () => rig.platform.json();

  const alarmEvents = (type: string, kind?: string) =>
    messages().filter(
      (m) =>
        m.topic.endsWith('/evt/alarm') && m.body.type === type && (kind === undefined || (m.body.data as { kind?: string }).kind === kind),
    );
  const command = (name: string, args: Record<string, unknown>) => rig.platform.command(name, args);
  const perimeter = () => rig.family('perimeter');

  beforeAll(async () => {
    modules = await startSimulatedInputModules({
      tcp: [{ id: 'wall-north', channels: 8, port: 0, host: '127.0.0.1' }],
      zones: ZONES.map((z) => ({ id: z.id, module: 'wall-north', channel: z.channel, contact: z.contact })),
    });
    const config: RigCompound = {
      compound: { id: 'perimeter-court' },
      uplink: { keepaliveSeconds: 5 },
      inputModules: [
        {
          id: 'wall-north',
          bus: { tcp: { host: '127.0.0.1', port: modules.tcpPort('wall-north') } },
          channels: 8,
          supervision: { table: 'input', address: 100 },
          outputs: { address: 0, count: 4 },
          pollMs: 100,
        },
      ],
      zones: ZONES.map((z) => ({
        id: z.id,
        module: 'wall-north',
        channel: z.channel,
        type: z.type,
        contact: z.contact,
        debounceMs: 0,
        ...(z.type === 'perimeter' ? { partition: 'north' } : {}),
      })),
      partitions: [{ id: 'north' }],
      outputs: [{ id: 'siren-north', module: 'wall-north', index: 0 }],
      linkage: [
        { when: { sources: ['north-beam-1', 'north-beam-2'] }, do: [{ output: 'siren-north', seconds: 2 }, { notify: 'console' }] },
      ],
      perimeter: { dc09: { host: '127.0.0.1', tcpPort: 0, udpPort: 0 } },
      alarmPanels: [
        { id: 'panel-b7', account: 'B7A1', keySecret: 'dc09.panel-b7', supervisionS: 1 },
        // An older panel that never reports restores: its alarms must be closable once handled.
        { id: 'panel-b8', account: 'B8A1', keySecret: 'dc09.panel-b7', supervisionS: 0, sendsRestores: false },
      ],
    };
    rig = await startRig({
      name: 'perimeter-e2e',
      config,
      secrets: { 'dc09.panel-b7': PANEL_KEY },
      platform: { clientId: 'platform-perimeter' },
    });
    expect(rig.family('dc09').ports?.tcpPort).toBeGreaterThan(0);
    panels = await startSimulatedPanels({
      host: '127.0.0.1',
      port: rig.family('dc09').ports!.tcpPort,
      protocol: 'tcp',
      panels: [
        { account: 'B7A1', key: PANEL_KEY, encrypted: true, periodicTestS: 0, format: 'ADM-CID' },
        { account: 'B8A1', key: PANEL_KEY, encrypted: true, periodicTestS: 0, format: 'SIA-DCS' },
      ],
    });
    await rig.platform.waitState('wall-north', (s) => s.online === true, 'the input module online');
  }, 60_000);

  afterAll(async () => {
    await panels?.stop();
    await rig?.stop();
    await modules?.stop();
  });

  it('a beam crossed while disarmed raises nothing; armed, it raises one alarm, sounds the siren, and goes through the lifecycle', async () => {
    modules.scenario.beam('north-beam-1').block();
    // Disarmed: the beam is broken but no alarm. The zone reports its state and nothing else.
    await waitFor(
      () => (perimeter().service.states().zones['north-beam-1'] as { state?: string } | undefined)?.state === 'alarm' || undefined,
      'the gateway to see the beam broken',
    );
    expect(alarmEvents('alarm.raised', 'zone.alarm')).toEqual([]);
    modules.scenario.beam('north-beam-1').restore();
    await waitFor(
      () => (perimeter().service.states().zones['north-beam-1'] as { state?: string }).state === 'normal' || undefined,
      'the beam back to normal',
    );

    const armed = await command('partition.arm', { partition: 'north' });
    expect(armed).toMatchObject({ ok: true });
    await waitFor(() => alarmEvents('partition.armed').length || undefined, 'partition.armed at the platform');

    modules.scenario.beam('north-beam-1').block();
    const raised = await waitFor(() => alarmEvents('alarm.raised', 'zone.alarm')[0], 'alarm.raised for the beam');
    const alarmId = (raised.body.data as { alarmId: string }).alarmId;
    expect(raised.body).toMatchObject({
      source: { device: 'north-beam-1' },
      data: { priority: 'high', state: 'raised', active: true, count: 1 },
    });
    await waitFor(() => modules.coil('wall-north', 0) || undefined, 'the siren on through linkage');

    // The same zone tripping again while the alarm is open is counted, not a new alarm.
    modules.scenario.beam('north-beam-1').restore();
    await waitFor(() => alarmEvents('alarm.cleared', 'zone.alarm').length || undefined, 'alarm.cleared');
    modules.scenario.beam('north-beam-1').block();
    await waitFor(
      () => (rig.gateway.alarms.manager.get(alarmId)?.count ?? 0) >= 2 || undefined,
      'the re-trigger counted on the open alarm',
    );
    expect(alarmEvents('alarm.raised', 'zone.alarm')).toHaveLength(1);

    // Close is refused while the beam is still broken; acknowledge with a note, restore, close.
    const early = await command('alarm.close', { alarmId });
    expect(early).toMatchObject({ ok: false, error: { code: 'ALARM_ACTIVE' } });
    const ack = await command('alarm.acknowledge', { alarmId, note: 'guard on the way' });
    expect(ack).toMatchObject({ ok: true });
    const again = await command('alarm.acknowledge', { alarmId });
    expect(again).toMatchObject({ ok: false, error: { code: 'ALARM_ACKNOWLEDGED' } });
    modules.scenario.beam('north-beam-1').restore();
    await waitFor(() => rig.gateway.alarms.manager.get(alarmId)?.state === 'cleared' || undefined, 'the alarm cleared');
    const closed = await command('alarm.close', { alarmId, note: 'cat on the wall' });
    expect(closed).toMatchObject({ ok: true });
    const closedAgain = await command('alarm.close', { alarmId });
    expect(closedAgain).toMatchObject({ ok: false, error: { code: 'ALARM_CLOSED' } });
    await waitFor(() => alarmEvents('alarm.closed', 'zone.alarm').length || undefined, 'alarm.closed at the platform');

    const lifecycle = messages()
      .filter(
        (m) =>
          m.topic.endsWith('/evt/alarm') &&
          String(m.body.type).startsWith('alarm.') &&
          (m.body.data as { alarmId?: string }).alarmId === alarmId,
      )
      .map((m) => m.body.type);
    expect(lifecycle[0]).toBe('alarm.raised');
    expect(lifecycle).toContain('alarm.acknowledged');
    expect(lifecycle.at(-1)).toBe('alarm.closed');
    // The second clear fell inside the 60 s flood-control window: the platform sees the
    // closed alarm's final count and state on alarm.closed instead of every flap.
    expect(lifecycle).toContain('alarm.cleared');
    expect(alarmEvents('alarm.closed', 'zone.alarm')[0]!.body.data).toMatchObject({
      count: 2,
      reason: 'operator',
      by: 'platform',
      note: 'cat on the wall',
    });
    const ackEvent = alarmEvents('alarm.acknowledged').find((m) => (m.body.data as { alarmId: string }).alarmId === alarmId)!;
    expect(ackEvent.body.data).toMatchObject({ by: 'platform', note: 'guard on the way' });
    await waitFor(() => !modules.coil('wall-north', 0) || undefined, 'the siren off after its seconds');
  }, 60_000);

  it('SOS and tamper alarm while disarmed; a cut fence is a fault', async () => {
    await command('partition.disarm', { partition: 'north' });
    modules.scenario.trip('gate-sos');
    modules.scenario.trip('north-tamper');
    modules.scenario.fence('north-fence').cut();
    await waitFor(() => alarmEvents('alarm.raised', 'zone.panic')[0], 'the SOS alarm');
    await waitFor(() => alarmEvents('alarm.raised', 'zone.tamper')[0], 'the tamper alarm');
    await waitFor(() => alarmEvents('alarm.raised', 'zone.fault')[0], 'the fence fault');
    expect(alarmEvents('alarm.raised', 'zone.panic')[0]!.body.data).toMatchObject({ priority: 'critical' });
    modules.scenario.trip('gate-sos', false);
    modules.scenario.trip('north-tamper', false);
    modules.scenario.fence('north-fence').repair();
  });

  it('an encrypted DC-09 burglary becomes an alarm; its restore clears it; a panel that is heard is not offline', async () => {
    const sent = await panels.panel('B7A1').alarm(15);
    expect(sent.answer).toBe('ACK');
    const raised = await waitFor(() => alarmEvents('alarm.raised', 'panel.burglary')[0], 'the panel burglary alarm');
    expect(raised.body).toMatchObject({ source: { device: 'panel-b7', point: 'zone-15' }, data: { priority: 'high' } });
    expect((await panels.panel('B7A1').restore(15)).answer).toBe('ACK');
    await waitFor(() => alarmEvents('alarm.cleared', 'panel.burglary')[0], 'the burglary cleared by the restore');
    // The burglary of a panel without restores is a one-shot report: closable without a restore.
    expect((await panels.panel('B8A1').alarm(3)).answer).toBe('ACK');
    const oneShot = await waitFor(
      () => alarmEvents('alarm.raised', 'panel.burglary').find((m) => (m.body.source as { device: string }).device === 'panel-b8'),
      'the one-shot panel alarm',
    );
    const closed = await command('alarm.close', { alarmId: (oneShot.body.data as { alarmId: string }).alarmId, note: 'checked on site' });
    expect(closed).toMatchObject({ ok: true });
    // A panel that is heard is not offline. (A silent panel raising panel.offline takes
    // supervisionS × 1.5 + 30 s; it is tested over real sockets in dc09-receiver.test.ts.)
    expect(alarmEvents('alarm.raised', 'panel.offline')).toEqual([]);
  });

  it('publishes only messages the AsyncAPI document describes', () => {
    const mine = messages().filter((m) => !/\/cmd\/[^/]+$/.test(m.topic));
    expect(mine.length).toBeGreaterThan(20);
    const invalid = mine.map((m) => ({ m, v: validateMessage(m.topic, m.raw) })).filter((x) => !x.v.ok);
    expect(invalid.map((x) => `${x.m.topic}: ${x.m.raw.slice(0, 160)} → ${x.v.errors.slice(0, 2).join('; ')}`)).toEqual([]);
  });

  it('stopping the gateway while linkage holds the siren on switches it off', async () => {
    await command('partition.arm', { partition: 'north' });
    modules.scenario.beam('north-beam-2').block();
    await waitFor(() => modules.coil('wall-north', 0) || undefined, 'the siren on for the second beam');
    await rig.gateway.stop();
    expect(modules.coil('wall-north', 0)).toBe(false);
  });
});
