/**
 * DC-09 encryption (section 5.4.6 / Annex): AES-CBC with an all-zero IV and a 128, 192 or
 * 256-bit key. What follows the '[' that opens the data (data, ']', extended data,
 * timestamp) is prefixed with pseudo-random pad characters so its length is a multiple of
 * 16, encrypted and sent as upper-case hex. The pad stands in for the IV: with a zero IV, it
 * is what makes two identical events encrypt differently.
 *
 * Pad characters exclude '|', '[' and ']' (spec) so the receiver finds the end of the pad at
 * the first '|' (the spec's `[<pad>|data]`) or ']' (empty data: NULL, ACK). Real panels send
 * `<pad>|#acct|Nri0/RP0000]_ts` (Ajax plaintexts quoted in pysiaalarm); some put no '|' and
 * start the data with `#acct|`, in which case the pad ends before the `#acct` that matches the
 * header's account.
 */
import { createCipheriv, createDecipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import { fail, type Dc09Result } from './frame.js';

export type RandomBytes = (n: number) => Uint8Array;

/** Printable ASCII minus | [ ] (spec) and # (so a pad never looks like the start of `#acct|`). */
const PAD_ALPHABET = (() => {
  let s = '';
  for (let c = 0x21; c <= 0x7e; c++) if (!'|[]#'.includes(String.fromCharCode(c))) s += String.fromCharCode(c);
  return s;
})();

/** A key given as 32, 48 or 64 hex digits; undefined when it is not one. */
export function parseKeyHex(hex: string): Buffer | undefined {
  const h = hex.trim();
  if (!/^[0-9A-Fa-f]+$/.test(h) || ![32, 48, 64].includes(h.length)) return undefined;
  return Buffer.from(h, 'hex');
}

function algorithm(key: Uint8Array): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32)
    throw new RangeError(`AES key of ${key.length} bytes (16, 24 or 32 expected)`);
  return `aes-${key.length * 8}-cbc`;
}

const ZERO_IV = Buffer.alloc(16);

/**
 * Pads, encrypts and hex-encodes plain content (what would follow the '['). Non-empty data
 * gets the spec's '|' after the pad; empty data (ACK, NULL) is just `<pad>]...` as in the
 * published *NULL example.
 */
export function encryptContent(content: string, key: Uint8Array, randomBytes: RandomBytes = nodeRandomBytes): string {
  // 1..16 pad characters: at least one, as the published implementations do, so that even a
  // block-aligned body gets some randomness in front.
  const plain = content.startsWith(']') ? content : `|${content}`;
  const padLength = 16 - (plain.length % 16);
  const rnd = randomBytes(padLength);
  let pad = '';
  for (let i = 0; i < padLength; i++) pad += PAD_ALPHABET[rnd[i]! % PAD_ALPHABET.length];
  const cipher = createCipheriv(algorithm(key), key, ZERO_IV);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.from(pad + plain, 'latin1')), cipher.final()])
    .toString('hex')
    .toUpperCase();
}

/** Decrypts hex ciphertext and strips the pad; the result is plain content for parseContent(). */
export function decryptContent(hex: string, key: Uint8Array, account?: string): Dc09Result<string> {
  if (hex.length === 0 || hex.length % 32 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex))
    return fail('decrypt', `ciphertext is not a whole number of hex blocks (${hex.length} characters)`);
  let text: string;
  try {
    const decipher = createDecipheriv(algorithm(key), key, ZERO_IV);
    decipher.setAutoPadding(false);
    text = Buffer.concat([decipher.update(Buffer.from(hex, 'hex')), decipher.final()]).toString('latin1');
  } catch (err) {
    return fail('decrypt', (err as Error).message);
  }
  const bar = text.indexOf('|');
  const close = text.indexOf(']');
  const end = bar >= 0 && (close < 0 || bar < close) ? bar : close;
  if (end < 0) return fail('decrypt', 'no data found after the pad (wrong key?)');
  // Real panels pad with random BYTES (Ajax: `v\nVµ\x02À«|#EA1984|...`), so only what follows
  // the pad must be text. A wrong key yields bytes there too: refuse it here rather than as
  // a confusing format error later.
  if (!/^[\x20-\x7e]*$/.test(text.slice(end))) return fail('decrypt', 'plaintext after the pad is not printable ASCII (wrong key?)');
  let start = end;
  if (text[end] === '|' && account !== undefined) {
    const acct = `#${account}`;
    if (text.slice(0, end).toUpperCase().endsWith(acct.toUpperCase())) start = end - acct.length;
  }
  // The '|' that ends the pad is a delimiter, not data.
  return { ok: true, value: start === end && text[end] === '|' ? text.slice(end + 1) : text.slice(start) };
}
