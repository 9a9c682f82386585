/**
 * One reader's life on the line, seen from the control panel: which command it needs next
 * (setup, status queries, POLL), what a reply or a timeout does to it, and the events that
 * follow. No I/O and no timers: the scheduler (control-panel.ts) calls in with the job and
 * the reply; time comes from the injected clock.
 */
import type { Clock } from '../../gateway/core/clock.js';
import { GatehouseError } from '../../gateway/core/errors.js';
import type { Logger } from '../../gateway/core/log.js';
import { Cmd, NakCode, Reply, type OsdpFrame, type ReaderEvent } from './types.js';
import {
  SCBK_D,
  createCpSession,
  decodeIdentity,
  decodePdcap,
  decodeInputs,
  decodeKeypad,
  decodeLocalStatus,
  decodeOutputs,
  decodeRaw,
  encodeKeyset,
  openReply,
} from './cp-codec.js';
import type { Job, OsdpReaderOptions, PdLink } from './cp-types.js';

/** A BUSY reader is asked again after this long (spec: "retry later"). */
const BUSY_RETRY_MS = 50;
/**
 * A secure failure is reported once per reason; a reader that then holds its session this
 * long is trusted again, so a later failure is news. Shorter, and a reader that fails a few
 * exchanges after every handshake would record reader.secure_failed on every retry.
 */
const SECURE_FAILURE_MEMORY_MS = 60_000;
const SETUP_NAMES: Record<number, string> = {
  [Cmd.ID]: 'ID',
  [Cmd.CAP]: 'CAP',
  [Cmd.CHLNG]: 'CHLNG',
  [Cmd.SCRYPT]: 'SCRYPT',
  [Cmd.KEYSET]: 'KEYSET',
  [Cmd.ISTAT]: 'ISTAT',
  [Cmd.OSTAT]: 'OSTAT',
  [Cmd.LSTAT]: 'LSTAT',
  [Cmd.POLL]: 'POLL',
};
const commandName = (code: number) => SETUP_NAMES[code] ?? `0x${code.toString(16)}`;

export interface ReaderMachineOptions {
  clock: Clock;
  log: Logger;
  backoff: { minMs: number; maxMs: number };
  offlineAfterMisses: number;
  emit: (e: ReaderEvent) => void;
  /** Rejects the reader's queued commands from the access logic (it went offline). */
  rejectQueued: (link: PdLink, err: GatehouseError) => void;
  /** Puts a command back at the head of the queue (repeat after a timeout or BUSY). */
  requeueFront: (job: Job) => void;
  random?: (n: number) => Uint8Array;
}

export const nextSqn = (sqn: number): 1 | 2 | 3 => (sqn >= 3 ? 1 : ((sqn + 1) as 1 | 2 | 3));

const equal = (a: boolean[] | undefined, b: boolean[]) => a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);

export class ReaderMachine {
  private readonly random: (n: number) => Uint8Array;

  constructor(private readonly opts: ReaderMachineOptions) {
    this.random = opts.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
  }

  newLink(r: OsdpReaderOptions): PdLink {
    return {
      address: r.address,
      mode: r.secure,
      key: r.key ? Uint8Array.from(r.key) : undefined,
      phase: 'down',
      sqn: 0,
      online: false,
      secure: false,
      session: undefined,
      newKey: undefined,
      scrypt: undefined,
      identity: undefined,
      lastSeen: undefined,
      misses: 0,
      naks: 0,
      timeouts: 0,
      polls: 0,
      replies: 0,
      retransmit: undefined,
      queries: [],
      nextTryAt: 0,
      backoffMs: this.opts.backoff.minMs,
      inputs: undefined,
      outputs: undefined,
      local: undefined,
      failedReason: undefined,
      probation: false,
      onlineAt: undefined,
    };
  }

  /** Monotonic ms from which the reader may be sent its next command. */
  dueAt(link: PdLink): number {
    return link.nextTryAt;
  }

  /** The reader's next command in the round robin (it owes no retransmission). */
  nextJob(link: PdLink): Job {
    const setup = (code: number, data: Uint8Array = new Uint8Array(0)): Job => ({ link, kind: 'setup', code, data, sends: 0 });
    switch (link.phase) {
      case 'down':
      case 'failed':
        // A (re)connect starts at SQN 0, which also tells the PD to drop any secure session.
        link.sqn = 0;
        link.session = undefined;
        link.secure = false;
        return setup(Cmd.ID, Uint8Array.of(0));
      case 'cap':
        return setup(Cmd.CAP, Uint8Array.of(0));
      case 'chlng':
        return setup(Cmd.CHLNG, link.session!.challenge());
      case 'scrypt':
        return setup(Cmd.SCRYPT, link.scrypt!);
      case 'keyset':
        return setup(Cmd.KEYSET, encodeKeyset(link.newKey!));
      case 'ready': {
        const query = link.queries.shift();
        if (query !== undefined) return setup(query);
        return { link, kind: 'poll', code: Cmd.POLL, data: new Uint8Array(0), sends: 0 };
      }
    }
  }

  timedOut(job: Job): void {
    const link = job.link;
    link.timeouts++;
    link.misses++;
    if (link.phase === 'down' || link.phase === 'failed') {
      // A probe of a silent reader: wait longer before the next one.
      link.nextTryAt = this.opts.clock.monotonic() + link.backoffMs;
      link.backoffMs = Math.min(link.backoffMs * 2, this.opts.backoff.maxMs);
      return;
    }
    if (link.misses >= this.opts.offlineAfterMisses) {
      this.down(link, `no reply to ${link.misses} commands in a row`, { sent: job });
      return;
    }
    // Repeat the very same bytes (same SQN) on the reader's next turn.
    link.retransmit = job;
    if (job.kind === 'user') this.opts.requeueFront(job);
  }

  /** A reply to `job` with the right address and SQN. Returns false when its security failed. */
  replied(job: Job, frame: OsdpFrame & { raw?: Uint8Array }): boolean {
    const link = job.link;
    const now = this.opts.clock.monotonic();
    link.misses = 0;
    link.replies++;
    link.lastSeen = now;
    let reply: { code: number; data: Uint8Array };
    try {
      reply = openReply(frame, link.session);
    } catch (err) {
      // A bad MAC or security block inside a session that opened fine: an attack, or firmware
      // that gets its own secure channel wrong. A failure with backoff, reported, never an
      // immediate re-handshake (that loop is what flapped a reader online/offline at 2 Hz).
      const detail = err instanceof Error ? err.message : String(err);
      this.opts.log.warn({ address: link.address, err: detail }, 'OSDP reply failed its security check');
      this.secureFailed(link, 'secure reply rejected: wrong MAC or security block after the handshake', job);
      return false;
    }
    if (reply.code === Reply.BUSY) {
      // Not processed: the same command again later, with the same SQN.
      link.retransmit = job;
      if (job.kind === 'user') this.opts.requeueFront(job);
      else link.nextTryAt = now + BUSY_RETRY_MS;
      return true;
    }
    link.sqn = nextSqn(link.sqn);
    if (reply.code === Reply.NAK) {
      this.nak(job, reply.data[0] ?? 0);
      return true;
    }
    if (link.probation && link.phase === 'ready') this.announce(link);
    else if (link.failedReason && link.online && now - (link.onlineAt ?? now) >= SECURE_FAILURE_MEMORY_MS) link.failedReason = undefined;
    try {
      if (job.kind === 'setup') this.setupReply(job, reply.code, reply.data);
      else this.report(link, reply.code, reply.data);
    } catch (err) {
      this.opts.log.warn(
        { address: link.address, code: reply.code, err: err instanceof Error ? err.message : String(err) },
        'OSDP reply could not be decoded',
      );
      if (job.kind === 'user')
        job.reject?.(
          new GatehouseError('DEVICE_PROTOCOL', `reader ${link.address}: undecodable reply 0x${reply.code.toString(16)}`, {
            address: link.address,
          }),
        );
      else if (job.kind === 'setup' && link.phase !== 'ready') this.down(link, `undecodable reply to ${commandName(job.code)}`);
      return true;
    }
    if (job.kind === 'user') {
      if (job.code === Cmd.KEYSET && job.newKey && reply.code === Reply.ACK) {
        link.key = job.newKey;
        this.opts.emit({ kind: 'key-set', address: link.address, key: Uint8Array.from(job.newKey) });
      }
      job.resolve?.();
    }
    return true;
  }

  /** The line went away: every reader starts over once it is back. */
  lineLost(link: PdLink, reason: string): void {
    this.down(link, reason, { immediate: true });
  }

  private nak(job: Job, code: number): void {
    const link = job.link;
    link.naks++;
    this.opts.emit({ kind: 'nak', address: link.address, command: job.code, code });
    if (job.kind === 'user') {
      job.reject?.(
        new GatehouseError('DEVICE_REFUSED', `reader ${link.address} refused ${commandName(job.code)} (NAK ${code})`, {
          address: link.address,
          command: job.code,
          nak: code,
        }),
      );
    }
    if (code === NakCode.SEQUENCE) {
      this.down(link, 'sequence error', { immediate: true });
      return;
    }
    if (job.kind === 'user') return;
    if (code === NakCode.ENCRYPTION_REQUIRED) {
      // Configured 'off' but the reader insists on the secure channel: a configuration fault,
      // reported once and retried slowly rather than flapping online/offline on every poll.
      this.secureFailed(link, `reader requires the secure channel (NAK 0x06 to ${commandName(job.code)})`);
    } else if (job.code === Cmd.CHLNG && link.mode === 'install') {
      this.secureFailed(link, `reader refused the install key (NAK ${code}): it already has its own key, or no secure channel`);
    } else if (job.code === Cmd.CHLNG || job.code === Cmd.SCRYPT || job.code === Cmd.KEYSET) {
      this.secureFailed(link, `reader refused ${commandName(job.code)} (NAK ${code})`);
    } else if (job.code === Cmd.ISTAT || job.code === Cmd.OSTAT || job.code === Cmd.LSTAT) {
      // A reader without inputs or outputs may refuse the query: nothing to report, carry on.
    } else {
      this.down(link, `reader refused ${commandName(job.code)} (NAK ${code})`);
    }
  }

  private setupReply(job: Job, code: number, data: Uint8Array): void {
    const link = job.link;
    const unexpected = () => this.down(link, `unexpected reply 0x${code.toString(16)} to ${commandName(job.code)}`);
    switch (job.code) {
      case Cmd.ID:
        if (code !== Reply.PDID) return unexpected();
        link.identity = decodeIdentity(data);
        link.phase = 'cap';
        link.nextTryAt = 0;
        return;
      case Cmd.CAP:
        if (code !== Reply.PDCAP) return unexpected();
        this.capabilities(link, data);
        if (link.mode === 'off') return this.ready(link);
        return this.handshake(link, link.mode === 'install' ? SCBK_D : link.key!, link.mode === 'install');
      case Cmd.CHLNG:
        if (code !== Reply.CCRYPT) return this.secureFailed(link, `reply 0x${code.toString(16)} to CHLNG`);
        try {
          link.scrypt = link.session!.answerCcrypt(data);
        } catch {
          return this.secureFailed(
            link,
            link.mode === 'install'
              ? 'reader does not accept the install key (already has its own key?)'
              : 'reader cryptogram does not match: wrong key',
          );
        }
        link.phase = 'scrypt';
        return;
      case Cmd.SCRYPT:
        if (code !== Reply.RMAC_I) return this.secureFailed(link, `reply 0x${code.toString(16)} to SCRYPT`);
        try {
          link.session!.acceptRmacI(data);
        } catch {
          return this.secureFailed(link, 'RMAC-I does not match');
        }
        link.secure = true;
        if (link.mode === 'install') {
          link.newKey = this.random(16);
          link.phase = 'keyset';
          return;
        }
        return this.ready(link);
      case Cmd.KEYSET:
        if (code !== Reply.ACK) return this.secureFailed(link, `reply 0x${code.toString(16)} to KEYSET`);
        link.key = link.newKey!;
        link.newKey = undefined;
        link.mode = 'required';
        this.opts.emit({ kind: 'key-set', address: link.address, key: Uint8Array.from(link.key) });
        // The new key is used from the next session on: open it now.
        return this.handshake(link, link.key, false);
      default:
        return this.report(link, code, data);
    }
  }

  /** Hands the capability report on; a malformed one costs only the report, not the reader (it was never needed to run it). */
  private capabilities(link: PdLink, data: Uint8Array): void {
    try {
      this.opts.emit({ kind: 'capabilities', address: link.address, capabilities: decodePdcap(data) });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.opts.log.warn({ address: link.address, err: why }, 'OSDP capability report (PDCAP) not understood; every command is sent');
    }
  }

  private handshake(link: PdLink, key: Uint8Array, installKey: boolean): void {
    link.session = createCpSession(key, installKey, this.random);
    link.secure = false;
    link.scrypt = undefined;
    link.phase = 'chlng';
  }

  private ready(link: PdLink): void {
    link.phase = 'ready';
    link.nextTryAt = 0;
    link.inputs = link.outputs = link.local = undefined;
    link.queries = [Cmd.ISTAT, Cmd.OSTAT, Cmd.LSTAT];
    // ID, CAP and even a good handshake prove nothing about the session (a reader that
    // insists on the secure channel while we are configured 'off', firmware that answers the
    // handshake and then gets the security block wrong): announce the reader only once a
    // status query or poll went through inside it, or it would flap online/offline on every retry.
    link.probation = true;
  }

  private announce(link: PdLink): void {
    link.online = true;
    link.probation = false;
    link.onlineAt = this.opts.clock.monotonic();
    link.backoffMs = this.opts.backoff.minMs;
    this.opts.log.info({ address: link.address, secure: link.secure, identity: link.identity }, 'OSDP reader online');
    this.opts.emit({ kind: 'online', address: link.address, secure: link.secure, ...(link.identity ? { identity: link.identity } : {}) });
  }

  private secureFailed(link: PdLink, reason: string, sent?: Job): void {
    if (link.failedReason !== reason) {
      this.opts.log.warn({ address: link.address, reason }, 'OSDP secure channel failed; reader stays offline');
      this.opts.emit({ kind: 'secure-failed', address: link.address, reason });
    }
    this.down(link, reason, { failed: true, ...(sent ? { sent } : {}) });
    link.failedReason = reason;
  }

  /** Takes the reader off line; it is probed again (from SQN 0) after its backoff. */
  private down(link: PdLink, reason: string, how: { sent?: Job; immediate?: boolean; failed?: boolean } = {}): void {
    const wasOnline = link.online;
    const now = this.opts.clock.monotonic();
    if (how.sent?.kind === 'user')
      how.sent.reject?.(new GatehouseError('CMD_TIMEOUT', `reader ${link.address}: ${reason}`, { address: link.address, reason }));
    this.opts.rejectQueued(
      link,
      new GatehouseError('DEVICE_OFFLINE', `reader ${link.address}: ${reason}`, { address: link.address, reason }),
    );
    Object.assign(link, {
      phase: how.failed ? 'failed' : 'down',
      online: false,
      probation: false,
      secure: false,
      session: undefined,
      newKey: undefined,
      scrypt: undefined,
      retransmit: undefined,
      queries: [],
      misses: 0,
    });
    if (how.immediate) {
      link.nextTryAt = 0;
      link.backoffMs = this.opts.backoff.minMs;
    } else {
      const wait = how.failed ? this.opts.backoff.maxMs : this.opts.backoff.minMs;
      link.nextTryAt = now + wait;
      link.backoffMs = Math.min(wait * 2, this.opts.backoff.maxMs);
    }
    if (!how.failed) link.failedReason = undefined;
    if (wasOnline) {
      this.opts.log.warn({ address: link.address, reason }, 'OSDP reader offline');
      this.opts.emit({ kind: 'offline', address: link.address, reason });
    }
  }

  /** Data a reader reports (poll replies, status query replies): events on change only. */
  private report(link: PdLink, code: number, data: Uint8Array): void {
    const a = link.address;
    switch (code) {
      case Reply.ACK:
        return;
      case Reply.RAW: {
        const raw = decodeRaw(data);
        return this.opts.emit({ kind: 'card', address: a, bits: raw.bits, data: raw.data, format: raw.format });
      }
      case Reply.KEYPAD:
        return this.opts.emit({ kind: 'keypad', address: a, keys: decodeKeypad(data) });
      case Reply.ISTATR: {
        const inputs = decodeInputs(data);
        if (equal(link.inputs, inputs)) return;
        link.inputs = inputs;
        return this.opts.emit({ kind: 'inputs', address: a, inputs });
      }
      case Reply.OSTATR: {
        const outputs = decodeOutputs(data);
        if (equal(link.outputs, outputs)) return;
        link.outputs = outputs;
        return this.opts.emit({ kind: 'outputs', address: a, outputs });
      }
      case Reply.LSTATR: {
        const s = decodeLocalStatus(data);
        if (link.local && link.local.tamper === s.tamper && link.local.power === s.power) return;
        link.local = s;
        return this.opts.emit({ kind: 'local-status', address: a, tamper: s.tamper, power: s.power });
      }
      default:
        this.opts.log.debug({ address: a, code }, 'OSDP reply ignored');
    }
  }
}
