/**
 * An in-memory publish/subscribe bus with MQTT wildcard matching and retained messages:
 * the transport of the lock driver in unit tests, where the broker would only add
 * sockets and timing. Delivery is synchronous, so a test reads in order of cause.
 */
import type { LockTransport } from './driver.js';

export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export class MemoryTransport implements LockTransport {
  private readonly subs = new Set<{ pattern: string; handler: (topic: string, payload: Buffer) => void }>();
  private readonly retained = new Map<string, Buffer>();
  /** Every publish, in order, for assertions. */
  readonly published: { topic: string; payload: string; retain: boolean }[] = [];

  publish(topic: string, payload: string | Buffer, opts: { retain?: boolean } = {}): void {
    const buf = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.published.push({ topic, payload: buf.toString(), retain: opts.retain === true });
    if (opts.retain) this.retained.set(topic, buf);
    for (const s of [...this.subs]) if (topicMatches(s.pattern, topic)) s.handler(topic, buf);
  }

  subscribe(pattern: string, handler: (topic: string, payload: Buffer) => void): () => void {
    const entry = { pattern, handler };
    this.subs.add(entry);
    for (const [topic, payload] of this.retained) if (topicMatches(pattern, topic)) handler(topic, payload);
    return () => void this.subs.delete(entry);
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }
}
