/**
 * The server side of HTTP Digest access authentication (RFC 7616, MD5, qop=auth) that
 * cameras put in front of their snapshot URL, plus Basic for the cameras that only do that
 * (the driver must answer Basic only when asked for it, never over a Digest challenge).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export interface DigestVerdict {
  ok: boolean;
  /** Value(s) for WWW-Authenticate when not ok. */
  challenge?: string;
  /** Which scheme the client used, so tests can check it never sent Basic to a Digest camera. */
  scheme?: 'digest' | 'basic' | 'none' | 'other';
}

export class HttpAuthenticator {
  private readonly nonces = new Map<string, number>();
  private readonly opaque = randomBytes(8).toString('hex');

  constructor(
    private readonly realm: string,
    private readonly users: () => Map<string, string>,
    private readonly mode: () => 'digest' | 'basic',
    private readonly nonceTtlMs = 60_000,
  ) {}

  check(req: IncomingMessage, now = Date.now()): DigestVerdict {
    const header = req.headers.authorization ?? '';
    const scheme = /^digest\s/i.test(header) ? 'digest' : /^basic\s/i.test(header) ? 'basic' : header ? 'other' : 'none';
    if (this.mode() === 'basic') {
      if (scheme === 'basic') {
        const [user, ...rest] = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8').split(':');
        if (user !== undefined && this.users().get(user) === rest.join(':')) return { ok: true, scheme };
      }
      return { ok: false, scheme, challenge: `Basic realm="${this.realm}"` };
    }
    if (scheme === 'digest' && this.verifyDigest(req, header, now)) return { ok: true, scheme };
    return { ok: false, scheme, challenge: this.challenge(now) };
  }

  private challenge(now: number): string {
    for (const [n, t] of this.nonces) if (now - t > this.nonceTtlMs) this.nonces.delete(n);
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, now);
    return `Digest realm="${this.realm}", qop="auth", algorithm=MD5, nonce="${nonce}", opaque="${this.opaque}"`;
  }

  private verifyDigest(req: IncomingMessage, header: string, now: number): boolean {
    const p: Record<string, string> = {};
    for (const m of header.slice(7).matchAll(/([a-zA-Z0-9-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) p[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
    const issued = p.nonce !== undefined ? this.nonces.get(p.nonce) : undefined;
    if (issued === undefined || now - issued > this.nonceTtlMs) return false;
    if (p.realm !== this.realm || (p.algorithm && p.algorithm.toUpperCase() !== 'MD5') || p.qop !== 'auth' || !p.nc || !p.cnonce)
      return false;
    if (p.uri !== req.url) return false;
    const password = p.username !== undefined ? this.users().get(p.username) : undefined;
    if (password === undefined) return false;
    const ha1 = md5(`${p.username}:${this.realm}:${password}`);
    const ha2 = md5(`${req.method}:${p.uri}`);
    return md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) === p.response;
  }
}
