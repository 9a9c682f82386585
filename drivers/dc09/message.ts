/**
 * Whole messages: opening a parsed frame (decrypting when the id starts with '*'),
 * building messages, and the receiver's three answers.
 *
 * - ACK echoes the sequence, receiver, line and account of the message it acknowledges;
 *   to an encrypted message it is itself encrypted (`"*ACK"`) and carries our timestamp.
 * - NAK is the fixed `"NAK"0000R0L0A0[]` plus the receiver's timestamp, never encrypted:
 *   it is what a panel gets when we could not trust the message (CRC, length, stale time,
 *   unknown account), and the timestamp lets it correct its clock.
 * - DUH says "well formed, not understood" (an id or data format we do not handle).
 */
import { decryptContent, encryptContent, type RandomBytes } from './cipher.js';
import {
  fail,
  formatContent,
  formatHeader,
  parseContent,
  wrapBody,
  type Dc09Content,
  type Dc09Frame,
  type Dc09Header,
  type Dc09Result,
} from './frame.js';

/** The plain content of a frame; encrypted frames need the account's key and must carry a timestamp. */
export function openContent(frame: Dc09Frame, key?: Uint8Array): Dc09Result<Dc09Content> {
  if (!frame.encrypted) return parseContent(frame.rest);
  if (!key) return fail('decrypt', 'encrypted message and no key for this account');
  const plain = decryptContent(frame.rest, key, frame.account);
  if (!plain.ok) return plain;
  const content = parseContent(plain.value);
  if (!content.ok) return content.error === 'format' ? fail('decrypt', `decrypted content: ${content.detail}`) : content;
  if (content.value.timestamp === undefined) return fail('timestamp', 'encrypted message without a timestamp');
  return content;
}

export function encodeMessage(header: Dc09Header, content: Dc09Content, key?: Uint8Array, randomBytes?: RandomBytes): string {
  const plain = formatContent(content);
  if (!header.encrypted) return wrapBody(formatHeader(header) + plain);
  if (!key) throw new Error('an encrypted DC-09 message needs a key');
  return wrapBody(formatHeader(header) + encryptContent(plain, key, randomBytes));
}

export function ackFor(frame: Dc09Header, now: number, key?: Uint8Array, randomBytes?: RandomBytes): string {
  const header: Dc09Header = { token: 'ACK', encrypted: frame.encrypted, seq: frame.seq };
  if (frame.receiver !== undefined) header.receiver = frame.receiver;
  if (frame.line !== undefined) header.line = frame.line;
  if (frame.account !== undefined) header.account = frame.account;
  const content: Dc09Content = { data: '', extended: [] };
  if (frame.encrypted) content.timestamp = now;
  return encodeMessage(header, content, key, randomBytes);
}

export function nakMessage(now: number): string {
  return encodeMessage(
    { token: 'NAK', encrypted: false, seq: '0000', receiver: '0', line: '0', account: '0' },
    { data: '', extended: [], timestamp: now },
  );
}

export function duhFor(frame: Dc09Header): string {
  const header: Dc09Header = { token: 'DUH', encrypted: false, seq: frame.seq };
  if (frame.receiver !== undefined) header.receiver = frame.receiver;
  if (frame.line !== undefined) header.line = frame.line;
  if (frame.account !== undefined) header.account = frame.account;
  return encodeMessage(header, { data: '', extended: [] });
}
