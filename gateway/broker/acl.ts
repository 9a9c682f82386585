/**
 * Who may publish and subscribe what on the embedded broker. Pure functions, so the rules
 * can be read and tested apart from aedes.
 *
 * Devices live under the local scheme `lan/v1/{family}/{id}/...` (see
 * drivers/smartlock/README.md for locks). A device may only publish in its own subtree and
 * only subscribe to its own command topic, and its MQTT client id must equal its username,
 * so one device can never speak (or leave a last will) as another.
 */

export const LOCAL_ROOT = 'lan/v1';

export type AccountRole = 'device' | 'gateway' | 'operator';

export interface Account {
  username: string;
  role: AccountRole;
  /** Devices only: the family level of the local scheme, e.g. `lock`. */
  family?: string;
}

/** Topics a device publishes, relative to its subtree, and whether each may be retained. */
const DEVICE_PUBLISH: Record<string, { retain: boolean }> = {
  evt: { retain: false },
  state: { retain: true },
  status: { retain: true },
  'cmd/res': { retain: false },
};

export function deviceSubtree(family: string, id: string): string {
  return `${LOCAL_ROOT}/${family}/${id}`;
}

export type Decision = { ok: true } | { ok: false; reason: string };

const allow: Decision = { ok: true };
const deny = (reason: string): Decision => ({ ok: false, reason });

export function topicDepth(topic: string): number {
  return topic.split('/').length;
}

export interface PublishRequest {
  topic: string;
  payloadBytes: number;
  retain: boolean;
}

export interface Limits {
  maxPayloadBytes: number;
  maxTopicDepth: number;
}

export function authorizePublish(account: Account, req: PublishRequest, topicRoot: string, limits: Limits): Decision {
  if (req.topic.startsWith('$')) return deny('reserved topic');
  if (req.payloadBytes > limits.maxPayloadBytes) return deny(`payload of ${req.payloadBytes} bytes exceeds ${limits.maxPayloadBytes}`);
  if (topicDepth(req.topic) > limits.maxTopicDepth) return deny(`topic deeper than ${limits.maxTopicDepth} levels`);
  switch (account.role) {
    case 'gateway':
      return req.topic.startsWith(`${topicRoot}/`) ? allow : deny('outside the gateway topic root');
    case 'operator': {
      // Exactly `{root}/cmd/{name}`: operators command the gateway, they never speak for it.
      const rest = req.topic.startsWith(`${topicRoot}/cmd/`) ? req.topic.slice(topicRoot.length + 5) : undefined;
      if (rest === undefined || rest.length === 0 || rest.includes('/')) return deny('operators may only publish {root}/cmd/{name}');
      // A retained command would be replayed to every new subscriber, the gateway included.
      if (req.retain) return deny('retained commands are refused');
      return allow;
    }
    case 'device': {
      const subtree = deviceSubtree(account.family ?? 'lock', account.username);
      if (!req.topic.startsWith(`${subtree}/`)) return deny('outside its own device subtree');
      const rule = DEVICE_PUBLISH[req.topic.slice(subtree.length + 1)];
      if (!rule) return deny('not a device topic of the local scheme');
      // A retained event would be replayed as a new event after every reconnect.
      if (req.retain && !rule.retain) return deny('this topic may not be retained');
      return allow;
    }
  }
}

export function authorizeSubscribe(account: Account, filter: string, topicRoot: string, limits: Limits): Decision {
  if (filter.startsWith('$')) return deny('reserved topic');
  if (topicDepth(filter) > limits.maxTopicDepth) return deny(`filter deeper than ${limits.maxTopicDepth} levels`);
  switch (account.role) {
    case 'gateway':
      // A literal prefix: `+/v1/#` or `#` would reach beyond this gateway's root.
      return filter.startsWith(`${topicRoot}/`) ? allow : deny('outside the gateway topic root');
    case 'operator':
      if (!filter.startsWith(`${topicRoot}/`)) return deny('outside the gateway topic root');
      // Others' commands carry PINs; an operator's own answers come to it without subscribing.
      if (filter === `${topicRoot}/cmd` || filter.startsWith(`${topicRoot}/cmd/`))
        return deny('operators may not subscribe to commands or answers (their own answers are delivered to them)');
      return allow;
    case 'device':
      return filter === `${deviceSubtree(account.family ?? 'lock', account.username)}/cmd`
        ? allow
        : deny('devices may only subscribe to their own cmd topic');
  }
}

/** The last will a device leaves must be its own retained-able status topic. */
export function authorizeWill(
  account: Account,
  will: { topic: string; payloadBytes: number; retain: boolean } | undefined,
  topicRoot: string,
  limits: Limits,
): Decision {
  if (!will) return allow;
  // A will is published when the connection drops: a command planted to run then.
  if (will.topic === `${topicRoot}/cmd` || will.topic.startsWith(`${topicRoot}/cmd/`)) return deny('a last will may not be a command');
  if (account.role === 'device' && will.topic !== `${deviceSubtree(account.family ?? 'lock', account.username)}/status`) {
    return deny('a device last will must be its own status topic');
  }
  return authorizePublish(account, { topic: will.topic, payloadBytes: will.payloadBytes, retain: will.retain }, topicRoot, limits);
}
