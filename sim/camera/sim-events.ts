/**
 * The ONVIF event service of the simulated camera: PullPoint subscriptions with their own
 * queue and termination time, long-polled PullMessages answered as soon as something is
 * queued, Renew and Unsubscribe. A new subscription first gets the current state of every
 * property as `Initialized` messages, as the ONVIF core spec asks, so a client learns a
 * tamper that was already on before it subscribed.
 */
import { escapeXml } from './soap.js';

export interface SimItem {
  name: string;
  value: string;
}

export interface SimNotification {
  topic: string;
  utcTime: number;
  operation: 'Initialized' | 'Changed' | 'Deleted';
  source: SimItem[];
  data: SimItem[];
}

interface Waiter {
  limit: number;
  resolve: (msgs: SimNotification[]) => void;
  timer: NodeJS.Timeout;
}

export interface Subscription {
  id: number;
  terminationTime: number;
  queue: SimNotification[];
  waiter?: Waiter;
}

/** Messages kept per subscription; beyond it the oldest are dropped (a real camera's buffer is small too). */
const MAX_QUEUE = 200;

export class PullPointManager {
  private readonly subs = new Map<number, Subscription>();
  private nextId = 1;

  constructor(private readonly maxHoldMs: () => number) {}

  create(cameraNow: number, ttlMs: number, initial: SimNotification[]): Subscription {
    this.expire(cameraNow);
    const sub: Subscription = { id: this.nextId++, terminationTime: cameraNow + ttlMs, queue: [...initial] };
    this.subs.set(sub.id, sub);
    return sub;
  }

  get(id: number, cameraNow: number): Subscription | undefined {
    this.expire(cameraNow);
    return this.subs.get(id);
  }

  get count(): number {
    return this.subs.size;
  }

  renew(sub: Subscription, cameraNow: number, ttlMs: number): void {
    sub.terminationTime = cameraNow + ttlMs;
  }

  remove(id: number): void {
    const sub = this.subs.get(id);
    if (sub?.waiter) this.finish(sub, []);
    this.subs.delete(id);
  }

  /** Queues a message on every live subscription and wakes a waiting PullMessages. */
  publish(n: SimNotification): void {
    for (const sub of this.subs.values()) {
      sub.queue.push(n);
      if (sub.queue.length > MAX_QUEUE) sub.queue.shift();
      if (sub.waiter) this.finish(sub, sub.queue.splice(0, sub.waiter.limit));
    }
  }

  /** Resolves with up to `limit` messages: at once if some are queued, else when one arrives or the timeout ends. */
  pull(sub: Subscription, timeoutMs: number, limit: number): Promise<SimNotification[]> {
    if (sub.queue.length > 0 || timeoutMs <= 0) return Promise.resolve(sub.queue.splice(0, limit));
    if (sub.waiter) this.finish(sub, []);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.finish(sub, []), Math.min(timeoutMs, this.maxHoldMs()));
      sub.waiter = { limit, resolve, timer };
    });
  }

  /** Drops every subscription (camera reboot or going offline), answering held pulls empty. */
  clear(): void {
    for (const id of [...this.subs.keys()]) this.remove(id);
  }

  private finish(sub: Subscription, msgs: SimNotification[]): void {
    const w = sub.waiter;
    if (!w) return;
    sub.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(msgs);
  }

  private expire(cameraNow: number): void {
    for (const [id, sub] of this.subs) if (sub.terminationTime < cameraNow) this.remove(id);
  }
}

const items = (tag: string, list: SimItem[]) =>
  list.length
    ? `<tt:${tag}>${list.map((i) => `<tt:SimpleItem Name="${escapeXml(i.name)}" Value="${escapeXml(i.value)}"/>`).join('')}</tt:${tag}>`
    : '';

export function notificationXml(n: SimNotification): string {
  return (
    '<wsnt:NotificationMessage>' +
    `<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${escapeXml(n.topic)}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${new Date(n.utcTime).toISOString()}" PropertyOperation="${n.operation}">` +
    items('Source', n.source) +
    items('Data', n.data) +
    '</tt:Message></wsnt:Message></wsnt:NotificationMessage>'
  );
}
