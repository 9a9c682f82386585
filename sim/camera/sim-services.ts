/**
 * Which optional ONVIF services a simulated camera has (all by default): what it
 * advertises, which paths it serves (a request to any other, such as the `onvif`
 * package's fallback to the literal path "events" or "ptz", is answered 404 like a real
 * camera), and which operations it refuses for lack of a service.
 */
import type { XAddrs } from './responses.js';

export interface SimServiceOptions {
  events?: boolean;
  ptz?: boolean;
}

const PTZ_OPERATIONS = ['GetPresets', 'GotoPreset', 'SetPreset'];
const EVENT_OPERATIONS = ['CreatePullPointSubscription', 'PullMessages', 'Renew', 'Unsubscribe'];

export class SimServices {
  readonly events: boolean;
  readonly ptz: boolean;

  constructor(opts: SimServiceOptions = {}) {
    this.events = opts.events !== false;
    this.ptz = opts.ptz !== false;
  }

  /** The XAddrs GetServices and GetCapabilities advertise, under `base` (http://host:port). */
  xaddrs(base: string): XAddrs {
    return {
      device: `${base}/onvif/device_service`,
      media: `${base}/onvif/media_service`,
      ...(this.ptz ? { ptz: `${base}/onvif/ptz_service` } : {}),
      ...(this.events ? { events: `${base}/onvif/events_service` } : {}),
    };
  }

  servesPath(path: string): boolean {
    if (path === '/onvif/device_service' || path === '/onvif/media_service') return true;
    if (path === '/onvif/ptz_service') return this.ptz;
    return this.events && (path === '/onvif/events_service' || /^\/onvif\/events\/sub\/\d+$/.test(path));
  }

  /** The service an operation needs, when this camera does not have it. */
  missingFor(action: string): string | undefined {
    if (!this.ptz && PTZ_OPERATIONS.includes(action)) return 'PTZ';
    if (!this.events && EVENT_OPERATIONS.includes(action)) return 'Events';
    return undefined;
  }
}
