/**
 * Runs the live check of every configured family (`gatehouse check --devices`): each
 * family's probe, declared by its manifest and loaded lazily, then the uplink. The same code
 * runs in the CLI (the daemon stopped: the probes open the devices themselves) and in the
 * daemon (the `probe` control request: the probes go through the running families' drivers,
 * which hold the serial ports). It iterates the registry and knows no family's insides.
 *
 * Families run one after another (two may share an RS-485 line); each device is bounded by
 * `deviceTimeoutMs` inside its probe, and a probe that throws fails its family, not the check.
 */
import type { Secrets } from '../../config/load.js';
import { UplinkConfig, splitUplinkUrls, uplinkUrls, type CompoundConfig } from '../../config/schema.js';
import type { Clock, Timers } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { configuredFamilies } from '../families/registry.js';
import type { DeviceProbeResult, FamilyInstance, FamilyManifest } from '../families/family.js';
import type { UplinkStatus } from '../uplink/uplink.js';
import { probeUplink } from './uplink-probe.js';

export interface FamilyProbeReport {
  family: string;
  results: DeviceProbeResult[];
}

export interface ProbeRun {
  /** `daemon` when the running daemon ran the probes, `direct` when the CLI opened the devices. */
  via: 'daemon' | 'direct';
  families: FamilyProbeReport[];
}

export interface RunProbesOptions {
  config: CompoundConfig;
  secrets: Secrets;
  dataDir: string;
  families: readonly FamilyManifest<CompoundConfig>[];
  clock: Clock;
  timers: Timers;
  log: Logger;
  deviceTimeoutMs: number;
  progress(line: string): void;
  /** In the daemon: the running instance of a family (undefined if it failed to start). */
  running?: (family: string) => FamilyInstance | undefined;
  /** In the daemon: its uplink's status. */
  uplink?: () => UplinkStatus | undefined;
  /** With the daemon stopped: read-only rows of its outbox.db. */
  stored?: (sql: string) => Record<string, unknown>[] | undefined;
  /** GATEHOUSE_UPLINK_URL, when set. */
  uplinkUrl?: string | undefined;
}

export async function runProbes(o: RunProbesOptions): Promise<ProbeRun> {
  const via = o.running ? 'daemon' : 'direct';
  const families: FamilyProbeReport[] = [];
  for (const m of configuredFamilies(o.config, o.families)) {
    if (!m.probe) continue;
    let results: DeviceProbeResult[];
    try {
      const instance = o.running?.(m.name);
      if (o.running && !instance) throw new Error(`the ${m.name} family is not running in the daemon (see its log for why it failed)`);
      const { probe } = await m.probe();
      results = await probe({
        config: o.config,
        secrets: o.secrets,
        dataDir: o.dataDir,
        clock: o.clock,
        timers: o.timers,
        log: o.log.child({ family: m.name }),
        deviceTimeoutMs: o.deviceTimeoutMs,
        progress: o.progress,
        ...(instance ? { running: instance } : {}),
        ...(o.stored ? { stored: o.stored } : {}),
      });
    } catch (err) {
      results = [
        {
          id: m.name,
          kind: 'family',
          ok: false,
          status: 'CHECK FAILED',
          detail: (err as Error).message,
          advice: 'the check itself could not run for this family: see the message, and the daemon log if it runs',
        },
      ];
    }
    if (results.length) families.push({ family: m.name, results });
  }
  // Every broker node the uplink may fail over to (uplink.urls, or GATEHOUSE_UPLINK_URL's list) is checked.
  const urls = o.uplinkUrl !== undefined ? splitUplinkUrls(o.uplinkUrl) : uplinkUrls(o.config.uplink ?? {});
  if (urls.length) {
    // Only GATEHOUSE_UPLINK_URL may name the platform: the schema's defaults then.
    const uplinkCfg = o.config.uplink ?? UplinkConfig.parse({ url: urls[0] });
    const results: DeviceProbeResult[] = [];
    for (const [i, url] of urls.entries()) {
      o.progress(`checking the uplink (${url.replace(/\/\/[^@/]*@/, '//***@')})…`);
      const r = await probeUplink({
        config: uplinkCfg,
        url,
        ...(urls.length > 1 ? { id: `uplink node ${i + 1}` } : {}),
        secrets: o.secrets,
        clientId: uplinkCfg.clientId ?? `gatehouse-${o.config.compound.id}-${o.config.gateway.id}`,
        clock: o.clock,
        timers: o.timers,
        timeoutMs: o.deviceTimeoutMs,
        ...(o.uplink ? { running: o.uplink() } : {}),
      });
      o.progress(`uplink: ${r.ok ? 'OK' : `FAIL (${r.status})`}`);
      results.push(r);
    }
    families.push({ family: 'uplink', results });
  }
  return { via, families };
}
