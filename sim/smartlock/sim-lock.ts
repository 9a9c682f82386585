/**
 * One simulated smart lock: a real MQTT.js client of the embedded broker speaking the
 * documented local scheme (drivers/smartlock/README.md) with its own credential, its own
 * credential list, a door, a battery and a tamper switch. It decides access itself, as a
 * real lock does when the gateway or the uplink is down.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { TimerHandle, Timers } from '../../gateway/core/clock.js';
import type { Logger } from '../../gateway/core/log.js';
import {
  encodeCommandResult,
  encodeEvent,
  encodeState,
  encodeStatus,
  parseLockCommand,
  type Encoded,
} from '../../drivers/smartlock/codec.js';
import { lockTopics } from '../../drivers/smartlock/topics.js';
import type { CredentialKind, LockCommand, LockEvt } from '../../drivers/smartlock/types.js';
import { CredentialStore, type StoredCredential, type Decision } from './credentials.js';
import { between, type Random } from './random.js';

export interface SimLockOptions {
  id: string;
  password: string;
  url: string;
  timers: Timers;
  random: Random;
  /** Wall clock for validity windows and command expiry. */
  now: () => number;
  heartbeatMs: number;
  reconnectPeriodMs: number;
  /** Multiplies every simulated human delay (door opening, walking through); <1 in tests. */
  timeScale: number;
  log: Logger;
  credentials?: StoredCredential[];
  fw?: string;
}

/** Below this the lock reports battery_low (once per crossing). */
export const BATTERY_LOW_AT = 20;
/** Events kept while disconnected and sent on reconnect, as a real lock's offline log. */
const OFFLINE_LOG_MAX = 100;

export class SimLock extends EventEmitter<{ connected: []; command: [LockCommand] }> {
  readonly id: string;
  readonly credentials: CredentialStore;
  readonly topics;
  locked = true;
  door: 'open' | 'closed' = 'closed';
  battery: number;
  tamper = false;
  private client: MqttClient | undefined;
  private forcedOffline = false;
  private eventCounter = 0;
  private readonly offlineLog: Encoded[] = [];
  private heartbeat: TimerHandle | undefined;
  private readonly pendingTimers = new Set<TimerHandle>();
  private stopped = false;

  constructor(private readonly opts: SimLockOptions) {
    super();
    this.id = opts.id;
    this.topics = lockTopics(opts.id);
    this.credentials = new CredentialStore();
    for (const c of opts.credentials ?? []) this.credentials.set(c);
    this.battery = between(opts.random, 60, 100);
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Connects (emitting `connected` on each CONNACK) and keeps retrying in the background. */
  start(): void {
    this.stopped = false;
    this.connect();
    this.heartbeat = this.opts.timers.setInterval(() => this.connected && this.sendState(), this.opts.heartbeatMs);
  }

  private connect(): void {
    const will = { ...encodeStatus(this.id, { state: 'offline', reason: 'connection_lost' }), qos: 1 as const, retain: true };
    const client = mqtt.connect(this.opts.url, {
      clientId: this.id,
      username: this.id,
      password: this.opts.password,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      resubscribe: false,
      reconnectPeriod: this.opts.reconnectPeriodMs,
      connectTimeout: 5000,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain },
    });
    this.client = client;
    client.on('connect', () => {
      this.publish(encodeStatus(this.id, { state: 'online', ...(this.opts.fw ? { fw: this.opts.fw } : {}) }), true);
      this.sendState();
      client.subscribe(this.topics.cmd, { qos: 1 });
      for (const e of this.offlineLog.splice(0)) this.publish(e);
      this.emit('connected');
    });
    client.on('message', (topic, payload) => this.onCommand(topic, payload));
    // Refusals and resets are expected in a simulation (and asserted by tests): log quietly.
    client.on('error', (err) => this.opts.log.debug({ lock: this.id, err: err.message }, 'sim lock client error'));
  }

  private publish(e: Encoded, retain = false): void {
    this.client?.publish(e.topic, e.payload, { qos: 1, retain });
  }

  private sendState(): void {
    this.publish(encodeState(this.id, { locked: this.locked, door: this.door, battery: this.battery, tamper: this.tamper }), true);
  }

  private sendEvent(e: LockEvt): void {
    const encoded = encodeEvent(this.id, { eid: `${this.id}-${++this.eventCounter}`, ts: new Date(this.opts.now()).toISOString(), ...e });
    if (this.connected) this.publish(encoded);
    else if (this.offlineLog.push(encoded) > OFFLINE_LOG_MAX) this.offlineLog.shift();
  }

  private later(ms: number, fn: () => void): void {
    const h = this.opts.timers.setTimeout(
      () => {
        this.pendingTimers.delete(h);
        if (!this.stopped) fn();
      },
      Math.max(1, Math.round(ms * this.opts.timeScale)),
    );
    this.pendingTimers.add(h);
  }

  // ---- what people do at the door ------------------------------------------------

  /** A card is swiped or a PIN typed; the lock decides from its own list. */
  present(kind: CredentialKind, value: string, opts: { walkIn?: boolean } = {}): Decision {
    const d = this.credentials.check(kind, value, this.opts.now());
    // The lock reports what was presented; the gateway masks it before it leaves the box.
    this.sendEvent({
      type: 'unlock',
      result: d.granted ? 'granted' : 'denied',
      method: kind,
      credential: value,
      ...(d.granted ? {} : { reason: d.reason }),
    });
    if (d.granted) this.unlockFor(5000, opts.walkIn ?? true);
    return d;
  }

  private unlockFor(ms: number, walkIn: boolean): void {
    this.locked = false;
    this.sendState();
    if (walkIn) {
      this.later(between(this.opts.random, 800, 2000), () => this.setDoor('open'));
      this.later(between(this.opts.random, 3000, 6000), () => this.setDoor('closed'));
    }
    this.later(ms + (walkIn ? 6000 : 0), () => {
      this.locked = true;
      this.sendState();
    });
  }

  setDoor(door: 'open' | 'closed'): void {
    if (this.door === door) return;
    this.door = door;
    this.sendEvent({ type: 'door', door });
    this.sendState();
  }

  setTamper(active: boolean): void {
    this.tamper = active;
    this.sendEvent({ type: 'tamper', active });
    this.sendState();
  }

  setBattery(level: number): void {
    const was = this.battery;
    this.battery = Math.max(0, Math.min(100, Math.round(level)));
    if (was >= BATTERY_LOW_AT && this.battery < BATTERY_LOW_AT) this.sendEvent({ type: 'battery_low', level: this.battery });
    this.sendState();
  }

  /** Sends anything at all, for bad-input tests. */
  publishRaw(topic: string, payload: string | Buffer, retain = false): void {
    this.client?.publish(topic, payload, { qos: 1, retain });
  }

  // ---- commands from the gateway -------------------------------------------------

  private onCommand(topic: string, payload: Buffer): void {
    const parsed = parseLockCommand(topic, payload, { device: this.id });
    if (!parsed.ok) {
      if (parsed.cid) this.answer({ cid: parsed.cid, ok: false, code: 'invalid', message: parsed.error.message.slice(0, 200) });
      return;
    }
    const cmd = parsed.value;
    this.emit('command', cmd);
    if (cmd.expires && this.opts.now() > Date.parse(cmd.expires)) return this.answer({ cid: cmd.cid, ok: false, code: 'expired' });
    switch (cmd.op) {
      case 'open':
        this.sendEvent({ type: 'unlock', result: 'granted', method: 'remote' });
        this.unlockFor((cmd.seconds ?? 5) * 1000, false);
        return this.answer({ cid: cmd.cid, ok: true });
      case 'credential.set': {
        const { credentialId, kind, value, validFrom, validTo } = cmd;
        if (!this.credentials.set({ credentialId, kind, value, validFrom, validTo }))
          return this.answer({ cid: cmd.cid, ok: false, code: 'storage_full' });
        return this.answer({ cid: cmd.cid, ok: true });
      }
      case 'credential.revoke':
        if (!this.credentials.revoke(cmd.credentialId))
          return this.answer({ cid: cmd.cid, ok: false, code: 'unknown_credential', message: `no credential ${cmd.credentialId}` });
        return this.answer({ cid: cmd.cid, ok: true });
    }
  }

  private answer(r: Parameters<typeof encodeCommandResult>[1]): void {
    this.publish(encodeCommandResult(this.id, r));
  }

  // ---- connectivity --------------------------------------------------------------

  /** Pulls the plug: the TCP connection dies without DISCONNECT, so the broker fires the will. */
  async goOffline(): Promise<void> {
    const client = this.client;
    if (!client || this.forcedOffline) return;
    this.forcedOffline = true;
    this.client = undefined;
    client.options.reconnectPeriod = 0;
    client.stream?.destroy();
    await client.endAsync(true).catch(() => undefined);
  }

  goOnline(): void {
    if (!this.forcedOffline || this.stopped) return;
    this.forcedOffline = false;
    this.connect();
  }

  get isForcedOffline(): boolean {
    return this.forcedOffline;
  }

  /** A clean shutdown: says offline (retained) and disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.heartbeat?.cancel();
    for (const h of this.pendingTimers) h.cancel();
    this.pendingTimers.clear();
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected)
      await client
        .publishAsync(this.topics.status, JSON.stringify({ state: 'offline', reason: 'shutdown' }), { qos: 1, retain: true })
        .catch(() => undefined);
    await client.endAsync(!client.connected).catch(() => undefined);
  }
}
