/**
 * Why a charging command is refused before anything is written to the cabinet: the cut,
 * the lost supervision, the mains, the port's state, a session already there. Each refusal
 * is DEVICE_REFUSED with a `reason` the platform can act on.
 */
import type { CabinetReading, PortReading, PortStateRead } from '../../drivers/cabinet/types.js';
import { GatehouseError } from '../core/errors.js';
import { energised, type SafetyInterlock } from './safety.js';

const REFUSE_START: Partial<Record<PortStateRead, string>> = {
  unknown: 'port_unknown',
  available: 'not_plugged',
  charging: 'already_charging',
  finishing: 'already_charging',
  fault: 'port_fault',
  disabled: 'port_disabled',
};

export function refused(
  cabinet: string,
  port: number,
  reason: string,
  message: string,
  extra: Record<string, unknown> = {},
): GatehouseError {
  return new GatehouseError('DEVICE_REFUSED', message, { cabinet, port, reason, ...extra });
}

/** Throws when a session cannot start on port `port` (`p`, read in `last`) of `cabinet`. */
export function refuseStart(
  cabinet: string,
  port: number,
  p: PortReading,
  last: CabinetReading,
  interlock: SafetyInterlock,
  hasSession: () => boolean,
): void {
  const latched = interlock.latched();
  if (latched) throw refused(cabinet, port, 'cabinet_cut', `cabinet ${cabinet} is cut off (${latched}) until an operator resets it`);
  if (interlock.unsupervised()) {
    throw refused(cabinet, port, 'unsupervised', `cabinet ${cabinet} cannot be supervised (its safety registers are unreadable): no start`);
  }
  // The contactor open with no latch here: cut before a gateway restart, and nobody has reset it since.
  if (!last.status.powerOn) throw refused(cabinet, port, 'cabinet_cut', `cabinet ${cabinet} has its power cut`);
  if (!last.status.mainsPresent) throw refused(cabinet, port, 'mains_lost', `cabinet ${cabinet} has no mains`);
  const why = REFUSE_START[p.state];
  if (why) throw refused(cabinet, port, why, `port ${port} of ${cabinet} is ${p.state}: cannot start`, { state: p.state });
  if (hasSession()) throw refused(cabinet, port, 'session_active', `port ${port} of ${cabinet} already has a session`);
}

/** Throws when there is nothing to stop: no session and the port not energised. */
export function refuseStop(cabinet: string, port: number, p: PortReading, hasSession: boolean): void {
  if (!hasSession && !energised(p))
    throw refused(cabinet, port, 'not_charging', `port ${port} of ${cabinet} is ${p.state}: nothing to stop`, { state: p.state });
}

/** Throws when no vehicle is there to limit. */
export function refuseLimit(cabinet: string, port: number, p: PortReading): void {
  if (p.state !== 'plugged' && p.state !== 'charging' && p.state !== 'finishing')
    throw refused(cabinet, port, 'no_vehicle', `port ${port} of ${cabinet} is ${p.state}: no limit to set`, { state: p.state });
}

/** Throws when a live port would be disabled under a vehicle. */
export function refuseEnable(cabinet: string, port: number, p: PortReading, enabled: boolean): void {
  if (!enabled && energised(p))
    throw refused(cabinet, port, 'charging', `port ${port} of ${cabinet} is ${p.state}: stop it before disabling`, { state: p.state });
}
