/**
 * The SOAP side of the simulated camera: just enough XML reading for the requests the two
 * client libraries send (the simulator is ours, its input comes from our tests), the
 * envelopes and faults a camera answers with, and the WS-Security UsernameToken check.
 *
 * Reading is by local element name with regular expressions on purpose: a real XML parser
 * would hide the namespace prefixes the clients choose, and the simulator must accept any.
 */
import { createHash } from 'node:crypto';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tns1: 'http://www.onvif.org/ver10/topics',
  ter: 'http://www.onvif.org/ver10/error',
  /** WS-ResourceFramework faults (ResourceUnknownFault for a subscription that is gone). */
  'wsrf-rw': 'http://docs.oasis-open.org/wsrf/rw-2',
};

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
}

/** Text of the first element with this local name (any prefix), or undefined. */
export function textOf(xml: string, local: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${local}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${local}\\s*>`).exec(xml);
  return m ? unescapeXml(m[1]!.trim()) : undefined;
}

/** Attribute of the first element with this local name. */
export function attrOf(xml: string, local: string, attr: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${local}(\\s[^>]*)?/?>`).exec(xml);
  const a = m?.[1] && new RegExp(`\\b${attr}\\s*=\\s*"([^"]*)"`).exec(m[1]);
  return a ? unescapeXml(a[1]!) : undefined;
}

/** The local name of the first element inside Body: the operation asked for. */
export function bodyAction(xml: string): string | undefined {
  const m = /<(?:[\w.-]+:)?Body(?:\s[^>]*)?>\s*<(?:[\w.-]+:)?([\w.-]+)/.exec(xml);
  return m?.[1];
}

export function envelope(body: string, header = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:tds="${NS.tds}" xmlns:trt="${NS.trt}" xmlns:tptz="${NS.tptz}" xmlns:tev="${NS.tev}" ` +
    `xmlns:tt="${NS.tt}" xmlns:wsnt="${NS.wsnt}" xmlns:wsa="${NS.wsa}" xmlns:tns1="${NS.tns1}" xmlns:ter="${NS.ter}" ` +
    // Every prefix a fault's QName subcode uses must be declared (a strict client reads it as a QName).
    `xmlns:wsrf-rw="${NS['wsrf-rw']}">` +
    (header ? `<s:Header>${header}</s:Header>` : '') +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** A SOAP 1.2 fault, with the ONVIF subcode (ter:NotAuthorized, ter:ActionNotSupported...). */
export function fault(code: 'Sender' | 'Receiver', subcode: string, reason: string): string {
  return envelope(
    `<s:Fault><s:Code><s:Value>s:${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${escapeXml(reason)}</s:Text></s:Reason></s:Fault>`,
  );
}

/** xs:duration as the clients send it (PT60S, PT1M, PT2M30S, PT0.5S); undefined if absent or odd. */
export function parseDuration(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s.trim());
  if (!m) return undefined;
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000 + Number(m[4] ?? 0) * 1000;
}

export type AuthResult =
  { ok: true; username: string } | { ok: false; reason: 'missing' | 'unknown_user' | 'bad_digest' | 'stale' | 'replayed' };

/**
 * WS-Security UsernameToken with PasswordDigest = Base64(SHA1(nonce + created + password)),
 * `created` within `windowMs` of the camera's own clock (which may be skewed: that is what
 * the clients' time-shift must cope with), and a nonce used once within that window.
 */
export class UsernameTokenChecker {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly users: () => Map<string, string>,
    private readonly windowMs: number,
  ) {}

  check(xml: string, cameraNow: number): AuthResult {
    const username = textOf(xml, 'Username');
    const digest = textOf(xml, 'Password');
    const nonce = textOf(xml, 'Nonce');
    const created = textOf(xml, 'Created');
    if (!username || !digest || !nonce || !created) return { ok: false, reason: 'missing' };
    const password = this.users().get(username);
    if (password === undefined) return { ok: false, reason: 'unknown_user' };
    const expected = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
      .digest('base64');
    if (expected !== digest) return { ok: false, reason: 'bad_digest' };
    const at = Date.parse(created);
    if (!Number.isFinite(at) || Math.abs(at - cameraNow) > this.windowMs) return { ok: false, reason: 'stale' };
    for (const [n, t] of this.seen) if (Math.abs(t - cameraNow) > this.windowMs * 2) this.seen.delete(n);
    if (this.seen.has(nonce)) return { ok: false, reason: 'replayed' };
    this.seen.set(nonce, at);
    return { ok: true, username };
  }
}
