/**
 * The typed messages of the smart-lock protocol (what the codec produces) and the
 * DeviceEvents the driver emits about one lock. DeviceEvents never carry a raw credential:
 * the driver masks before emitting.
 */

export const LOCK_METHODS = ['card', 'pin', 'fingerprint', 'face', 'app', 'remote', 'key'] as const;
export type LockMethod = (typeof LOCK_METHODS)[number];

export const DENY_REASONS = ['unknown', 'expired', 'not_yet_valid', 'revoked', 'wrong_pin', 'disabled', 'unknown_reason'] as const;
export type DenyReason = (typeof DENY_REASONS)[number];

export const CREDENTIAL_KINDS = ['card', 'pin'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export type DoorPosition = 'open' | 'closed' | 'unknown';

// ---- lock → gateway -------------------------------------------------------------

export interface LockStatusMsg {
  kind: 'status';
  device: string;
  state: 'online' | 'offline';
  reason?: string | undefined;
  fw?: string | undefined;
}

export interface LockStateMsg {
  kind: 'state';
  device: string;
  locked: boolean;
  door: DoorPosition;
  battery: number;
  tamper: boolean;
}

interface EvtBase {
  /** The lock's own event id: lets the gateway drop QoS 1 redeliveries. */
  eid?: string | undefined;
  /** The lock's clock; informative only (many locks have no synced clock). */
  ts?: string | undefined;
}

export type LockEvt = EvtBase &
  (
    | { type: 'unlock'; result: 'granted' | 'denied'; method: LockMethod; credential?: string | undefined; reason?: DenyReason | undefined }
    | { type: 'door'; door: 'open' | 'closed' }
    | { type: 'tamper'; active: boolean }
    | { type: 'battery_low'; level: number }
  );

export interface LockEventMsg {
  kind: 'evt';
  device: string;
  event: LockEvt;
}

export type LockCommandResultMsg =
  | { kind: 'cmd/res'; device: string; cid: string; ok: true; result?: Record<string, unknown> | undefined }
  | { kind: 'cmd/res'; device: string; cid: string; ok: false; code: string; message?: string | undefined };

/** Everything a lock publishes, as parsed by the gateway. */
export type LockMessage = LockStatusMsg | LockStateMsg | LockEventMsg | LockCommandResultMsg;

// ---- gateway → lock -------------------------------------------------------------

export type LockCommandBody =
  | { op: 'open'; seconds?: number | undefined }
  | {
      op: 'credential.set';
      credentialId: string;
      kind: CredentialKind;
      value: string;
      validFrom?: string | undefined;
      validTo?: string | undefined;
    }
  | { op: 'credential.revoke'; credentialId: string };

/** A command on the wire: a correlation id, an expiry, and the body. */
export type LockCommand = LockCommandBody & { cid: string; expires?: string | undefined };

// ---- driver output --------------------------------------------------------------

export interface LockSnapshot {
  online: boolean;
  locked: boolean | null;
  door: DoorPosition;
  battery: number | null;
  tamper: boolean;
  /** Wall-clock ms of the last message from the lock. */
  lastSeen: number | null;
}

export type LockDeviceEvent =
  | { type: 'access'; lock: string; granted: boolean; method: LockMethod; credential: string; reason?: DenyReason }
  | { type: 'door'; lock: string; door: 'open' | 'closed' }
  | { type: 'tamper'; lock: string; active: boolean }
  | { type: 'battery_low'; lock: string; level: number }
  | { type: 'online'; lock: string }
  | { type: 'offline'; lock: string; reason: string }
  /** The snapshot after a message; `changed` is false when only lastSeen moved. */
  | { type: 'state'; lock: string; state: LockSnapshot; changed: boolean }
  /** The lock sent something the codec refused; it is dropped. */
  | { type: 'protocol_error'; lock: string; code: string; message: string; topic: string };
