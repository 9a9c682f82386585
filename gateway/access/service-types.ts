/**
 * What the access service needs from its two collaborators, as interfaces: the RS-485 lines
 * (drivers/osdp/control-panel.ts implements ReaderLine) and the decision engine
 * (gateway/access/decider.ts implements Decider). Tests substitute fakes for pure logic.
 */
import type { OsdpBusConfig } from '../../config/schema.js';
import type { BuzzerControl, LedControl, OutputControl, ReaderEvent, ReaderLinkStatus } from '../../drivers/osdp/types.js';
import type { Direction } from './access-events.js';
import type { AccessRequest, Decision } from './decide.js';

/** One RS-485 line as the service uses it (drivers/osdp/control-panel.ts implements it). */
export interface ReaderLine {
  on(event: 'event', listener: (e: ReaderEvent) => void): unknown;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  output(address: number, cmds: OutputControl[]): Promise<void>;
  led(address: number, cmd: LedControl): Promise<void>;
  buzzer(address: number, cmd: BuzzerControl): Promise<void>;
  status(): ReaderLinkStatus[];
}

export interface LineReader {
  address: number;
  secure: 'required' | 'install' | 'off';
  key?: Uint8Array;
}

export type ReaderLineFactory = (bus: OsdpBusConfig, readers: LineReader[]) => ReaderLine;

/** The engine's own request and answer types (decide.ts): one definition of a decision. */
export type DecisionRequest = AccessRequest;
export type { Decision };

/** The decision engine as the service uses it (gateway/access/decider.ts implements it). */
export interface Decider {
  decide(req: DecisionRequest): Decision;
  commitPassage(p: { credentialId: string; door: string; direction: Direction; now: number }): void;
}
