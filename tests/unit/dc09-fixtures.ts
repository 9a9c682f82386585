/** Shared fakes for the DC-09 tests: an AlarmSink and an outbox that remember what they got. */
import type { Alarm, AlarmCondition, AlarmSink } from '../../gateway/alarms/types.js';
import type { AnyEventInput, EventInput, EventSource } from '../../gateway/core/events.js';
import { Dc09PanelConfig, Dc09ReceiverConfig } from '../../config/perimeter-schema.js';

export class FakeSink implements AlarmSink {
  readonly calls: (
    { op: 'raise'; condition: AlarmCondition } | { op: 'clear'; kind: string; source: EventSource; data?: Record<string, unknown> }
  )[] = [];
  readonly active = new Map<string, AlarmCondition>();
  raise(condition: AlarmCondition): Alarm {
    this.calls.push({ op: 'raise', condition });
    const key = `${condition.kind}|${condition.source.device}|${condition.source.point ?? ''}`;
    this.active.set(key, condition);
    return {
      id: key,
      key,
      kind: condition.kind,
      source: condition.source,
      priority: condition.priority ?? 'high',
      state: 'raised',
      active: true,
      count: 1,
      raisedAt: 0,
      lastAt: 0,
      data: condition.data ?? {},
      media: [],
    };
  }
  clear(kind: string, source: EventSource, data?: Record<string, unknown>): Alarm | undefined {
    this.calls.push(data ? { op: 'clear', kind, source, data } : { op: 'clear', kind, source });
    this.active.delete(`${kind}|${source.device}|${source.point ?? ''}`);
    return undefined;
  }
  /** Pure-logic tests: nothing to commit, so what the calls return is at once "committed". */
  committed<T>(fn: () => T): Promise<T> {
    return Promise.resolve(fn());
  }
  raised(kind?: string): AlarmCondition[] {
    return this.calls.flatMap((c) => (c.op === 'raise' && (!kind || c.condition.kind === kind) ? [c.condition] : []));
  }
  isActive(kind: string, device: string, point?: string): boolean {
    return this.active.has(`${kind}|${device}|${point ?? ''}`);
  }
}

export class FakeOutbox {
  /** Everything recorded but the panels' presence (device.online/offline), which has tests of its own. */
  readonly events: AnyEventInput[] = [];
  readonly presence: AnyEventInput[] = [];
  record(input: EventInput): Promise<unknown> {
    if (input.type === 'device.online' || input.type === 'device.offline') this.presence.push(input);
    else this.events.push(input);
    return Promise.resolve(input);
  }
}

export const KEY128 = '000102030405060708090a0b0c0d0e0f';
export const KEY256 = '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4';

export function panels(): Dc09PanelConfig[] {
  return [
    Dc09PanelConfig.parse({ id: 'panel-plain', account: '1234', supervisionS: 60 }),
    Dc09PanelConfig.parse({ id: 'panel-aes', account: 'AB12', keySecret: 'dc09.aes', supervisionS: 0 }),
    Dc09PanelConfig.parse({ id: 'panel-cid', account: '5678', keySecret: 'dc09.cid', supervisionS: 120 }),
  ];
}

export const SECRETS = { 'dc09.aes': KEY256, 'dc09.cid': KEY128 };

export const receiverConfig = (over: Record<string, unknown> = {}): Dc09ReceiverConfig =>
  Dc09ReceiverConfig.parse({ host: '127.0.0.1', ...over });
