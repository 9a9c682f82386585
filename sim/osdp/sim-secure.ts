/** PLACEHOLDER until drivers/osdp/secure-channel.ts lands. */
import type { OsdpFrame } from '../../drivers/osdp/types.js';

export interface PdSecure {
  readonly established: boolean;
  answerChallenge(rndA: Uint8Array): Uint8Array;
  acceptScrypt(data: Uint8Array): Uint8Array;
  unwrapCommand(frame: OsdpFrame & { raw?: Uint8Array }): { code: number; data: Uint8Array };
  wrapReply(address: number, sqn: 0 | 1 | 2 | 3, code: number, data: Uint8Array): Uint8Array;
  handshakeReply(address: number, sqn: 0 | 1 | 2 | 3, code: number, data: Uint8Array): Uint8Array;
}

export function createPdSession(_key: Uint8Array | undefined, _chlng: OsdpFrame): PdSecure {
  throw new Error('secure channel not available yet');
}
