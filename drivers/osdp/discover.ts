/**
 * Finding the readers on an RS-485 line (`gatehouse discover --osdp PATH`): osdp_ID to each
 * address in turn, in clear text (ID is allowed before a secure session), one at a time so
 * replies cannot collide. A reader that answers with a NAK (e.g. it insists on a secure
 * channel) is still there and is listed without its identity.
 */
import type { Timers } from '../../gateway/core/clock.js';
import { OsdpDeframer } from './deframer.js';
import { encodeFrame } from './frame.js';
import { decodePdid, encodeIdRequest } from './messages.js';
import type { OsdpLine } from './line.js';
import { Cmd, Reply, type PdIdentity } from './types.js';

export interface FoundReader {
  address: number;
  identity?: PdIdentity;
  /** Set when the reader answered but not with its identity (NAK code, or a bad reply). */
  note?: string;
}

export async function discoverReaders(
  line: OsdpLine,
  opts: {
    timers: Timers;
    replyTimeoutMs?: number;
    addresses?: number[];
    /** Told after each address, with the reader that answered there (for a progress display). */
    onAddress?(address: number, found: FoundReader | undefined): void;
    /** Checked before each address: true ends the scan with the readers found so far (Ctrl-C). */
    stopped?(): boolean;
  },
): Promise<FoundReader[]> {
  const addresses = opts.addresses ?? Array.from({ length: 127 }, (_, i) => i);
  const timeoutMs = opts.replyTimeoutMs ?? 200;
  const deframer = new OsdpDeframer();
  let waiting: { address: number; resolve(found: FoundReader | undefined): void } | undefined;
  line.onData((chunk) => {
    for (const out of deframer.push(chunk)) {
      if (out.kind !== 'frame' || !waiting || !out.frame.reply || out.frame.address !== waiting.address) continue;
      const { frame } = out;
      const w = waiting;
      waiting = undefined;
      if (frame.code === Reply.PDID) {
        try {
          w.resolve({ address: w.address, identity: decodePdid(frame.data) });
        } catch (err) {
          w.resolve({ address: w.address, note: `identity unreadable: ${(err as Error).message}` });
        }
      } else if (frame.code === Reply.NAK) w.resolve({ address: w.address, note: `answered NAK ${frame.data[0] ?? '?'}` });
      else w.resolve({ address: w.address, note: `answered reply 0x${frame.code.toString(16)}` });
    }
  });
  const found: FoundReader[] = [];
  for (const address of addresses) {
    if (opts.stopped?.()) break;
    deframer.reset();
    const reply = await new Promise<FoundReader | undefined>((resolve) => {
      const timer = opts.timers.setTimeout(() => {
        waiting = undefined;
        resolve(undefined);
      }, timeoutMs);
      waiting = {
        address,
        resolve: (r) => {
          timer.cancel();
          resolve(r);
        },
      };
      line.write(encodeFrame({ address, reply: false, sqn: 0, crc: true, code: Cmd.ID, data: encodeIdRequest() }));
    });
    if (reply) found.push(reply);
    opts.onAddress?.(address, reply);
  }
  return found;
}
