/**
 * What "healthy" means for a configuration on probation (docs/REMOTE-CONFIG.md): no
 * component failed to start, the platform uplink connected (when one is configured), and
 * every device that answered when the change was applied, and is still configured,
 * answering again. A pure function of what the gateway reports, so it is tested alone.
 */

export interface Health {
  failed: Record<string, string>;
  /** undefined: no platform uplink configured (the embedded broker only), nothing to wait for. */
  uplink: { connected: boolean; lastError: string | null } | undefined;
  /** Devices by their announced presence (true: answering). */
  devices: { device: string; announced: boolean | null }[];
}

/** What keeps the gateway from being healthy, one phrase each; empty when it is. */
export function healthProblems(h: Health, answeredBefore: readonly string[]): string[] {
  const out: string[] = [];
  const failed = Object.entries(h.failed);
  if (failed.length) out.push(`components failed: ${failed.map(([k, v]) => `${k} (${v})`).join(', ')}`);
  if (h.uplink && !h.uplink.connected) out.push(`uplink not connected${h.uplink.lastError ? ` (${h.uplink.lastError})` : ''}`);
  const now = new Map(h.devices.map((d) => [d.device, d.announced]));
  // A device the new file no longer configures is not tracked any more: it is not waited for.
  const silent = answeredBefore.filter((d) => now.has(d) && now.get(d) !== true);
  if (silent.length) out.push(`devices not answering as before: ${silent.join(', ')}`);
  return out;
}
