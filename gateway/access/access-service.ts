/**
 * The access controller: OSDP readers on RS-485 lines, the doors they serve, and the local
 * decisions. A card or PIN arrives from a reader, the decider answers from the local
 * credential store, the lock output is commanded at once (before anything is recorded), and
 * the decision, door movements and alarms are recorded in the outbox. Nothing here waits on
 * the uplink: `offline` in an event only tells the platform the uplink was down when the
 * door decided.
 */
import type { DoorGrant } from '../families/family.js';
import type { AccessConfig, DoorConfig, OsdpBusConfig, ReaderConfig } from '../../config/schema.js';
import { cardHexFromRaw } from '../../drivers/osdp/card.js';
import type { BuzzerControl, LedControl, ReaderEvent, ReaderLinkStatus } from '../../drivers/osdp/types.js';
import type { Decider, Decision, LineReader, ReaderLine, ReaderLineFactory } from './service-types.js';
import type { Clock, Timers } from '../core/clock.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import type { AlarmSink } from '../alarms/types.js';
import { accessAlarmPriority } from './alarm-kinds.js';
import { decisionEvent, doorEvent, doorState, readerState, type Direction } from './access-events.js';
import { AccessRecorder } from './access-recorder.js';
import { DoorMachine, type Passage, type RelayCommand } from './door-machine.js';
import type { Entry } from './keypad-entry.js';
import { sendBuzzer, sendLed } from './reader-feedback.js';
import { ReaderHealth } from './reader-health.js';
import { passThroughPresence, type PresenceTracker } from '../presence/presence-policy.js';
import { AWAIT_PIN_LED, DENY_FEEDBACK, GRANT_FEEDBACK, decideEntry, lockOutput } from './entry-decisions.js';
import { announcedView, lineReaderOf, newReaderRuntime, type DoorRuntime, type ReaderRuntime } from './reader-runtime.js';

export type { Decider, Decision, DecisionRequest, LineReader, ReaderLine, ReaderLineFactory } from './service-types.js';

export interface AccessServiceOptions {
  buses: readonly OsdpBusConfig[];
  readers: readonly ReaderConfig[];
  doors: readonly DoorConfig[];
  access: AccessConfig;
  decider: Decider;
  lineFactory: ReaderLineFactory;
  /** The key for a reader's secure channel, if one is known (keys.ts). */
  readerKey(reader: ReaderConfig): Uint8Array | undefined;
  /** Whether the reader was already given its own key by us (secure: install done). */
  readerInstalled(reader: ReaderConfig): boolean;
  onKeySet(reader: ReaderConfig, key: Uint8Array): void;
  outbox: Pick<Outbox, 'record' | 'setState'>;
  /** Where forced, held-open, tamper, reader-offline, power-failure and fire-unlock conditions go (the alarm manager). */
  sink: AlarmSink;
  uplinkConnected(): boolean;
  /** Decides what of a reader's raw online/offline is announced (gateway/presence); default: everything. */
  presence?: PresenceTracker;
  clock: Clock;
  timers: Timers;
  log: Logger;
}

export class AccessService {
  private readonly lines = new Map<string, ReaderLine>();
  private readonly readers = new Map<string, ReaderRuntime>();
  /** bus id -> address -> reader */
  private readonly byAddress = new Map<string, Map<number, ReaderRuntime>>();
  private readonly doors = new Map<string, DoorRuntime>();
  private fireActive = false;
  /** Families told of each local grant (the `door-grants` capability: a swap cabinet's reader). */
  private readonly grantListeners = new Set<(g: DoorGrant) => void>();
  private running = false;
  private readonly recorder: AccessRecorder;
  /** Presence as announced, tamper, power, secure channel failures and installs (reader-health.ts). */
  private readonly health: ReaderHealth;

  constructor(private readonly opts: AccessServiceOptions) {
    this.recorder = new AccessRecorder({ outbox: opts.outbox, sink: opts.sink, log: opts.log });
    this.health = new ReaderHealth({ recorder: this.recorder, log: opts.log, onKeySet: (r, key) => opts.onKeySet(r, key) });
    const doorOf = new Map<string, { id: string; direction: Direction }>();
    for (const d of opts.doors) {
      doorOf.set(d.entryReader, { id: d.id, direction: 'in' });
      if (d.exitReader) doorOf.set(d.exitReader, { id: d.id, direction: 'out' });
    }
    for (const bus of opts.buses) {
      const onBus = opts.readers.filter((r) => r.bus === bus.id);
      if (onBus.length === 0) continue;
      const line = opts.lineFactory(
        bus,
        onBus.map((r) => this.lineReader(r)),
      );
      line.on('event', (e) => this.onReaderEvent(bus.id, e));
      this.lines.set(bus.id, line);
      const addresses = new Map<number, ReaderRuntime>();
      for (const cfg of onBus) {
        const served = doorOf.get(cfg.id);
        const pinTimeoutMs = opts.doors.find((d) => d.id === served?.id)?.pinTimeoutMs ?? 10_000;
        const rt = newReaderRuntime(cfg, line, served, {
          pinTimeoutMs,
          access: opts.access,
          clock: opts.clock,
          timers: opts.timers,
          presence: opts.presence ?? passThroughPresence,
          onEntry: (r, e) => this.onEntry(r, e),
          announce: (r, a) => this.health.announce(r, a),
        });
        addresses.set(cfg.address, rt);
        this.readers.set(cfg.id, rt);
      }
      this.byAddress.set(bus.id, addresses);
    }
    for (const cfg of opts.doors) {
      const machine = new DoorMachine({
        door: cfg.id,
        unlockMs: cfg.unlockMs,
        heldOpenMs: cfg.heldOpenMs,
        fireUnlock: cfg.fireUnlock,
        hasContact: cfg.contact !== undefined,
        timers: opts.timers,
        monotonic: () => opts.clock.monotonic(),
        relay: (cmd) => this.drive(cfg, cmd),
        emit: (e) => {
          const input = doorEvent(e);
          if (input.class === 'alarm') this.recorder.recordAlarm(input);
          else this.recorder.record(input);
          this.publishDoor(cfg.id);
        },
        passage: (p) => this.commitPassage(p),
      });
      this.doors.set(cfg.id, { cfg, machine });
    }
  }

  private lineReader(r: ReaderConfig): LineReader {
    return lineReaderOf(r, this.opts, this.opts.log);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const [id, line] of this.lines) {
      try {
        await line.start();
      } catch (err) {
        // One dead adapter must not keep the other lines (or the gateway) from running.
        this.opts.log.error({ bus: id, err: (err as Error).message }, 'OSDP line failed to start; it keeps retrying');
      }
    }
    for (const id of this.doors.keys()) this.publishDoor(id);
    this.opts.log.info({ lines: this.lines.size, readers: this.readers.size, doors: this.doors.size }, 'access service started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const d of this.doors.values()) d.machine.stop();
    for (const r of this.readers.values()) r.keypad.reset();
    for (const line of this.lines.values()) await Promise.resolve(line.stop()).catch(() => undefined);
  }

  door(id: string): DoorMachine {
    const d = this.doors.get(id);
    if (!d) throw new GatehouseError('DEVICE_UNKNOWN', `no door "${id}" in the compound file`, { door: id });
    return d.machine;
  }

  /** Whether the reader driving this door's lock is online (commands need it). */
  lockOnline(doorId: string): boolean {
    const d = this.doors.get(doorId);
    return d ? (this.readers.get(d.cfg.lock.reader)?.online ?? false) : false;
  }

  states(): { doors: Record<string, unknown>; readers: Record<string, unknown>; lines: Record<string, ReaderLinkStatus[]> } {
    return {
      doors: Object.fromEntries([...this.doors].map(([id, d]) => [id, doorState(d.machine.snapshot(), this.lockOnline(id))])),
      readers: Object.fromEntries([...this.readers].map(([id, r]) => [id, readerState(announcedView(r))])),
      lines: Object.fromEntries([...this.lines].map(([id, l]) => [id, l.status()])),
    };
  }

  /** A reader's link as its line sees it now, for the live check (gateway/access/probe.ts). */
  readerLink(id: string): { online: boolean; secure: boolean; problem?: string; identity?: unknown } | undefined {
    const rt = this.readers.get(id);
    if (!rt) return undefined;
    const link = rt.line.status().find((l) => l.address === rt.cfg.address);
    return {
      online: rt.online,
      secure: rt.secure,
      ...(rt.problem !== undefined ? { problem: rt.problem } : {}),
      ...(link?.identity ? { identity: link.identity } : {}),
    };
  }

  // --- reader events -------------------------------------------------------------------

  private onReaderEvent(bus: string, e: ReaderEvent): void {
    const rt = this.byAddress.get(bus)?.get(e.address);
    if (!rt) return;
    rt.lastSeen = this.opts.clock.now();
    switch (e.kind) {
      case 'card': {
        let card: string;
        try {
          card = cardHexFromRaw(e.bits, e.data);
        } catch (err) {
          return void this.opts.log.warn(
            { reader: rt.cfg.id, err: (err as Error).message },
            'reader sent a card read that does not hold its announced bits; ignored',
          );
        }
        return this.onCard(rt, card);
      }
      case 'keypad':
        return rt.keypad.keys(e.keys);
      case 'inputs':
        return this.onInputs(rt, e.inputs);
      case 'local-status':
        return this.health.localStatus(rt, e);
      case 'capabilities':
        return this.health.capabilities(rt, e);
      case 'online':
        return this.onOnline(rt, e.secure, e.identity as Record<string, unknown> | undefined);
      case 'offline':
        return this.onOffline(rt, e.reason);
      case 'secure-failed':
        return this.health.secureFailed(rt, e.reason);
      case 'key-set':
        return this.health.keySet(rt, e.key);
      case 'nak':
        this.opts.log.warn({ reader: rt.cfg.id, command: e.command, code: e.code }, 'reader refused a command');
        return;
      case 'outputs':
        return;
    }
  }

  /** The link came up: use it at once; whether it is announced is the presence policy's call. */
  private onOnline(rt: ReaderRuntime, secure: boolean, identity: Record<string, unknown> | undefined): void {
    rt.online = true;
    rt.problem = undefined;
    rt.secure = secure;
    // The lock may have lost its state while the link was down: say again what it should be.
    for (const d of this.doors.values()) if (d.cfg.lock.reader === rt.cfg.id) d.machine.reassert();
    rt.presence.observe(true, undefined, { secure, ...(identity ? { identity } : {}) });
    for (const d of this.doors.values()) if (d.cfg.lock.reader === rt.cfg.id) this.publishDoor(d.cfg.id);
  }

  private onOffline(rt: ReaderRuntime, reason: string): void {
    rt.online = false;
    rt.secure = false;
    rt.problem = reason;
    rt.keypad.reset();
    this.opts.log.warn({ reader: rt.cfg.id, reason }, 'reader offline');
    rt.presence.observe(false, reason);
    for (const d of this.doors.values()) if (d.cfg.lock.reader === rt.cfg.id) this.publishDoor(d.cfg.id);
  }

  private onInputs(rt: ReaderRuntime, inputs: boolean[]): void {
    const before = rt.inputs;
    rt.inputs = inputs;
    for (const d of this.doors.values()) {
      const { contact, exitButton } = d.cfg;
      if (contact && contact.reader === rt.cfg.id && inputs[contact.index] !== undefined) {
        const active = inputs[contact.index]!;
        d.machine.contact(contact.normallyClosed ? !active : active);
      }
      // A press is the edge, not the level: a stuck button opens the door once.
      if (exitButton && exitButton.reader === rt.cfg.id && inputs[exitButton.index] && before[exitButton.index] === false)
        d.machine.exitButton();
    }
    const fireNow = this.opts.access.fireInputs.some((p) => {
      const r = this.readers.get(p.reader);
      const v = r?.inputs[p.index];
      return v !== undefined && v === p.activeHigh;
    });
    if (fireNow !== this.fireActive) {
      this.fireActive = fireNow;
      this.opts.log.warn({ active: fireNow }, fireNow ? 'fire input active: unlocking egress doors' : 'fire input cleared');
      const priority = accessAlarmPriority('access.fire_unlock');
      this.recorder.recordAlarm({
        class: 'alarm',
        type: 'access.fire_unlock',
        source: { device: rt.cfg.id },
        data: { active: fireNow, priority },
      });
      for (const d of this.doors.values()) d.machine.fireInput(fireNow);
    }
  }

  // --- decisions -----------------------------------------------------------------------

  private onCard(rt: ReaderRuntime, card: string): void {
    if (!rt.door) return void this.opts.log.warn({ reader: rt.cfg.id }, 'card read on a reader that serves no door');
    const decision = this.opts.decider.decide({ door: rt.door.id, direction: rt.door.direction, card, now: this.opts.clock.now() });
    if (!decision.granted && decision.reason === 'pin_required') {
      rt.keypad.awaitPin(card);
      this.led(rt, AWAIT_PIN_LED);
      return;
    }
    this.act(rt, decision);
  }

  private onEntry(rt: ReaderRuntime, e: Entry): void {
    if (!rt.door) return;
    const base = { door: rt.door.id, direction: rt.door.direction, now: this.opts.clock.now() };
    this.act(rt, decideEntry(this.opts.decider, rt.pinGuesses, base, e));
  }

  /** Lock first, then tell the person, then record: the door never waits on the disk. */
  private act(rt: ReaderRuntime, decision: Decision): void {
    const door = rt.door!;
    if (decision.granted)
      this.door(door.id).grant({ credentialId: decision.credentialId ?? decision.credential, direction: door.direction, door: door.id });
    const feedback = decision.granted ? GRANT_FEEDBACK : DENY_FEEDBACK;
    this.led(rt, feedback.led);
    this.buzz(rt, feedback.buzz);
    this.recorder.record(
      decisionEvent({
        door: door.id,
        reader: rt.cfg.id,
        direction: door.direction,
        granted: decision.granted,
        reason: decision.reason,
        method: decision.method,
        credential: decision.credential,
        ...(decision.credentialId !== undefined ? { credentialId: decision.credentialId } : {}),
        offline: !this.opts.uplinkConnected(),
        ...(decision.antiPassback ? { antiPassback: decision.antiPassback } : {}),
      }),
    );
    if (decision.granted)
      this.tellGrant({ door: door.id, credentialId: decision.credentialId ?? decision.credential, offline: !this.opts.uplinkConnected() });
  }

  /** Subscribes to local grants; returns the unsubscribe. A listener that throws is logged, never the door's problem. */
  onGrant(listener: (g: DoorGrant) => void): () => void {
    this.grantListeners.add(listener);
    return () => this.grantListeners.delete(listener);
  }

  private tellGrant(g: DoorGrant): void {
    for (const l of this.grantListeners) {
      try {
        l(g);
      } catch (err) {
        this.opts.log.error({ door: g.door, err: (err as Error).message }, 'a door-grant listener failed');
      }
    }
  }

  private commitPassage(p: Passage): void {
    try {
      this.opts.decider.commitPassage({ ...p, now: this.opts.clock.now() });
    } catch (err) {
      this.opts.log.error({ door: p.door, err: (err as Error).message }, 'could not record a passage for anti-passback');
    }
  }

  // --- outputs and recording ---------------------------------------------------------

  /** Feedback within what the reader can do (reader-feedback.ts). */
  private led(rt: ReaderRuntime, led: LedControl): void {
    sendLed({ id: rt.cfg.id, address: rt.cfg.address, line: rt.line, capabilities: rt.capabilities }, led, this.opts.log);
  }

  private buzz(rt: ReaderRuntime, buzz: BuzzerControl): void {
    sendBuzzer({ id: rt.cfg.id, address: rt.cfg.address, line: rt.line, capabilities: rt.capabilities }, buzz, this.opts.log);
  }

  private drive(cfg: DoorConfig, cmd: RelayCommand): void {
    const rt = this.readers.get(cfg.lock.reader);
    if (!rt) return;
    const out = lockOutput(cfg, cmd);
    rt.line.output(rt.cfg.address, [out]).catch((err: unknown) => {
      const code = isGatehouseError(err) ? err.code : 'INTERNAL';
      this.opts.log.warn(
        { door: cfg.id, reader: rt.cfg.id, code, err: (err as Error).message },
        'lock output command failed; it is sent again when the reader is back',
      );
    });
  }

  private publishDoor(id: string): void {
    const d = this.doors.get(id);
    if (!d || !this.running) return;
    this.recorder.setState(id, doorState(d.machine.snapshot(), this.lockOnline(id)), 'door state');
  }
}
