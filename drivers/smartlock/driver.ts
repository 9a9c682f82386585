/**
 * The driver for ONE smart lock. It speaks the local topic scheme through a tiny transport
 * (publish + subscribe: the embedded broker in production, an in-memory bus in unit
 * tests) and never touches MQTT.js, SQLite or HTTP. It turns what the lock says into
 * typed DeviceEvents (credentials masked) and offers the lock's commands as promises that
 * settle on the lock's answer, on a timeout, or when the lock goes offline.
 *
 * Online/offline: a lock is offline when it says so (its retained status, which is also
 * its last will), when the broker reports its connection gone, or when nothing at all
 * has been heard from it for `offlineAfterMs`. Anything heard from it brings it back.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle, Timers } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import { encodeCommand, parseLockMessage } from './codec.js';
import { maskCredential } from './mask.js';
import { lockTopic } from './topics.js';
import type { LockCommandBody, LockDeviceEvent, LockMessage, LockSnapshot } from './types.js';

export interface LockTransport {
  publish(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void> | void;
  subscribe(pattern: string, handler: (topic: string, payload: Buffer) => void): () => void;
}

export interface SmartLockDriverOptions {
  id: string;
  transport: LockTransport;
  clock: Clock;
  timers: Timers;
  offlineAfterMs: number;
  /** Longest wait for a command answer when the caller gives no earlier deadline. */
  commandTimeoutMs?: number;
  /** Correlation ids; injectable so tests can predict them. */
  newCid?: () => string;
}

export interface CommandOptions {
  /** Monotonic ms (clock.monotonic()) after which the answer is useless. */
  deadline?: number;
}

interface Pending {
  op: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: GatehouseError) => void;
  timer: TimerHandle;
}

/** How many recent event ids are remembered to drop QoS 1 redeliveries. */
const SEEN_EIDS = 64;

export class SmartLockDriver extends EventEmitter<{ event: [LockDeviceEvent] }> {
  readonly id: string;
  private readonly opts: SmartLockDriverOptions;
  private readonly commandTimeoutMs: number;
  private readonly newCid: () => string;
  private snap: LockSnapshot = { online: false, locked: null, door: 'unknown', battery: null, tamper: false, lastSeen: null };
  /** False until the lock is first heard from or declared offline: no "offline" before we know anything. */
  private known = false;
  private silence: TimerHandle | undefined;
  private unsubscribe: (() => void)[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly seenEids: string[] = [];
  private running = false;

  constructor(opts: SmartLockDriverOptions) {
    super();
    this.id = opts.id;
    this.opts = opts;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
    const prefix = randomBytes(4).toString('hex');
    let n = 0;
    this.newCid = opts.newCid ?? (() => `${prefix}-${(++n).toString(36)}`);
  }

  snapshot(): LockSnapshot {
    return { ...this.snap };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const kind of ['status', 'state', 'evt', 'cmd/res'] as const) {
      this.unsubscribe.push(this.opts.transport.subscribe(lockTopic(this.id, kind), (topic, payload) => this.handle(topic, payload)));
    }
    this.armSilence();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    this.silence?.cancel();
    this.failPending(new GatehouseError('DEVICE_OFFLINE', `lock ${this.id}: driver stopped`, { lock: this.id }));
  }

  /**
   * Forgets an event id seen earlier, when what it reported could not be kept (the gateway
   * failed to commit it and withheld the PUBACK): the lock's resend must not be dropped as
   * a redelivery.
   */
  forgetEid(eid: string): void {
    const i = this.seenEids.indexOf(eid);
    if (i >= 0) this.seenEids.splice(i, 1);
  }

  /** Called when the broker reports the lock's connection closed. */
  connectionLost(): void {
    this.goOffline('disconnected');
  }

  /** Feeds one message from the transport; public so a shared subscription can dispatch. */
  handle(topic: string, payload: Buffer): void {
    if (!this.running) return;
    const parsed = parseLockMessage(topic, payload, { device: this.id });
    // A malformed message still proves the lock is alive (only it may publish here).
    if (!parsed.ok) {
      this.emitEvent({ type: 'protocol_error', lock: this.id, code: parsed.error.code, message: parsed.error.message, topic });
      this.heard(false);
      return;
    }
    const msg = parsed.value;
    if (msg.kind === 'status' && msg.state === 'offline') {
      this.snap.lastSeen = this.opts.clock.now();
      this.goOffline(msg.reason ?? 'status_offline');
      return;
    }
    this.heard(this.apply(msg));
  }

  /** Updates the snapshot from one message; emits the device events; true if the snapshot changed. */
  private apply(msg: LockMessage): boolean {
    const s = this.snap;
    const before = JSON.stringify({ ...s, lastSeen: 0 });
    switch (msg.kind) {
      case 'status':
        break;
      case 'state':
        s.locked = msg.locked;
        s.door = msg.door;
        s.battery = msg.battery;
        s.tamper = msg.tamper;
        break;
      case 'cmd/res':
        this.settle(msg);
        break;
      case 'evt': {
        const e = msg.event;
        if (e.eid !== undefined) {
          if (this.seenEids.includes(e.eid)) break; // a QoS 1 redelivery
          this.seenEids.push(e.eid);
          if (this.seenEids.length > SEEN_EIDS) this.seenEids.shift();
        }
        if (e.type === 'unlock') {
          const granted = e.result === 'granted';
          const reason = granted ? undefined : (e.reason ?? 'unknown_reason');
          this.emitEvent({
            type: 'access',
            lock: this.id,
            granted,
            method: e.method,
            credential: maskCredential(e.method, e.credential),
            ...(reason ? { reason } : {}),
          });
          if (granted) s.locked = false;
        } else if (e.type === 'door') {
          s.door = e.door;
          this.emitEvent({ type: 'door', lock: this.id, door: e.door });
        } else if (e.type === 'tamper') {
          s.tamper = e.active;
          this.emitEvent({ type: 'tamper', lock: this.id, active: e.active });
        } else {
          s.battery = e.level;
          this.emitEvent({ type: 'battery_low', lock: this.id, level: e.level });
        }
        break;
      }
    }
    return JSON.stringify({ ...s, lastSeen: 0 }) !== before;
  }

  private heard(changed: boolean): void {
    this.snap.lastSeen = this.opts.clock.now();
    this.armSilence();
    if (!this.snap.online || !this.known) {
      this.known = true;
      this.snap.online = true;
      this.emitEvent({ type: 'online', lock: this.id });
      changed = true;
    }
    this.emitEvent({ type: 'state', lock: this.id, state: this.snapshot(), changed });
  }

  private goOffline(reason: string): void {
    if (!this.running) return;
    this.silence?.cancel();
    this.failPending(new GatehouseError('DEVICE_OFFLINE', `lock ${this.id} went offline (${reason})`, { lock: this.id, reason }));
    if (this.known && !this.snap.online) return;
    this.known = true;
    this.snap.online = false;
    this.emitEvent({ type: 'offline', lock: this.id, reason });
    this.emitEvent({ type: 'state', lock: this.id, state: this.snapshot(), changed: true });
  }

  private armSilence(): void {
    this.silence?.cancel();
    this.silence = this.opts.timers.setTimeout(() => this.goOffline('silence'), this.opts.offlineAfterMs);
  }

  private emitEvent(e: LockDeviceEvent): void {
    this.emit('event', e);
  }

  // ---- commands ------------------------------------------------------------------

  open(seconds?: number, opts: CommandOptions = {}): Promise<Record<string, unknown>> {
    return this.send({ op: 'open', ...(seconds !== undefined ? { seconds } : {}) }, opts);
  }

  setCredential(
    c: { credentialId: string; kind: 'card' | 'pin'; value: string; validFrom?: string | undefined; validTo?: string | undefined },
    opts: CommandOptions = {},
  ): Promise<Record<string, unknown>> {
    return this.send(
      {
        op: 'credential.set',
        credentialId: c.credentialId,
        kind: c.kind,
        value: c.value,
        ...(c.validFrom ? { validFrom: c.validFrom } : {}),
        ...(c.validTo ? { validTo: c.validTo } : {}),
      },
      opts,
    );
  }

  revokeCredential(credentialId: string, opts: CommandOptions = {}): Promise<Record<string, unknown>> {
    return this.send({ op: 'credential.revoke', credentialId }, opts);
  }

  private send(body: LockCommandBody, opts: CommandOptions): Promise<Record<string, unknown>> {
    const lock = this.id;
    if (!this.running) return Promise.reject(new GatehouseError('DEVICE_OFFLINE', `lock ${lock}: driver not running`, { lock }));
    if (this.known && !this.snap.online) return Promise.reject(new GatehouseError('DEVICE_OFFLINE', `lock ${lock} is offline`, { lock }));
    const now = this.opts.clock.monotonic();
    const waitMs = Math.min(this.commandTimeoutMs, opts.deadline !== undefined ? opts.deadline - now : Infinity);
    if (waitMs <= 0) return Promise.reject(new GatehouseError('CMD_TIMEOUT', `no time left to reach lock ${lock}`, { lock, op: body.op }));
    const cid = this.newCid();
    // The lock refuses a command it receives after this (if its clock is set).
    const expires = new Date(this.opts.clock.now() + waitMs).toISOString();
    const { topic, payload } = encodeCommand(lock, { ...body, cid, expires });
    return new Promise((resolve, reject) => {
      const timer = this.opts.timers.setTimeout(() => {
        this.pending.delete(cid);
        reject(
          new GatehouseError('CMD_TIMEOUT', `lock ${lock} did not answer ${body.op} within ${Math.round(waitMs)} ms`, {
            lock,
            op: body.op,
            cid,
          }),
        );
      }, waitMs);
      this.pending.set(cid, { op: body.op, resolve, reject, timer });
      Promise.resolve()
        .then(() => this.opts.transport.publish(topic, payload, { qos: 1 }))
        .catch((err: unknown) => {
          const p = this.pending.get(cid);
          if (!p) return;
          this.pending.delete(cid);
          p.timer.cancel();
          p.reject(
            new GatehouseError('DEVICE_OFFLINE', `cannot send ${body.op} to lock ${lock}: ${(err as Error).message}`, {
              lock,
              op: body.op,
            }),
          );
        });
    });
  }

  private settle(msg: Extract<LockMessage, { kind: 'cmd/res' }>): void {
    const p = this.pending.get(msg.cid);
    if (!p) return; // late (after the timeout) or not ours: nothing waits for it
    this.pending.delete(msg.cid);
    p.timer.cancel();
    if (msg.ok) p.resolve(msg.result ?? {});
    else
      p.reject(
        new GatehouseError('DEVICE_REFUSED', `lock ${this.id} refused ${p.op}: ${msg.code}${msg.message ? ` (${msg.message})` : ''}`, {
          lock: this.id,
          op: p.op,
          reason: msg.code,
        }),
      );
  }

  private failPending(err: GatehouseError): void {
    for (const [cid, p] of this.pending) {
      this.pending.delete(cid);
      p.timer.cancel();
      p.reject(err);
    }
  }
}
