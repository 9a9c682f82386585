/**
 * WS-Discovery for `gatehouse discover --onvif`: a multicast Probe (the `onvif` package's
 * Discovery) and, per camera found, its name and hardware from the scopes and, when
 * credentials are given for its address, its model from GetDeviceInformation, which also
 * says whether those credentials work.
 */
import { createRequire } from 'node:module';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { OnvifCamera } from './client.js';

const require = createRequire(import.meta.url);

interface ProbeMatch {
  probeMatches?: { probeMatch?: { endpointReference?: { address?: unknown }; XAddrs?: unknown; scopes?: unknown } };
}
interface DiscoveryLike {
  probe(opts: Record<string, unknown>, cb: (errs: unknown, found: ProbeMatch[]) => void): void;
  on(ev: 'error', fn: (err: unknown) => void): void;
  off(ev: 'error', fn: (err: unknown) => void): void;
}

const { Discovery } = require('onvif') as { Discovery: DiscoveryLike };

export interface DiscoveredCamera {
  /** The camera's WS-Discovery endpoint (urn:uuid:...). */
  endpoint: string;
  /** Host of its device service. */
  address: string;
  port: number;
  xaddr: string;
  name?: string;
  hardware?: string;
  /** From GetDeviceInformation, when credentials worked. */
  model?: string;
  manufacturer?: string;
  /** undefined: no credentials were tried for this address. */
  credentialsOk?: boolean;
  /** Why the credential check failed (coded), when it did. */
  error?: string;
}

export interface DiscoverOptions {
  timeoutMs: number;
  /** Called with `host:port`, then with `host`; undefined when none are known. */
  credentials?: (address: string) => { username: string; password: string } | undefined;
  /** Network interface name to probe from (e.g. eth0); default: the system's choice. */
  device?: string;
  /** Per-camera timeout for the credential check. */
  checkTimeoutMs?: number;
}

function scope(scopes: string[], kind: string): string | undefined {
  const prefix = `onvif://www.onvif.org/${kind}/`;
  const s = scopes.find((x) => x.toLowerCase().startsWith(prefix.toLowerCase()));
  if (!s) return undefined;
  try {
    return decodeURIComponent(s.slice(prefix.length));
  } catch {
    return s.slice(prefix.length);
  }
}

/** Probes the local network for ONVIF cameras for `timeoutMs`, then checks credentials where given. */
export async function discoverCameras(opts: DiscoverOptions): Promise<DiscoveredCamera[]> {
  // The package's Discovery is a shared emitter that emits 'error' for any odd datagram;
  // without a listener that would be thrown as an uncaught exception.
  const onError = () => undefined;
  Discovery.on('error', onError);
  let matches: ProbeMatch[];
  try {
    matches = await new Promise<ProbeMatch[]>((resolve) => {
      Discovery.probe({ timeout: opts.timeoutMs, resolve: false, ...(opts.device ? { device: opts.device } : {}) }, (_errs, found) =>
        resolve(found ?? []),
      );
    });
  } finally {
    Discovery.off('error', onError);
  }
  const cams: DiscoveredCamera[] = [];
  for (const m of matches) {
    const pm = m.probeMatches?.probeMatch;
    const xaddrs = typeof pm?.XAddrs === 'string' ? pm.XAddrs.split(/\s+/).filter(Boolean) : [];
    const xaddr = xaddrs.find((x) => x.startsWith('http://')) ?? xaddrs[0];
    if (!xaddr) continue;
    let u: URL;
    try {
      u = new URL(xaddr);
    } catch {
      continue;
    }
    const scopes = typeof pm?.scopes === 'string' ? pm.scopes.split(/\s+/) : [];
    const name = scope(scopes, 'name');
    const hardware = scope(scopes, 'hardware');
    cams.push({
      endpoint: String(pm?.endpointReference?.address ?? xaddr),
      address: u.hostname,
      port: Number(u.port || 80),
      xaddr,
      ...(name !== undefined ? { name } : {}),
      ...(hardware !== undefined ? { hardware } : {}),
    });
  }
  await Promise.all(cams.map((c) => checkCredentials(c, opts)));
  return cams.sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port);
}

async function checkCredentials(c: DiscoveredCamera, opts: DiscoverOptions): Promise<void> {
  // host:port first: several cameras may share an address (an NVR, or simulators on loopback).
  const cred = opts.credentials?.(`${c.address}:${c.port}`) ?? opts.credentials?.(c.address);
  if (!cred) return;
  const path = new URL(c.xaddr).pathname;
  const cam = new OnvifCamera({
    host: c.address,
    port: c.port,
    path,
    username: cred.username,
    password: cred.password,
    timeoutMs: opts.checkTimeoutMs ?? 3000,
  });
  try {
    // GetSystemDateAndTime first (unauthenticated) so a camera with a wrong clock is not mistaken for a wrong password.
    await cam.resyncTime();
    const info = await cam.deviceInfo();
    c.model = info.model;
    c.manufacturer = info.manufacturer;
    c.credentialsOk = true;
  } catch (err) {
    const code = isGatehouseError(err) ? err.code : 'INTERNAL';
    // Only a refusal says the credentials are wrong; an unreachable camera says nothing about them.
    if (code === 'DEVICE_AUTH_FAILED') c.credentialsOk = false;
    c.error = code;
  } finally {
    cam.close();
  }
}
