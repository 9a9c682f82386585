/**
 * The MQTT topic scheme of CONTRACT.md (version 1), in one place so the uplink, the
 * embedded broker, the verifier and the tests cannot drift apart. Changing anything here
 * is a breaking change for the platform: bump TOPIC_VERSION instead.
 *
 *   gatehouse/v1/{compound}/{gateway}/status            up, retained
 *   gatehouse/v1/{compound}/{gateway}/evt/{class}       up
 *   gatehouse/v1/{compound}/{gateway}/state/{device}    up, retained
 *   gatehouse/v1/{compound}/{gateway}/cmd/{name}        down
 *   gatehouse/v1/{compound}/{gateway}/cmd/{name}/res    up
 */
import { GatehouseError } from './errors.js';
import type { EventClass } from './events.js';

export const TOPIC_PREFIX = 'gatehouse';
export const TOPIC_VERSION = 'v1';

/** Command names longer than this are refused before they reach the router (which allows 64). */
export const MAX_COMMAND_NAME_LENGTH = 64;

/**
 * A topic level we build from configuration must not contain the level separator or the
 * wildcards, or a compound id could subscribe us to another compound's commands.
 */
function assertLevel(what: string, value: string): void {
  if (value.length === 0 || /[/+#\u0000]/.test(value)) {
    throw new GatehouseError(
      'CONFIG_INVALID',
      `${what} "${value}" cannot be an MQTT topic level (empty, or contains "/", "+", "#" or NUL)`,
    );
  }
}

export function topicRoot(compoundId: string, gatewayId: string): string {
  assertLevel('compound id', compoundId);
  assertLevel('gateway id', gatewayId);
  return `${TOPIC_PREFIX}/${TOPIC_VERSION}/${compoundId}/${gatewayId}`;
}

export const statusTopic = (root: string): string => `${root}/status`;
export const evtTopic = (root: string, cls: EventClass | string): string => `${root}/evt/${cls}`;
export const stateTopic = (root: string, device: string): string => `${root}/state/${device}`;
export const cmdTopic = (root: string, name: string): string => `${root}/cmd/${name}`;
export const cmdResTopic = (root: string, name: string): string => `${root}/cmd/${name}/res`;
/** What the uplink subscribes to: exactly one level under `cmd/`, so our own `/res` answers never come back as commands. */
export const cmdSubscription = (root: string): string => `${root}/cmd/+`;
/** Everything a platform-side consumer of one gateway wants. */
export const allTopics = (root: string): string => `${root}/#`;

/**
 * The command name of an incoming `{root}/cmd/{name}` topic, or undefined when the topic
 * is not a command of this gateway or the name is not acceptable: empty, a wildcard
 * character, a control character, or longer than MAX_COMMAND_NAME_LENGTH. Other oddities
 * (upper case, spaces) are left to the router, which answers them with a coded error.
 */
export function parseCmdTopic(root: string, topic: string): string | undefined {
  const prefix = `${root}/cmd/`;
  if (!topic.startsWith(prefix)) return undefined;
  const name = topic.slice(prefix.length);
  if (!isAcceptableCommandName(name)) return undefined;
  return name;
}

export function isAcceptableCommandName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_COMMAND_NAME_LENGTH && !/[/+#\u0000-\u001f\u007f]/.test(name);
}

/** Splits a topic under `root` into its kind, for consumers such as the verifier. */
export type ParsedTopic =
  | { kind: 'status' }
  | { kind: 'evt'; cls: string }
  | { kind: 'state'; device: string }
  | { kind: 'cmd'; name: string }
  | { kind: 'cmd-res'; name: string }
  | { kind: 'other'; rest: string };

export function parseTopic(root: string, topic: string): ParsedTopic | undefined {
  if (!topic.startsWith(`${root}/`)) return undefined;
  const rest = topic.slice(root.length + 1);
  const parts = rest.split('/');
  if (rest === 'status') return { kind: 'status' };
  if (parts.length === 2 && parts[0] === 'evt' && parts[1]) return { kind: 'evt', cls: parts[1] };
  if (parts.length === 2 && parts[0] === 'state' && parts[1]) return { kind: 'state', device: parts[1] };
  if (parts.length === 2 && parts[0] === 'cmd' && parts[1]) return { kind: 'cmd', name: parts[1] };
  if (parts.length === 3 && parts[0] === 'cmd' && parts[2] === 'res' && parts[1]) return { kind: 'cmd-res', name: parts[1] };
  return { kind: 'other', rest };
}
