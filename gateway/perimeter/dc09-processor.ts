/**
 * One DC-09 message in, one answer out: the receiver's decisions, apart from sockets.
 *
 *   CRC/length/format wrong        → NAK (with our timestamp, so the panel can fix its clock)
 *   unknown account                → NAK, warning rate-limited per source address
 *   receiver/line not the panel's  → NAK
 *   plain from an encrypted panel  → NAK (requireEncryption, the default when a key is set)
 *   cannot decrypt / no timestamp  → NAK
 *   timestamp outside the window   → NAK (encrypted messages; plain timestamps are advisory,
 *                                    many plain panels have no clock worth the name). Not
 *                                    while OUR clock is unsynced (a Pi without RTC before
 *                                    NTP): refusing every alarm, and teaching the panels our
 *                                    wrong time through the NAK, is worse than a replay window.
 *   encrypted, older than the      → NAK (dc09-replay.ts: a capture replayed after the panel
 *   account's replay floor           moved on, refused even while our clock is unsynced)
 *   encrypted, exact message       → ACK, not processed again (persisted across restarts)
 *   already accepted
 *   id or data we do not handle    → DUH
 *   same account+seq+content again within dedupWindowMs → ACK, not processed again (our
 *                                    ACK was lost and the panel retransmitted); a copy that
 *                                    arrives while the first is still being committed gets
 *                                    the first one's answer
 *   otherwise                      → PanelService.handle(), and only once everything it
 *                                    recorded is committed, the ACK (encrypted to an
 *                                    encrypted message); a record that fails (disk full,
 *                                    SQLite error) → NAK, and the panel's retransmission is
 *                                    processed afresh
 *
 * Keys are resolved from the secrets once, at construction: a missing secret or a key that
 * is not 32/48/64 hex digits is a configuration error then, not a NAK storm later.
 */
import type { Dc09PanelConfig, Dc09ReceiverConfig } from '../../config/schema.js';
import type { PanelEvent } from '../../drivers/dc09/events.js';
import type { Secrets } from '../../config/load.js';
import { parseKeyHex, type RandomBytes } from '../../drivers/dc09/cipher.js';
import { parseFrame, type Dc09Content, type Dc09Frame } from '../../drivers/dc09/frame.js';
import { ackFor, duhFor, nakMessage, openContent } from '../../drivers/dc09/message.js';
import { decodePayload, splitAccount } from '../../drivers/dc09/payload.js';
import { parseExtendedData } from '../../drivers/dc09/xdata.js';
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PanelMessageMeta, PanelService } from './panel-service.js';
import type { Dc09ReplayGuard } from './dc09-replay.js';

export type Dc09Outcome = 'ack' | 'duplicate' | 'nak' | 'duh';

export interface Dc09Answer {
  outcome: Dc09Outcome;
  reply: string;
  /** Why a NAK or DUH (for logs and tests). */
  reason?: string;
  panel?: string;
  /** Not a valid DC-09 frame (no CRC/length fields, or they do not match): over UDP this is not answered at all. */
  unframed?: true;
}

export interface Dc09ProcessorOptions {
  panels: Dc09PanelConfig[];
  secrets: Secrets;
  timestampWindow: Dc09ReceiverConfig['timestampWindow'];
  service: Pick<PanelService, 'handle' | 'heard'>;
  clock: Clock;
  log: Logger;
  /** How long a (account, seq, content) is remembered as already processed (default 5 min). */
  dedupWindowMs?: number;
  /** At most one unknown-account warning per source address per this (default 60 s). */
  warnIntervalMs?: number;
  /** Persistent replay guard for encrypted messages (create-dc09 gives it outbox.db). */
  replay?: Dc09ReplayGuard;
  randomBytes?: RandomBytes;
}

interface Panel {
  config: Dc09PanelConfig;
  key?: Buffer;
  requireEncryption: boolean;
}

const MAX_DEDUP = 20_000;
const MAX_WARN_SOURCES = 1_000;

export class Dc09Processor {
  private readonly opts: Dc09ProcessorOptions;
  private readonly panels = new Map<string, Panel>();
  /** Messages processed or being processed: expiry, and whether they were committed. */
  private readonly seen = new Map<string, { expiresAt: number; committed: Promise<boolean> }>();
  private readonly warned = new Map<string, number>();
  private readonly dedupWindowMs: number;
  readonly counts: Record<Dc09Outcome, number> = { ack: 0, duplicate: 0, nak: 0, duh: 0 };

  constructor(opts: Dc09ProcessorOptions) {
    this.opts = opts;
    this.dedupWindowMs = opts.dedupWindowMs ?? 5 * 60_000;
    for (const p of opts.panels) {
      const panel: Panel = { config: p, requireEncryption: false };
      if (p.keySecret) {
        const hex = opts.secrets.get(p.keySecret);
        if (hex === undefined)
          throw new GatehouseError(
            'CONFIG_INVALID',
            `alarm panel ${p.id}: secret "${p.keySecret}" (its AES key) is not in the secrets file`,
            { panel: p.id },
          );
        const key = parseKeyHex(hex);
        if (!key)
          throw new GatehouseError(
            'CONFIG_INVALID',
            `alarm panel ${p.id}: secret "${p.keySecret}" must be an AES key of 32, 48 or 64 hex digits (128/192/256 bit), got ${hex.trim().length} characters`,
            { panel: p.id },
          );
        panel.key = key;
      }
      panel.requireEncryption = p.requireEncryption ?? panel.key !== undefined;
      if (panel.requireEncryption && !panel.key)
        throw new GatehouseError('CONFIG_INVALID', `alarm panel ${p.id}: requireEncryption needs a keySecret`, { panel: p.id });
      this.panels.set(p.account.toUpperCase(), panel);
    }
  }

  async handle(text: string, from: { transport: 'tcp' | 'udp'; address: string }): Promise<Dc09Answer> {
    const now = this.opts.clock.now();
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      const a = this.nak(now, `${parsed.error}: ${parsed.detail}`);
      if (parsed.error === 'framing' || parsed.error === 'crc' || parsed.error === 'length') a.unframed = true;
      return a;
    }
    const frame = parsed.value;
    if (frame.token === 'ACK' || frame.token === 'NAK' || frame.token === 'DUH')
      return this.nak(now, `a receiver answer (${frame.token}) sent to the receiver`);
    const account = frame.account ?? (frame.encrypted ? undefined : splitAccount(dataOf(frame.rest)).account);
    const panel = account === undefined ? undefined : this.panels.get(account);
    if (!panel) {
      this.warnUnknown(from.address, account);
      return this.nak(now, `unknown account ${account ?? '(none)'}`);
    }
    const id = panel.config.id;
    if (!sameHex(panel.config.receiver, frame.receiver) || !sameHex(panel.config.line, frame.line))
      return this.nak(now, `receiver/line R${frame.receiver ?? ''}L${frame.line ?? ''} not configured for panel ${id}`, id);
    if (!frame.encrypted && panel.requireEncryption) {
      this.opts.log.warn({ panel: id, remote: from.address }, 'plain DC-09 message from a panel that must encrypt: refused');
      return this.nak(now, 'plain message from an encrypted-only panel', id);
    }
    const content = openContent(frame, panel.key);
    if (!content.ok)
      return content.error === 'token' ? this.duh(frame, content.detail, id) : this.nak(now, `${content.error}: ${content.detail}`, id);
    const ts = content.value.timestamp;
    if (frame.encrypted && ts !== undefined && this.opts.clock.state() === 'synced') {
      const { pastS, futureS } = this.opts.timestampWindow;
      if (ts < now - pastS * 1000 || ts > now + futureS * 1000)
        return this.nak(now, `timestamp ${new Date(ts).toISOString()} outside -${pastS}/+${futureS} s`, id);
    }
    let replay: ReplayRecord | undefined;
    if (frame.encrypted && ts !== undefined && this.opts.replay) {
      replay = { account: account!, digest: digestOf(frame, content.value, ts), ts };
      const refused = this.replayAnswer(this.opts.replay, replay, frame, panel, from.address, now);
      if (refused) return refused;
    }
    // Authenticated (or plain and allowed): the panel is alive whatever the payload says.
    this.opts.service.heard(id);
    const decoded = decodePayload(frame.token, content.value.data);
    if (!decoded.ok) return this.duh(frame, `${decoded.error}: ${decoded.detail}`, id);
    const key = `${account}|${frame.seq}|${frame.token}|${content.value.data}|${content.value.extended.join('][')}`;
    const earlier = this.earlier(key);
    if (earlier) {
      // Our ACK was lost (or the copy crossed it): answer as the first copy was answered.
      if (await earlier) {
        this.counts.duplicate++;
        return { outcome: 'duplicate', reply: ackFor(frame, this.opts.clock.now(), panel.key, this.opts.randomBytes), panel: id };
      }
      return this.nak(this.opts.clock.now(), 'the first copy of this message could not be recorded', id);
    }
    const meta: PanelMessageMeta = {
      seq: frame.seq,
      token: frame.token,
      encrypted: frame.encrypted,
      transport: from.transport,
      remote: from.address,
    };
    if (ts !== undefined) meta.panelTime = ts;
    if (content.value.extended.length > 0) meta.extended = parseExtendedData(content.value.extended);
    const work = this.commit(panel.config, decoded.value, meta, replay);
    const entry = {
      expiresAt: this.opts.clock.monotonic() + this.dedupWindowMs,
      committed: work.then(
        () => true,
        () => false,
      ),
    };
    this.seen.set(key, entry);
    try {
      await work;
    } catch (err) {
      if (this.seen.get(key) === entry) this.seen.delete(key);
      const code = err instanceof GatehouseError ? err.code : 'INTERNAL';
      const detail = { panel: id, remote: from.address, seq: frame.seq, code, err: (err as Error).message };
      this.opts.log.warn(detail, 'DC-09 message not recorded: NAK, the panel retries');
      return this.nak(this.opts.clock.now(), `not recorded (${code}): ${(err as Error).message}`, id);
    }
    this.counts.ack++;
    return { outcome: 'ack', reply: ackFor(frame, this.opts.clock.now(), panel.key, this.opts.randomBytes), panel: id };
  }

  /** The answer to an encrypted message the replay guard knows (duplicate) or refuses (stale); undefined for a new one. */
  private replayAnswer(
    guard: Dc09ReplayGuard,
    r: ReplayRecord,
    frame: Dc09Frame,
    panel: Panel,
    remote: string,
    now: number,
  ): Dc09Answer | undefined {
    const id = panel.config.id;
    const verdict = guard.check(r.account, r.digest, r.ts, { synced: this.opts.clock.state() === 'synced', now });
    if (verdict === 'duplicate') {
      this.counts.duplicate++;
      return { outcome: 'duplicate', reply: ackFor(frame, now, panel.key, this.opts.randomBytes), panel: id };
    }
    if (verdict === 'new') return undefined;
    const mark = guard.mark(r.account);
    const panelTime = new Date(r.ts).toISOString();
    this.opts.log.warn(
      { panel: id, remote, seq: frame.seq, panelTime, floor: mark && new Date(mark.floor).toISOString() },
      'DC-09 encrypted message older than the replay floor of its account (replayed capture?): NAK',
    );
    return this.nak(now, `replay: timestamp ${panelTime} below the account's replay floor`, id);
  }

  /** Processes an accepted message; resolves once its records (and its replay digest) are committed. */
  private async commit(
    panel: Dc09PanelConfig,
    events: PanelEvent[],
    meta: PanelMessageMeta,
    replay: ReplayRecord | undefined,
  ): Promise<void> {
    await this.opts.service.handle(panel, events, meta);
    if (!replay || !this.opts.replay) return;
    // Remembered only once processed: a NAKed message's retransmission must be processed, not skipped.
    const clock = {
      synced: this.opts.clock.state() === 'synced',
      now: this.opts.clock.now(),
      futureMs: this.opts.timestampWindow.futureS * 1000,
    };
    this.opts.replay.remember(replay.account, replay.digest, replay.ts, meta.seq, clock);
    await this.opts.replay.whenFlushed();
  }

  /** A NAK stamped now (for the transport's own failures). */
  nakNow(): string {
    this.counts.nak++;
    return nakMessage(this.opts.clock.now());
  }

  /** The answer-to-be of an earlier copy still remembered, or undefined (and expired copies forgotten). */
  private earlier(key: string): Promise<boolean> | undefined {
    const t = this.opts.clock.monotonic();
    // Insertion order is expiry order (same window for all): drop the expired from the front.
    for (const [k, e] of this.seen) {
      if (e.expiresAt > t && this.seen.size <= MAX_DEDUP) break;
      this.seen.delete(k);
    }
    const e = this.seen.get(key);
    return e !== undefined && e.expiresAt > t ? e.committed : undefined;
  }

  private nak(now: number, reason: string, panel?: string): Dc09Answer {
    this.counts.nak++;
    this.opts.log.debug({ reason, panel }, 'DC-09 NAK');
    const a: Dc09Answer = { outcome: 'nak', reply: nakMessage(now), reason };
    if (panel) a.panel = panel;
    return a;
  }

  private duh(frame: Dc09Frame, reason: string, panel: string): Dc09Answer {
    this.counts.duh++;
    this.opts.log.warn({ reason, panel, token: frame.token }, 'DC-09 message not understood (DUH)');
    return { outcome: 'duh', reply: duhFor(frame), reason, panel };
  }

  private warnUnknown(address: string, account: string | undefined): void {
    const t = this.opts.clock.monotonic();
    const last = this.warned.get(address);
    if (last !== undefined && t - last < (this.opts.warnIntervalMs ?? 60_000)) return;
    // Bounded: a scan from many addresses must not grow this map without limit.
    if (this.warned.size >= MAX_WARN_SOURCES) this.warned.clear();
    this.warned.set(address, t);
    this.opts.log.warn(
      { remote: address, account },
      'DC-09 message for an unknown account: NAK (warnings from this address muted for a while)',
    );
  }
}

interface ReplayRecord {
  account: string;
  digest: string;
  ts: number;
}

/** What was authenticated, as a digest: the same captured message always gives the same one, whatever its pad. */
function digestOf(frame: Dc09Frame, content: Dc09Content, ts: number): string {
  return createHash('sha256')
    .update(`${frame.token}|${frame.seq}|${content.data}|${content.extended.join('][')}|${ts}`)
    .digest('base64url');
}

/** The data of a plain message (up to the first ']'), to find `#acct|` when the header has none. */
function dataOf(rest: string): string {
  const i = rest.indexOf(']');
  return i < 0 ? rest : rest.slice(0, i);
}

function sameHex(configured: string | undefined, got: string | undefined): boolean {
  if (configured === undefined) return true;
  return got !== undefined && parseInt(configured, 16) === parseInt(got, 16);
}
