/**
 * `gatehouse discover --onvif [--config FILE]`: probes the local network with WS-Discovery
 * and lists the ONVIF cameras that answer. With a compound file, each camera found at a
 * configured host is also logged into with that camera's username and secret, so an
 * installer learns before starting the daemon which cameras are reachable and which
 * passwords are wrong. Passwords are never printed.
 */
import type { LoadedConfig } from '../../config/load.js';
import type { CameraConfig } from '../../config/schema.js';
import { discoverCameras, type DiscoveredCamera, type DiscoverOptions } from '../../drivers/onvif/discovery.js';
import { cameraPasswordSecret } from './family.js';

export interface DiscoverOnvifOptions {
  loaded?: LoadedConfig;
  timeoutMs?: number;
  out?: (line: string) => void;
  /** For tests: another probe (the default is the real multicast one). */
  discover?: (opts: DiscoverOptions) => Promise<DiscoveredCamera[]>;
}

/**
 * The configured camera a found one is: same host and port, or same host when only one
 * camera is configured there (a camera may advertise its device service on another port).
 */
function match(cams: CameraConfig[], address: string, port: number): CameraConfig | undefined {
  const exact = cams.find((c) => c.host === address && c.port === port);
  if (exact) return exact;
  const sameHost = cams.filter((c) => c.host === address);
  return sameHost.length === 1 ? sameHost[0] : undefined;
}

/** Returns the exit status: 0 when something was found and every configured camera found answers to its credentials. */
export async function discoverOnvif(opts: DiscoverOnvifOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const timeoutMs = opts.timeoutMs ?? 3000;
  const configured = opts.loaded?.config.cameras ?? [];
  const secrets = opts.loaded?.secrets;
  out(`probing for ONVIF cameras (WS-Discovery, ${timeoutMs / 1000} s)…`);
  const found = await (opts.discover ?? discoverCameras)({
    timeoutMs,
    credentials: (address) => {
      const [host, port] = address.split(/:(?=\d+$)/);
      const cam = port ? configured.find((c) => c.host === host && c.port === Number(port)) : configured.find((c) => c.host === address);
      const password = cam && secrets?.get(cameraPasswordSecret(cam));
      return cam && password !== undefined ? { username: cam.username, password } : undefined;
    },
  });
  for (const c of found) {
    const cfg = match(configured, c.address, c.port);
    const creds =
      c.credentialsOk === true
        ? 'credentials ok'
        : c.credentialsOk === false
          ? 'credentials REFUSED'
          : c.error
            ? `not checked (${c.error})`
            : undefined;
    out(
      [
        `${c.address}:${c.port}`.padEnd(21),
        c.name !== undefined ? `name "${c.name}"` : undefined,
        c.hardware !== undefined ? `hardware ${c.hardware}` : undefined,
        c.model !== undefined ? `model ${c.manufacturer ? `${c.manufacturer} ` : ''}${c.model}` : undefined,
        creds,
        cfg ? `(configured as ${cfg.id})` : configured.length ? '(not in the compound file)' : undefined,
      ]
        .filter(Boolean)
        .join('  '),
    );
  }
  out(`${found.length} camera(s) found`);
  if (!opts.loaded) return found.length ? 0 : 1;
  let problems = 0;
  if (configured.length) out('configured cameras:');
  for (const cfg of configured) {
    const hit = found.find((c) => match(configured, c.address, c.port) === cfg);
    let verdict: string;
    if (!hit) verdict = 'NOT FOUND by the probe (powered off, another subnet, or multicast filtered)';
    else if (hit.credentialsOk) verdict = `found, credentials ok${hit.model ? ` (${hit.model})` : ''}`;
    else if (hit.credentialsOk === false)
      verdict = `found, credentials REFUSED: check username "${cfg.username}" and secret ${cameraPasswordSecret(cfg)}`;
    else if (secrets?.has(cameraPasswordSecret(cfg)) !== true) verdict = `found, but secret ${cameraPasswordSecret(cfg)} is missing`;
    else verdict = `found, credentials not checked (${hit.error ?? 'no answer'})`;
    if (!hit || hit.credentialsOk !== true) problems++;
    out(`  ${cfg.id.padEnd(20)} ${`${cfg.host}:${cfg.port}`.padEnd(21)} ${verdict}`);
  }
  return found.length && problems === 0 ? 0 : 1;
}
