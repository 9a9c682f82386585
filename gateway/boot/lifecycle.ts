/**
 * The components' start and stop (moved out of the composition root): ordered start with
 * failure isolation, reverse stop. A component that fails to start is recorded
 * (`component.failed`) and the rest keep running, unless it is essential: then everything
 * started is stopped and the start fails, saying why the daemon cannot run without it.
 */
import type { Logger } from '../core/log.js';
import { GatehouseError } from '../core/errors.js';
import type { Outbox } from '../outbox/outbox.js';
import { remedy } from '../required-components.js';

export interface Component {
  name: string;
  essential: boolean;
  /** Why the daemon cannot run without it, for the message when it fails to start. */
  requiredBecause?: string | undefined;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface Lifecycle {
  outbox: Pick<Outbox, 'record'>;
  log: Logger;
  /** Filled: the components started, in start order. */
  started: Component[];
  /** Filled: the components that failed to start, with their error. */
  failed: Map<string, string>;
  /** Stops everything started (the gateway's stop()), when an essential component failed. */
  stopAll(): Promise<void>;
}

function recordFailed(outbox: Pick<Outbox, 'record'>, c: Component, message: string): Promise<unknown> {
  return outbox
    .record({
      class: 'system',
      type: 'component.failed',
      source: { device: 'gateway', point: c.name },
      data: { component: c.name, error: message },
    })
    .catch(() => undefined);
}

export async function startComponents(components: readonly Component[], l: Lifecycle): Promise<void> {
  for (const c of components) {
    try {
      await c.start();
      l.started.push(c);
    } catch (err) {
      const message = (err as Error).message;
      if (c.essential) {
        if (c.requiredBecause) await recordFailed(l.outbox, c, message);
        await l.stopAll();
        if (!c.requiredBecause) throw err;
        throw new GatehouseError(
          'COMPONENT_REQUIRED_FAILED',
          `the ${c.name} could not start and ${c.requiredBecause}: ${message}. ${remedy(c.name, err)}Nothing was started.`,
          { component: c.name, error: message },
          { cause: err },
        );
      }
      l.failed.set(c.name, message);
      l.log.error({ component: c.name, err: message }, 'component failed to start; the rest of the gateway keeps running');
      void recordFailed(l.outbox, c, message);
    }
  }
}

/** Stops the started components in reverse order; one that fails to stop is logged and the rest still stop. */
export async function stopComponents(started: readonly Component[], log: Logger): Promise<void> {
  for (const c of [...started].reverse()) {
    try {
      await c.stop();
    } catch (err) {
      log.error({ component: c.name, err: (err as Error).message }, 'component failed to stop cleanly');
    }
  }
}

/** What systemd's watchdog checks (gateway/systemd.ts): the outbox commits, the uplink, every required component. */
export function watchdogChecks(g: {
  outbox: Pick<Outbox, 'healthy'>;
  uplink(): { healthy(): boolean } | undefined;
  required: ReadonlyMap<string, string>;
  /** Read at each check: stop() replaces the list. */
  started(): readonly Component[];
  failed: ReadonlyMap<string, string>;
}): (() => { name: string; ok: boolean })[] {
  return [
    () => ({ name: 'outbox', ok: g.outbox.healthy() }),
    () => ({ name: 'uplink', ok: g.uplink()?.healthy() ?? !g.required.has('uplink') }),
    // Required components cannot be missing here (start() would have thrown); a check all the same,
    // so a later change that lets one fail never leaves systemd believing the gateway is whole.
    ...[...g.required.keys()].map((name) => () => ({ name, ok: g.started().some((c) => c.name === name) && !g.failed.has(name) })),
  ];
}
