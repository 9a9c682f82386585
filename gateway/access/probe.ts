/**
 * The live check of the OSDP readers (`gatehouse check --devices`): each reader's identity
 * (osdp_ID) and a secure-channel handshake with the key the gateway would use.
 *
 * - Daemon running: its control panels hold the serial ports and poll every reader all the
 *   time, so the probe asks the access service how each link is now (online over the secure
 *   channel, or why not), waiting up to the device timeout for a reader still setting up.
 * - Daemon stopped: one control panel per line is opened here with the configured readers
 *   and their keys, and each reader is online (ID, CAP, handshake) or has failed within the
 *   timeout. A reader waiting for `secure: install` is only identified: installing its key
 *   is the daemon's job (the key must be stored where the daemon keeps it).
 */
import type { CompoundConfig, ReaderConfig } from '../../config/schema.js';
import { OsdpControlPanel } from '../../drivers/osdp/control-panel.js';
import { openSerialLine, type OsdpLine } from '../../drivers/osdp/line.js';
import type { PdIdentity } from '../../drivers/osdp/types.js';
import type { DeviceProbeResult, FamilyProbe, ProbeContext } from '../families/family.js';
import type { AccessInstance } from './create-access.js';
import { readerKeySecret } from './family.js';
import { ReaderKeyStore } from './keys.js';

/** How a reader's link ended up within the time it was given. */
interface Outcome {
  online: boolean;
  secure: boolean;
  identity?: PdIdentity | undefined;
  problem?: string | undefined;
  /** The line could not be opened at all. */
  lineError?: string | undefined;
  /** Identified only (not installed yet). */
  identifiedOnly?: boolean;
}

export const probe: FamilyProbe<CompoundConfig>['probe'] = async (ctx) => {
  const { config } = ctx;
  if (!config.readers.length) return [];
  const outcomes = ctx.running ? await fromDaemon(ctx, ctx.running as AccessInstance) : await standalone(ctx);
  return config.readers.map((r) => {
    const result = judge(r, config, outcomes.get(r.id) ?? { online: false, secure: false });
    ctx.progress(`reader ${r.id}: ${result.ok ? 'OK' : `FAIL (${result.status})`}`);
    return result;
  });
};

async function fromDaemon(ctx: ProbeContext<CompoundConfig>, access: AccessInstance): Promise<Map<string, Outcome>> {
  const out = new Map<string, Outcome>();
  const deadline = ctx.clock.monotonic() + ctx.deviceTimeoutMs;
  for (const r of ctx.config.readers) ctx.progress(`checking reader ${r.id} (address ${r.address} on ${busPath(ctx.config, r)})…`);
  // Every reader is polled all the time by the daemon: wait only for those still setting up.
  for (;;) {
    let pending = false;
    for (const r of ctx.config.readers) {
      const link = access.service.readerLink(r.id);
      if (!link) continue;
      const settled = link.online || link.problem !== undefined;
      if (!settled) pending = true;
      out.set(r.id, {
        online: link.online,
        secure: link.secure,
        identity: link.identity as PdIdentity | undefined,
        problem: link.problem,
      });
    }
    if (!pending || ctx.clock.monotonic() >= deadline) return out;
    await new Promise<void>((resolve) => ctx.timers.setTimeout(resolve, 100));
  }
}

async function standalone(ctx: ProbeContext<CompoundConfig>): Promise<Map<string, Outcome>> {
  const { config } = ctx;
  const out = new Map<string, Outcome>();
  let keys: ReaderKeyStore | undefined;
  try {
    keys = new ReaderKeyStore(ctx.dataDir, ctx.secrets, { readOnly: true });
  } catch {
    // An unreadable key file was already reported by the configuration check; probe with the secrets.
  }
  await Promise.all(
    config.osdpBuses.map(async (bus) => {
      const readers = config.readers.filter((r) => r.bus === bus.id);
      if (!readers.length) return;
      for (const r of readers) ctx.progress(`checking reader ${r.id} (address ${r.address} on ${bus.path})…`);
      const lineOptions = readers.map((r) => {
        let key: Uint8Array | undefined;
        try {
          key = keys?.keyFor(r);
        } catch {
          key = undefined;
        }
        const installed = keys?.isInstalled(r.id) ?? false;
        // Never KEYSET from the command line: the daemon installs the key and stores it.
        if (r.secure === 'off' || (r.secure === 'install' && !installed))
          return { r, opts: { address: r.address, secure: 'off' as const } };
        if (!key) return { r, opts: undefined };
        return { r, opts: { address: r.address, secure: 'required' as const, key } };
      });
      for (const { r, opts } of lineOptions)
        if (!opts) out.set(r.id, { online: false, secure: false, problem: `no key: secret "${readerKeySecret(r)}" is missing` });
      const usable = lineOptions.filter((l) => l.opts !== undefined);
      if (!usable.length) return;
      let done: () => void = () => undefined;
      const allSettled = new Promise<void>((resolve) => (done = resolve));
      let lineError: string | undefined;
      const openPort = (path: string, baud: number): OsdpLine => {
        const line = openSerialLine(path, baud);
        const open = line.open.bind(line);
        line.open = () =>
          open().catch((err: unknown) => {
            lineError ??= (err as Error).message;
            // The line does not open: every reader on it has its answer now, not at the timeout.
            done();
            throw err;
          });
        return line;
      };
      const panel = new OsdpControlPanel({
        bus,
        readers: usable.map((l) => l.opts),
        clock: ctx.clock,
        timers: ctx.timers,
        log: ctx.log.child({ bus: bus.id }),
        openPort,
        // A few tries per reader within the timeout (a first ID may be lost on a noisy line); the first answer settles it.
        readerBackoff: { minMs: 500, maxMs: 1000 },
        lineBackoff: { minMs: ctx.deviceTimeoutMs, maxMs: ctx.deviceTimeoutMs },
      });
      const byAddress = new Map(usable.map((l) => [l.r.address, l.r]));
      const settled = new Set<string>();
      const settle = (r: ReaderConfig, o: Outcome): void => {
        if (settled.has(r.id)) return;
        settled.add(r.id);
        out.set(r.id, o);
        if (settled.size === usable.length) done();
      };
      panel.on('event', (e) => {
        const r = byAddress.get(e.address);
        if (!r) return;
        const identity = panel.status().find((l) => l.address === e.address)?.identity;
        const installWait = r.secure === 'install' && !(keys?.isInstalled(r.id) ?? false);
        if (e.kind === 'online')
          settle(r, { online: true, secure: e.secure, identity: e.identity ?? identity, identifiedOnly: installWait });
        else if (e.kind === 'secure-failed') settle(r, { online: false, secure: false, identity, problem: e.reason });
      });
      panel.start();
      const timer = ctx.timers.setTimeout(done, ctx.deviceTimeoutMs);
      await allSettled;
      timer.cancel();
      const status = panel.status();
      await panel.stop();
      for (const { r } of usable) {
        if (settled.has(r.id)) continue;
        const identity = status.find((l) => l.address === r.address)?.identity;
        out.set(r.id, { online: false, secure: false, identity, ...(lineError !== undefined ? { lineError } : {}) });
      }
    }),
  );
  return out;
}

function busPath(config: CompoundConfig, r: ReaderConfig): string {
  return config.osdpBuses.find((b) => b.id === r.bus)?.path ?? r.bus;
}

function identityOf(id: PdIdentity | undefined): Record<string, string> | undefined {
  if (!id) return undefined;
  return { vendor: id.vendor, model: String(id.model), version: String(id.version), serial: String(id.serial), firmware: id.firmware };
}

function describe(id: PdIdentity | undefined): string {
  return id ? `vendor ${id.vendor} model ${id.model} serial ${id.serial} firmware ${id.firmware}` : 'identity not read';
}

/** The verdict and, for a failure, what the installer does about it. */
export function judge(r: ReaderConfig, config: CompoundConfig, o: Outcome): DeviceProbeResult {
  const bus = config.osdpBuses.find((b) => b.id === r.bus);
  const path = bus?.path ?? r.bus;
  const where = `address ${r.address} on ${path}`;
  const base = { id: r.id, kind: 'reader', ...(identityOf(o.identity) ? { identity: identityOf(o.identity)! } : {}) };
  const warnings: string[] = [];
  if (r.secure === 'off') warnings.push(`reader ${r.id} runs without secure channel: card numbers cross the RS-485 line in clear`);
  if (o.online) {
    const detail = `${describe(o.identity)}, secure ${o.secure}${o.identifiedOnly ? ' (not installed yet: the daemon sets its key at its first start)' : ''}`;
    return { ...base, ok: true, status: 'online', detail, ...(warnings.length ? { warnings } : {}) };
  }
  if (o.lineError !== undefined)
    return {
      ...base,
      ok: false,
      status: 'NO LINE',
      detail: `cannot open ${path}: ${o.lineError}`,
      advice: `plug in the RS-485 adapter of line ${bus?.id ?? r.bus} (${path}) or correct osdpBuses path; a daemon holding the line must be running for the check to go through it`,
    };
  const problem = o.problem;
  if (problem !== undefined && /wrong key|RMAC-I|wrong MAC/i.test(problem))
    return {
      ...base,
      ok: false,
      status: 'WRONG KEY',
      detail: `${describe(o.identity)}; secure channel refused: ${problem}`,
      advice: `wrong key: the reader at ${where} does not use the key in secret "${readerKeySecret(r)}"; put the reader's own key there, or reset the reader to its install key and set secure: install`,
    };
  if (problem !== undefined && /install key/i.test(problem))
    return {
      ...base,
      ok: false,
      status: 'WRONG KEY',
      detail: `${describe(o.identity)}; ${problem}`,
      advice: `the reader at ${where} already has its own key: put it in secret "${readerKeySecret(r)}" with secure: required, or reset the reader to its install key`,
    };
  if (problem !== undefined && /no key/.test(problem))
    return {
      ...base,
      ok: false,
      status: 'NO KEY',
      detail: problem,
      advice: `add "${readerKeySecret(r)}" (32 hex digits) to the secrets file, or set secure: install for a new reader`,
    };
  if (problem !== undefined && /line down/.test(problem))
    return {
      ...base,
      ok: false,
      status: 'NO LINE',
      detail: `the line ${path} is down (${problem})`,
      advice: `the RS-485 adapter of line ${bus?.id ?? r.bus} (${path}) went away: plug it in again (the daemon reopens it by itself)`,
    };
  if (problem !== undefined && !/no reply/.test(problem))
    return {
      ...base,
      ok: false,
      status: /refus|requires/.test(problem) ? 'REFUSED' : 'BAD ANSWER',
      detail: `${describe(o.identity)}; ${problem}`,
      advice: /refus|requires/.test(problem)
        ? `the reader at ${where} answers but refuses the secure channel: check its secure channel setting and key (secret "${readerKeySecret(r)}")`
        : `the reader at ${where} answers, but not usably: check for another device at address ${r.address}, the baud rate and the wiring`,
    };
  if (problem === undefined && o.identity)
    return {
      ...base,
      ok: false,
      status: 'NO HANDSHAKE',
      detail: `${describe(o.identity)}; the secure channel was not set up in time`,
      advice: `the reader at ${where} answers its ID but not the secure handshake: check its secure channel setting, and for replies lost on the line (termination, baud rate ${bus?.baudRate ?? '?'})`,
    };
  return {
    ...base,
    ok: false,
    status: 'NO ANSWER',
    detail: `no answer at ${where}${problem !== undefined ? ` (${problem})` : ''}`,
    advice: `no answer at ${where}: check the reader's OSDP address (${r.address}), its baud rate (${bus?.baudRate ?? '?'}), the A/B wiring and its power`,
  };
}
