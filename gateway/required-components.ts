/**
 * What the daemon cannot run without, and what to tell an installer when it is missing: the
 * components a compound file requires (the broker its devices log in to, the uplink to its
 * platform) and the remedy for one that did not start.
 */
import { splitUplinkUrls, uplinkUrls, type CompoundConfig } from '../config/schema.js';
import type { BrokerAccount, FamilyManifest } from './families/family.js';
import { FAMILIES, configuredFamilies } from './families/registry.js';
import { redactUrl } from './uplink/connection.js';

/**
 * The components a compound file cannot do without: the embedded broker when locks or
 * operators log in to it, the uplink when a platform is configured. (An uplink that cannot
 * reach its platform is normal offline operation and not a failure: it keeps retrying.)
 */
export function requiredComponents(
  config: CompoundConfig,
  opts: { uplinkUrl?: string; operators?: readonly unknown[] },
  families: readonly FamilyManifest<CompoundConfig>[] = FAMILIES,
): Map<string, string> {
  const required = new Map<string, string>();
  const users: string[] = [];
  const kinds = new Map<string, number>();
  for (const a of brokerAccounts(config, configuredFamilies(config, families))) kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1);
  for (const [kind, n] of kinds) users.push(`${n} ${kind}${n > 1 ? 's' : ''}`);
  const operators = config.broker.operators.length + (opts.operators?.length ?? 0);
  if (operators) users.push(`${operators} operator${operators > 1 ? 's' : ''}`);
  if (users.length) required.set('broker', `the compound file has ${users.join(' and ')} that log in to it`);
  const urls = opts.uplinkUrl !== undefined ? splitUplinkUrls(opts.uplinkUrl) : uplinkUrls(config.uplink ?? {});
  if (urls.length > 0) required.set('uplink', `the compound file configures a platform (${urls.map(redactUrl).join(', ')})`);
  return required;
}

/** The device accounts the configured families declare for the embedded broker. */
export function brokerAccounts(config: CompoundConfig, families: readonly FamilyManifest<CompoundConfig>[]): BrokerAccount[] {
  return families.flatMap((f) => f.brokerAccounts?.(config) ?? []);
}

/** What an installer can do about a required component that did not start. */
export function remedy(component: string, err: unknown): string {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  if (component === 'broker' && code === 'EADDRINUSE') {
    return 'Another program holds the port (often a mosquitto installed alongside: `ss -ltnp` shows which); stop it, or set broker.port. ';
  }
  if (component === 'broker' && code === 'EADDRNOTAVAIL') return 'broker.host is not an address of this machine; fix broker.host. ';
  if (component === 'uplink') return 'Check the uplink section and its secrets (`gatehouse check --config FILE`). ';
  return '';
}
