import { createHmac, timingSafeEqual } from 'node:crypto';

/** RFC 5849 §3.6: RFC 3986 unreserved characters stay, everything else is %XX. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Parses `Authorization: OAuth k="v", ...` (RFC 5849 §3.5.1). */
export function parseOAuthHeader(header: string): Map<string, string> | undefined {
  if (!/^OAuth\s/i.test(header)) return undefined;
  const out = new Map<string, string>();
  for (const part of header.slice(6).split(',')) {
    const match = /^\s*([\w.-]+)="([^"]*)"\s*$/.exec(part);
    if (match === null) return undefined;
    try {
      out.set(decodeURIComponent(match[1]!), decodeURIComponent(match[2]!));
    } catch {
      return undefined;
    }
  }
  return out;
}

/**
 * Checks an HMAC-SHA1 signature (RFC 5849 §3.4): the base string is the
 * method, the base URI the request was sent to, and the sorted, encoded
 * parameters (oauth_* without the signature, the query, and a form body).
 */
export function verifySignature(options: {
  method: string;
  baseUri: string;
  oauth: Map<string, string>;
  query: URLSearchParams;
  formBody?: URLSearchParams;
  consumerSecret: string;
  tokenSecret: string;
}): boolean {
  const pairs: Array<[string, string]> = [];
  for (const [k, v] of options.oauth) if (k !== 'oauth_signature' && k !== 'realm') pairs.push([percentEncode(k), percentEncode(v)]);
  for (const [k, v] of options.query) pairs.push([percentEncode(k), percentEncode(v)]);
  if (options.formBody !== undefined) for (const [k, v] of options.formBody) pairs.push([percentEncode(k), percentEncode(v)]);
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  const parameters = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const base = `${options.method.toUpperCase()}&${percentEncode(options.baseUri)}&${percentEncode(parameters)}`;
  const key = `${percentEncode(options.consumerSecret)}&${percentEncode(options.tokenSecret)}`;
  const expected = createHmac('sha1', key).update(base).digest();
  const given = Buffer.from(options.oauth.get('oauth_signature') ?? '', 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
