/**
 * A stand-in for the AlarmManager in perimeter tests: records every raise and clear, and
 * keeps which conditions are active, keyed like the manager (`kind|device|point`).
 */
import type { Alarm, AlarmCondition, AlarmSink } from '../../gateway/alarms/types.js';
import type { EventSource } from '../../gateway/core/events.js';

export interface SinkCall {
  op: 'raise' | 'clear';
  kind: string;
  device: string;
  priority?: string;
  data?: Record<string, unknown>;
  /** performance.now() of the call, for latency measurements. */
  at: number;
}

export class FakeAlarmSink implements AlarmSink {
  readonly calls: SinkCall[] = [];
  readonly active = new Map<string, AlarmCondition>();
  /** Called synchronously on every raise (benchmarks timestamp here). */
  onRaise: ((c: AlarmCondition) => void) | undefined;

  raise(c: AlarmCondition): Alarm {
    const at = performance.now();
    this.onRaise?.(c);
    this.calls.push({ op: 'raise', kind: c.kind, device: c.source.device, priority: c.priority, ...(c.data ? { data: c.data } : {}), at });
    this.active.set(key(c.kind, c.source), c);
    return {
      id: `fake-${this.calls.length}`,
      key: key(c.kind, c.source),
      kind: c.kind,
      source: c.source,
      priority: c.priority ?? 'high',
      state: 'raised',
      active: true,
      count: 1,
      raisedAt: Date.now(),
      lastAt: Date.now(),
      data: c.data ?? {},
      media: [],
    };
  }

  clear(kind: string, source: EventSource): Alarm | undefined {
    this.calls.push({ op: 'clear', kind, device: source.device, at: performance.now() });
    this.active.delete(key(kind, source));
    return undefined;
  }

  isActive(kind: string, device: string): boolean {
    return this.active.has(key(kind, { device }));
  }

  raises(kind?: string, device?: string): SinkCall[] {
    return this.calls.filter(
      (c) => c.op === 'raise' && (kind === undefined || c.kind === kind) && (device === undefined || c.device === device),
    );
  }

  /** `raise zone.alarm beam-1`, `clear zone.fault fence-1`: compact for toEqual. */
  log(): string[] {
    return this.calls.map((c) => `${c.op} ${c.kind} ${c.device}`);
  }

  reset(): void {
    this.calls.length = 0;
  }
}

const key = (kind: string, s: EventSource) => `${kind}|${s.device}|${s.point ?? ''}`;
