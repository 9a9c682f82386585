/**
 * How a lock's DeviceEvents become platform events (docs/INTERFACES.md, "Smart locks").
 * Kept apart from the wiring so the mapping is one readable table.
 */
import type { EventInput } from '../core/events.js';
import type { LockDeviceEvent, LockSnapshot } from '../../drivers/smartlock/types.js';

/** The platform event for a device event, or undefined for those that are not events. */
export function toPlatformEvent(e: LockDeviceEvent): EventInput | undefined {
  const source = { device: e.lock };
  switch (e.type) {
    case 'access':
      return {
        class: 'access',
        type: e.granted ? 'access.granted' : 'access.denied',
        source,
        data: { lock: e.lock, method: e.method, credential: e.credential, ...(e.reason ? { reason: e.reason } : {}), by: 'lock' },
      };
    case 'door':
      return { class: 'access', type: e.door === 'open' ? 'door.opened' : 'door.closed', source, data: { lock: e.lock } };
    case 'tamper':
      return { class: 'alarm', type: 'lock.tamper', source, data: { lock: e.lock, active: e.active } };
    case 'battery_low':
      return { class: 'device', type: 'lock.battery_low', source, data: { lock: e.lock, level: e.level } };
    case 'online':
      return { class: 'device', type: 'device.online', source, data: { family: 'lock' } };
    case 'offline':
      return { class: 'device', type: 'device.offline', source, data: { family: 'lock', reason: e.reason } };
    case 'state':
    case 'protocol_error':
      return undefined;
  }
}

/** The retained `state/{lock}` body. */
export function toPlatformState(s: LockSnapshot): Record<string, unknown> {
  return {
    online: s.online,
    locked: s.locked,
    door: s.door,
    battery: s.battery,
    tamper: s.tamper,
    lastSeen: s.lastSeen === null ? null : new Date(s.lastSeen).toISOString(),
  };
}
