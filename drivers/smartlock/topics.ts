/**
 * The local topic scheme of smart locks on the embedded broker (README.md in this folder
 * is the vendor-facing description). Every lock owns one subtree; the broker's ACL
 * (gateway/broker/acl.ts) lets a lock publish only in its own subtree and subscribe only
 * to its own `cmd` topic.
 *
 *   lan/v1/lock/{id}/status    lock → gateway, retained, also the last will
 *   lan/v1/lock/{id}/state     lock → gateway, retained, and at least every heartbeat
 *   lan/v1/lock/{id}/evt       lock → gateway, one event per message
 *   lan/v1/lock/{id}/cmd       gateway → lock, one command per message
 *   lan/v1/lock/{id}/cmd/res   lock → gateway, the answer to a command
 */

export const LOCK_TOPIC_PREFIX = 'lan/v1/lock';

/** Topic kinds the lock publishes, and the one it receives. */
export const LOCK_UP_KINDS = ['status', 'state', 'evt', 'cmd/res'] as const;
export type LockUpKind = (typeof LOCK_UP_KINDS)[number];
export type LockTopicKind = LockUpKind | 'cmd';

export function lockTopic(id: string, kind: LockTopicKind): string {
  return `${LOCK_TOPIC_PREFIX}/${id}/${kind}`;
}

export function lockTopics(id: string): Record<'status' | 'state' | 'evt' | 'cmd' | 'cmdRes', string> {
  return {
    status: lockTopic(id, 'status'),
    state: lockTopic(id, 'state'),
    evt: lockTopic(id, 'evt'),
    cmd: lockTopic(id, 'cmd'),
    cmdRes: lockTopic(id, 'cmd/res'),
  };
}

/** Splits a topic of the scheme into its device id and kind; undefined for anything else. */
export function parseLockTopic(topic: string): { device: string; kind: LockTopicKind } | undefined {
  if (!topic.startsWith(`${LOCK_TOPIC_PREFIX}/`)) return undefined;
  const rest = topic.slice(LOCK_TOPIC_PREFIX.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const device = rest.slice(0, slash);
  const kind = rest.slice(slash + 1);
  if (kind === 'cmd' || (LOCK_UP_KINDS as readonly string[]).includes(kind)) return { device, kind: kind as LockTopicKind };
  return undefined;
}
