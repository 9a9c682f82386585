/**
 * LED and buzzer feedback to a reader, within what it said it can do (its osdp_PDCAP):
 * feedback a reader cannot give is not put on the wire at all (a debug log says so), so a
 * reader without a buzzer never receives osdp_BUZ and a bi-colour one no amber. Feedback is
 * a courtesy: a failed send is dropped, the door decision never waits on it.
 */
import { unsupportedBy, type ReaderCapabilities } from '../../drivers/osdp/capabilities.js';
import type { BuzzerControl, LedControl } from '../../drivers/osdp/types.js';
import type { Logger } from '../core/log.js';
import type { ReaderLine } from './service-types.js';

export interface FeedbackTarget {
  id: string;
  address: number;
  line: Pick<ReaderLine, 'led' | 'buzzer'>;
  /** undefined until the reader's PDCAP was read: then everything is sent. */
  capabilities: ReaderCapabilities | undefined;
}

export function sendLed(t: FeedbackTarget, led: LedControl, log: Logger): void {
  const why = unsupportedBy(t.capabilities, { led: led.color });
  if (why) return void log.debug({ reader: t.id, color: led.color, why }, 'osdp_LED not sent');
  void t.line.led(t.address, led).catch(() => undefined);
}

export function sendBuzzer(t: FeedbackTarget, buzz: BuzzerControl, log: Logger): void {
  const why = unsupportedBy(t.capabilities, { buzzer: true });
  if (why) return void log.debug({ reader: t.id, why }, 'osdp_BUZ not sent');
  void t.line.buzzer(t.address, buzz).catch(() => undefined);
}
