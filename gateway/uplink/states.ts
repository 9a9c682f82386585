/**
 * Retained `state/{device}` publishing. States are "latest wins", so instead of queueing
 * every update we keep at most one publish in flight and one pending body per device:
 * memory is bounded by the number of devices however fast states change or however slow
 * the broker is. After every (re)connect all stored states are published again, because
 * the platform's broker may have lost its retained messages (restart without persistence,
 * a fail-over to another cluster node).
 */
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import { stateTopic } from '../core/topics.js';
import type { Link } from './connection.js';

export class StatePublisher {
  private link: Link | undefined;
  private readonly pending = new Map<string, string>();
  private readonly inflight = new Set<string>();
  published = 0;

  constructor(
    private readonly outbox: Pick<Outbox, 'readStates'>,
    private readonly root: string,
    private readonly log: Logger,
  ) {}

  attach(link: Link): void {
    this.link = link;
    this.inflight.clear();
    try {
      for (const row of this.outbox.readStates()) this.pending.set(row.device, row.body);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'uplink could not read stored device states');
    }
    this.flush();
  }

  detach(): void {
    this.link = undefined;
    this.inflight.clear();
  }

  /** The outbox committed a new state for `device`. */
  update(device: string, body: string): void {
    this.pending.set(device, body);
    if (this.link) this.flush();
  }

  private flush(): void {
    const link = this.link;
    if (!link) return;
    for (const [device, body] of this.pending) {
      if (this.inflight.has(device)) continue;
      this.pending.delete(device);
      if (/[/+#]/.test(device) || device.length === 0) {
        this.log.warn({ device }, 'device id cannot be a topic level; its state is not published');
        continue;
      }
      this.inflight.add(device);
      link.publish(stateTopic(this.root, device), body, true, (err) => {
        if (link !== this.link) return; // a new connection republishes everything anyway
        this.inflight.delete(device);
        if (!err) this.published++;
        if (this.pending.has(device)) this.flush();
      });
    }
  }
}
