/**
 * Commands from operator accounts (a local BMS, a guard-house tool) on the embedded broker.
 *
 * An operator's `{root}/cmd/{name}` never goes onto the bus: the broker takes it off the
 * publish path with the operator's username and hands it to the command router, so the
 * audit says which operator ran what, and no other client can read it (a
 * `lock.credential.set` carries a PIN). The answer goes to that operator's connections
 * alone (every session of the same account, so a watcher session sees the answers to
 * commands sent from a one-shot `mosquitto_pub`), on the usual `{root}/cmd/{name}/res`
 * topic, at QoS 1; operators never receive
 * anything else under `{root}/cmd/` (their subscriptions there are refused, and wider
 * filters such as `{root}/#` have the command tree filtered out on delivery). The platform
 * uplink's topic scheme is unchanged.
 *
 * An answer is delivered to live connections only: an operator with no session left when
 * it is ready does not get it (the audit event is in the outbox either way).
 */
import type { Client } from 'aedes';
import type { Logger } from '../core/log.js';

/** Runs the command and resolves with the answer to send, or undefined for none. */
export type OperatorCommandHandler = (operator: string, name: string, payload: Buffer) => Promise<string | Buffer | undefined>;

export class OperatorCommands {
  /** Answers on their way to one operator: the only packets under `cmd/` an operator may receive. */
  private readonly directAnswers = new WeakSet<Buffer>();

  constructor(
    private readonly topicRoot: string,
    private readonly handler: OperatorCommandHandler | undefined,
    private readonly log: Logger,
    /** The live sessions of an operator account. */
    private readonly sessionsOf: (operator: string) => Client[],
  ) {}

  /** `{root}/cmd` and everything under it. */
  isCommandTopic(topic: string): boolean {
    return topic === `${this.topicRoot}/cmd` || topic.startsWith(`${this.topicRoot}/cmd/`);
  }

  /** An operator publish on `{root}/cmd/{name}` that the ACL allowed: run it for that operator. */
  take(operator: string, topic: string, payload: Buffer): void {
    const name = topic.slice(this.topicRoot.length + 5);
    if (!this.handler) {
      this.log.warn({ operator, command: name }, 'operator command dropped: this broker has no command router attached');
      return;
    }
    this.handler(operator, name, payload).then(
      (answer) => {
        if (answer === undefined) return;
        const sessions = this.sessionsOf(operator).filter((c) => !(c as unknown as { closed: boolean }).closed);
        if (sessions.length === 0)
          return void this.log.info({ operator, command: name }, 'operator has no session left for its answer; the answer was dropped');
        const body = Buffer.isBuffer(answer) ? answer : Buffer.from(answer);
        this.directAnswers.add(body);
        for (const client of sessions) {
          client.publish({ cmd: 'publish', topic: `${topic}/res`, payload: body, qos: 1, retain: false, dup: false }, (err?: Error) => {
            if (err) this.log.info({ operator, command: name, err: err.message }, 'answer to an operator not delivered');
          });
        }
      },
      (err: unknown) => this.log.error({ operator, command: name, err: (err as Error).message }, 'operator command handler failed'),
    );
  }

  /** Whether a packet may go to an operator's connection (aedes authorizeForward). */
  mayForward(packet: { topic: string; payload: Buffer | string }): boolean {
    return !this.isCommandTopic(packet.topic) || (Buffer.isBuffer(packet.payload) && this.directAnswers.has(packet.payload));
  }
}
