/**
 * Access control end to end: a Gateway with two OSDP readers (secure channel, per-reader
 * keys) on a real socat pseudo-terminal line, the simulated readers and door on the far
 * end, and a real Mosquitto as the district platform.
 *
 * The platform syncs credentials (chunked snapshot, then a delta); then the uplink goes
 * down (broker stopped) and the door keeps deciding: a resident walks in, an expired and a
 * revoked card are refused, a tailgater holds the door, the door is forced, a reader is
 * tampered with and unplugged. When the broker is back every event arrives, in order,
 * marked as decided offline, each valid against docs/asyncapi.yaml, with no card number.
 *
 * On the shared rig (tests/helpers/rig.ts): a Mosquitto with persistence and a platform
 * with a persistent session, so what the gateway sends while it reconnects is queued for it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedReaders, type SimulatedReaders } from '../../sim/osdp/index.js';
import { createPtyPair, type PtyPair } from '../helpers/pty.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { waitFor } from '../helpers/wait.js';

const ALICE = '1A2B3C4'; // 26-bit cards: 7 hex digits
const BOB = '0BADF00';
const CAROL = '0C0FFEE';
const MALLORY = '3FFFFFF';
const DAVE = '0DA7E00'; // card + PIN

describe('access control end to end', () => {
  let rig: Rig;
  let pty: PtyPair;
  let sim: SimulatedReaders;
  const keyIn = randomBytes(16);
  const keyOut = randomBytes(16);

  /** What the gateway and the platform published, with a body (cleared retained states left out). */
  const messages = () => rig.platform.json();
  /** Events recorded in the outbox and not yet delivered (the uplink is down). */
  const recorded = (type: string) =>
    rig.gateway.outbox
      .scope('outbox')
      .prepare('SELECT body FROM events')
      .all()
      .filter((r) => (JSON.parse(String((r as { body: string }).body)) as { type: string }).type === type).length;
  const evts = (type?: string) => messages().filter((m) => m.topic.includes('/evt/') && (type === undefined || m.body.type === type));
  // Generous: right after the broker restart the gateway may still be draining its backlog.
  const command = (name: string, args: Record<string, unknown>) => rig.platform.command(name, args, { timeoutMs: 30_000 });
  const access = () => rig.family('access').service;

  beforeAll(async () => {
    pty = await createPtyPair();
    sim = await startSimulatedReaders({
      path: pty.b,
      baudRate: 115_200,
      readers: [
        { address: 1, key: keyIn },
        { address: 2, key: keyOut },
      ],
    });
    rig = await startRig({
      name: 'access-e2e',
      mosquitto: { persistence: true },
      // A persistent platform session: what the gateway sends while it reconnects is queued for it.
      platform: { clientId: 'platform-access', clean: false },
      secrets: { 'osdp.gate-in': keyIn.toString('hex'), 'osdp.gate-out': keyOut.toString('hex') },
      config: {
        compound: { id: 'access-court' },
        uplink: { keepaliveSeconds: 5, ackTimeoutMs: 2000, connectTimeoutMs: 2000, backoff: { minMs: 50, maxMs: 300 } },
        osdpBuses: [{ id: 'rs485-1', path: pty.a }],
        readers: [
          { id: 'gate-in', bus: 'rs485-1', address: 1 },
          { id: 'gate-out', bus: 'rs485-1', address: 2 },
        ],
        doors: [
          {
            id: 'main-gate',
            entryReader: 'gate-in',
            exitReader: 'gate-out',
            lock: { reader: 'gate-in', index: 0 },
            contact: { reader: 'gate-in', index: 0 },
            exitButton: { reader: 'gate-in', index: 1 },
            unlockMs: 3000,
            heldOpenMs: 1500,
          },
        ],
        access: { doorGroups: { residents: ['main-gate'] } },
      },
    });
    const online = (r: string) =>
      messages().some((m) => m.topic.endsWith(`/state/${r}`) && m.body.online === true && m.body.secure === true);
    await waitFor(() => online('gate-in') && online('gate-out'), 'both readers online over the secure channel', 20_000);
  }, 60_000);

  afterAll(async () => {
    await rig?.gateway.stop();
    await sim?.close();
    await pty?.stop();
    await rig?.stop();
  });

  it('syncs a chunked snapshot and a delta from the platform, and reports the version it holds', async () => {
    const lastYear = new Date(Date.now() - 365 * 86400_000).toISOString();
    const credentials = [
      { id: 'alice', card: ALICE, mode: 'card', groups: ['residents'] },
      { id: 'bob', card: BOB, mode: 'card', groups: ['residents'], validTo: lastYear },
      { id: 'carol', card: CAROL, mode: 'card', groups: ['residents'] },
      { id: 'dave', card: DAVE, pin: '4321', mode: 'card+pin', groups: ['residents'] },
    ];
    const first = await command('access.credentials.snapshot', { version: 7, chunk: 1, chunks: 2, credentials: credentials.slice(2) });
    expect(first).toMatchObject({ ok: true, result: { applied: false, received: 1, of: 2 } });
    const second = await command('access.credentials.snapshot', { version: 7, chunk: 0, chunks: 2, credentials: credentials.slice(0, 2) });
    expect(second).toMatchObject({ ok: true, result: { applied: true, version: 7 } });
    const revoke = await command('access.credentials.delta', { fromVersion: 7, toVersion: 8, changes: [{ op: 'revoke', id: 'carol' }] });
    expect(revoke).toMatchObject({ ok: true, result: { applied: true, version: 8 } });
    const resent = await command('access.credentials.delta', { fromVersion: 7, toVersion: 8, changes: [{ op: 'revoke', id: 'carol' }] });
    expect(resent).toMatchObject({ ok: true, result: { applied: false, version: 8 } });
    const gap = await command('access.credentials.delta', { fromVersion: 9, toVersion: 10, changes: [] });
    expect(gap).toMatchObject({ ok: false, error: { code: 'ACCESS_VERSION_MISMATCH', details: { current: 8 } } });
    await waitFor(
      () =>
        messages()
          .filter((m) => m.topic.endsWith('/state/access'))
          .at(-1)?.body.version === 8,
      'state/access at version 8',
    );
    expect(
      messages()
        .filter((m) => m.topic.endsWith('/state/access'))
        .at(-1)!.body,
    ).toMatchObject({ version: 8, count: 3 });
  });

  it('decides at the door with the uplink down, and delivers every event when it returns', async () => {
    await rig.broker.stop();
    await waitFor(() => rig.gateway.uplink?.status().connected === false, 'the gateway to notice the uplink is down');
    const before = evts().length;
    const door = sim.door(1);
    const reader = sim.reader(1);

    // A resident walks in: the lock releases within the grant window and the door cycles.
    expect(await reader.swipeAndWalk(ALICE)).toBe(true);
    await waitFor(() => door.history.some((h) => h.event === 'locked'), 'the gate to relock after the resident');
    // An expired card and a revoked one: the lock never releases.
    const releases = () => door.history.filter((h) => h.event === 'released').length;
    const released = releases();
    reader.swipe(BOB);
    reader.swipe(CAROL);
    reader.swipe(MALLORY);
    await waitFor(() => recorded('access.denied') >= 3 || undefined, 'three refusals recorded while the uplink is down');
    // Leaving through the exit reader, then a tailgater holding the door past heldOpenMs.
    sim.reader(2).swipe(ALICE);
    await door.walkThrough();
    await door.tailgate(2500);
    door.force();
    await waitFor(() => recorded('door.forced') >= 1 || undefined, 'the forced door recorded');
    door.shut();
    sim.reader(2).setTamper(true);
    sim.reader(2).unplug();
    await waitFor(
      () =>
        access().states().readers['gate-out'] && (access().states().readers['gate-out'] as { online: boolean }).online === false
          ? true
          : undefined,
      'the exit reader reported offline',
      10_000,
    );
    sim.reader(2).setTamper(false);
    sim.reader(2).plug();
    await waitFor(
      () => (access().states().readers['gate-out'] as { online: boolean }).online || undefined,
      'the exit reader back online',
      15_000,
    );
    expect(releases()).toBe(released + 1); // only the exit grant released the lock
    expect(evts().length).toBe(before); // nothing reached the platform while the broker was down

    await rig.broker.restart();
    const want = [
      'access.granted',
      'access.denied',
      'door.opened',
      'door.closed',
      'door.held_open',
      'door.forced',
      'reader.tamper',
      'reader.offline',
      'device.offline',
      'device.online',
    ];
    await waitFor(
      () =>
        want.every((t) =>
          evts(t).some(
            (m) => m.raw.includes('"active":false') || !['door.held_open', 'door.forced', 'reader.tamper', 'reader.offline'].includes(t),
          ),
        ),
      'every access event delivered after the uplink returned',
      20_000,
      () => [...new Set(evts().map((m) => m.body.type))],
    );

    const decisions = evts()
      .filter((m) => m.body.type === 'access.granted' || m.body.type === 'access.denied')
      .slice(-5);
    expect(
      decisions.map(
        (m) =>
          `${m.body.type as string}:${(m.body.data as { direction: string }).direction}:${(m.body.data as { reason?: string }).reason ?? ''}`,
      ),
    ).toEqual([
      'access.granted:in:',
      'access.denied:in:expired',
      'access.denied:in:revoked',
      'access.denied:in:unknown',
      'access.granted:out:',
    ]);
    for (const d of decisions) expect(d.body.data).toMatchObject({ door: 'main-gate', offline: true, by: 'gateway' });
    expect((decisions[0]!.body.data as { credential: string }).credential).toBe('****');

    // Every message valid; seq contiguous per class order; no card number anywhere.
    // What the gateway published (the platform's own command requests are on cmd/{name}).
    expect(rig.platform.invalid({ nonEmpty: true })).toEqual([]);
    for (const m of messages().filter((x) => !/\/cmd\/[^/]+$/.test(x.topic)))
      for (const card of [ALICE, BOB, CAROL, MALLORY]) expect(m.raw).not.toContain(card);
    const seqs = evts().map((m) => m.body.seq as number);
    const unique = [...new Set(seqs)].sort((a, b) => a - b);
    expect(unique.at(-1)! - unique[0]! + 1).toBe(unique.length);
  }, 90_000);

  it('a remote open from the platform releases the simulated lock', async () => {
    const released = sim.door(1).history.filter((h) => h.event === 'released').length;
    const answer = await command('door.open', { door: 'main-gate', seconds: 2 });
    expect(answer).toMatchObject({ ok: true, result: { door: 'main-gate', opened: true } });
    await waitFor(() => sim.door(1).history.filter((h) => h.event === 'released').length > released || undefined, 'the lock to release');
    const refused = await command('door.open', { door: 'no-such-door' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'DEVICE_UNKNOWN' } });
  });

  it('card + PIN over the keypad: a wrong PIN is refused, the right one opens', async () => {
    const decisions = () => evts().filter((m) => (m.body.data as { method?: string }).method === 'card+pin');
    const reader = sim.reader(1);
    // The remote open of the previous test may still hold the lock released.
    await waitFor(() => !sim.door(1).released || undefined, 'the lock to relock after the remote open');
    reader.swipe(DAVE);
    reader.typePin('1111#');
    await waitFor(() => decisions().length >= 1 || undefined, 'the wrong PIN decision at the platform');
    expect(decisions()[0]!.body).toMatchObject({
      type: 'access.denied',
      data: { reason: 'wrong_pin', credentialId: 'dave', offline: false },
    });
    const released = sim.door(1).history.filter((h) => h.event === 'released').length;
    reader.swipe(DAVE);
    reader.typePin('4321#');
    await waitFor(() => decisions().length >= 2 || undefined, 'the right PIN decision at the platform');
    expect(decisions()[1]!.body).toMatchObject({ type: 'access.granted', data: { credentialId: 'dave', method: 'card+pin' } });
    await waitFor(() => sim.door(1).history.filter((h) => h.event === 'released').length > released || undefined, 'the lock to release');
    for (const m of decisions()) expect(m.raw).not.toMatch(/4321|1111|0DA7E00/);
  });
});
