/**
 * A reader's health as the access service reports it (moved out of access-service.ts): its
 * announced presence (events, the reader-offline alarm, the retained state), tamper and power
 * failure (LSTATR), secure channel failures and installs, and what it can do (PDCAP). The
 * link itself (commands, the lock re-assertion) stays with the service.
 */
import type { ReaderConfig } from '../../config/schema.js';
import { summariseCapabilities } from '../../drivers/osdp/capabilities.js';
import type { ReaderEvent } from '../../drivers/osdp/types.js';
import type { Logger } from '../core/log.js';
import type { PresenceAnnouncement } from '../presence/presence-policy.js';
import {
  powerFailureEvent,
  readerHealthEvent,
  readerOfflineAlarm,
  readerState,
  tamperEvent,
  type ReaderIdentity,
} from './access-events.js';
import type { AccessRecorder } from './access-recorder.js';
import { announcedView, type ReaderRuntime } from './reader-runtime.js';

type LocalStatus = Extract<ReaderEvent, { kind: 'local-status' }>;
type Capabilities = Extract<ReaderEvent, { kind: 'capabilities' }>;

export class ReaderHealth {
  /** Readers whose offline alarm is raised, so coming back clears exactly those. */
  private readonly offlineRaised = new Set<string>();

  constructor(
    private readonly o: {
      recorder: AccessRecorder;
      log: Logger;
      onKeySet(reader: ReaderConfig, key: Uint8Array): void;
    },
  ) {}

  /** What the presence policy decided to announce: the events, the offline alarm, the retained state. */
  announce(rt: ReaderRuntime, a: PresenceAnnouncement): void {
    const { recorder } = this.o;
    if (a.online) {
      const secure = a.detail?.secure === true;
      const identity = a.detail?.identity as ReaderIdentity | undefined;
      recorder.record(readerHealthEvent(rt.cfg.id, true, { secure, ...(identity ? { identity } : {}) }));
      if (this.offlineRaised.has(rt.cfg.id)) {
        this.offlineRaised.delete(rt.cfg.id);
        recorder.recordAlarm(readerOfflineAlarm(rt.cfg.id, rt.door?.id, false));
      }
    } else {
      const reason = a.reason ?? 'no answer';
      recorder.record(readerHealthEvent(rt.cfg.id, false, { reason }));
      this.offlineRaised.add(rt.cfg.id);
      recorder.recordAlarm(readerOfflineAlarm(rt.cfg.id, rt.door?.id, true, reason));
    }
    this.publish(rt);
  }

  localStatus(rt: ReaderRuntime, e: LocalStatus): void {
    if (e.tamper !== rt.tamper) {
      rt.tamper = e.tamper;
      this.o.recorder.recordAlarm(tamperEvent(rt.cfg.id, rt.door?.id, e.tamper));
      this.publish(rt);
    }
    if (e.power !== rt.powerFailure) {
      rt.powerFailure = e.power;
      this.o.log.warn({ reader: rt.cfg.id, powerFailure: e.power }, e.power ? 'reader reports a power failure' : 'reader power restored');
      this.o.recorder.recordAlarm(powerFailureEvent(rt.cfg.id, rt.door?.id, e.power));
      this.publish(rt);
    }
  }

  capabilities(rt: ReaderRuntime, e: Capabilities): void {
    rt.capabilities = summariseCapabilities(e.capabilities);
    this.o.log.debug({ reader: rt.cfg.id, capabilities: rt.capabilities }, 'reader capabilities read');
  }

  secureFailed(rt: ReaderRuntime, reason: string): void {
    rt.problem = reason;
    this.o.log.error(
      { reader: rt.cfg.id, reason },
      'secure channel to the reader failed: check its key (osdp.<reader> secret) or re-install it',
    );
    this.o.recorder.record({
      class: 'device',
      type: 'reader.secure_failed',
      source: { device: rt.cfg.id },
      data: { reader: rt.cfg.id, reason },
    });
  }

  keySet(rt: ReaderRuntime, key: Uint8Array): void {
    this.o.onKeySet(rt.cfg, key);
    this.o.log.info({ reader: rt.cfg.id }, 'reader installed: its own secure channel key is set and stored');
    this.o.recorder.record({ class: 'system', type: 'reader.key_set', source: { device: rt.cfg.id }, data: { reader: rt.cfg.id } });
  }

  /** The reader's retained state: presence as announced, the rest as it is. */
  publish(rt: ReaderRuntime): void {
    this.o.recorder.setState(rt.cfg.id, readerState(announcedView(rt)), 'reader state');
  }
}
