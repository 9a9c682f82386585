/**
 * `gatehouse user` inside the daemon: the control socket's user operations. The daemon
 * applies the change on its own connection to outbox.db and records it as a `console.user`
 * event, the same audit event as a change made in the console, with `by: cli` (the change
 * came from the box's shell, by someone who could act as the daemon's user).
 */
import { GatehouseError, toGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox } from '../outbox/outbox.js';
import type { ControlHandler, ControlRequest } from '../control/control-socket.js';
import { Accounts, checkPassword, checkRole, checkUsername, type ConsoleUser } from './accounts.js';
import type { EventDataMap } from '../core/events.js';

/** The `by` of a console.user event for a change made with `gatehouse user` through the daemon. */
export const CLI_PRINCIPAL = 'cli';

export function userControlHandlers(o: {
  outbox: Pick<Outbox, 'scope' | 'record'>;
  now: () => number;
  log: Logger;
}): Record<string, ControlHandler> {
  const accounts = new Accounts(o.outbox.scope('console'), o.now);
  // Awaited: the CLI says "created" only once the audit event is committed too. The change is
  // committed first (scrypt runs outside any transaction); if its event cannot be, the answer
  // says that the change is made and its record is missing, rather than pretending neither is.
  const audit = async (done: string, data: EventDataMap['console.user']): Promise<void> => {
    try {
      await o.outbox.record({ class: 'system', type: 'console.user', source: { device: 'gateway', point: 'console' }, data });
    } catch (err) {
      const e = toGatehouseError(err);
      o.log.error({ ...data, err: e.message }, 'console user changed through the control socket, but its audit event was not recorded');
      throw new GatehouseError(e.code, `${done}, but its console.user audit event could not be recorded: ${e.message}`, e.details);
    }
  };
  // As the CLI always passed them: add checks the name, disable and passwd look it up as given.
  const name = (req: ControlRequest): string => {
    if (typeof req.username !== 'string') throw new GatehouseError('CONSOLE_REQUEST_INVALID', 'username is missing');
    return req.username;
  };
  return {
    'user.list': (): ConsoleUser[] => accounts.list(),
    'user.add': async (req) => {
      const user = await accounts.add(checkUsername(req.username), checkRole(req.role), checkPassword(req.password));
      await audit(`user ${user.username} created`, { action: 'created', user: user.username, role: user.role, by: CLI_PRINCIPAL });
      return user;
    },
    'user.disable': async (req) => {
      const user = accounts.disable(name(req));
      await audit(`user ${user.username} disabled`, { action: 'disabled', user: user.username, role: user.role, by: CLI_PRINCIPAL });
      return user;
    },
    'user.passwd': async (req) => {
      const username = name(req).toLowerCase();
      await accounts.setPassword(username, checkPassword(req.password));
      await audit(`password of ${username} changed`, { action: 'password', user: username, by: CLI_PRINCIPAL });
      return { username };
    },
  };
}
