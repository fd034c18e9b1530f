/**
 * Parses a challenge or credentials header value:
 * `NTLM realm="SIP Communications Service", targetname="x", version=4`.
 * Quoted strings may contain commas and escaped quotes (RFC 3261 25.1).
 */
import { ParleyError } from '@parley/core';

export interface AuthHeader {
  scheme: string;
  params: ReadonlyMap<string, string>;
}

export class AuthHeaderError extends ParleyError {
  declare readonly code: 'ocs-auth-header-malformed';
  constructor(message: string) {
    super('ocs-auth-header-malformed', message);
  }
}

export function parseAuthHeader(value: string): AuthHeader {
  const match = /^\s*([A-Za-z][A-Za-z0-9._-]*)(?:\s+|$)/.exec(value);
  if (!match) throw new AuthHeaderError(`Malformed authentication header: ${JSON.stringify(value.slice(0, 60))}`);
  const scheme = match[1]!;
  const params = new Map<string, string>();
  let at = match[0].length;
  const s = value;
  while (at < s.length) {
    while (at < s.length && /[\s,]/.test(s[at]!)) at++;
    if (at >= s.length) break;
    const nameMatch = /^([A-Za-z0-9._-]+)\s*=\s*/.exec(s.slice(at));
    if (!nameMatch) throw new AuthHeaderError(`Malformed parameter in authentication header near ${JSON.stringify(s.slice(at, at + 20))}`);
    const name = nameMatch[1]!.toLowerCase();
    at += nameMatch[0].length;
    let paramValue = '';
    if (s[at] === '"') {
      at++;
      let closed = false;
      while (at < s.length) {
        const ch = s[at]!;
        if (ch === '\\' && at + 1 < s.length) {
          paramValue += s[at + 1];
          at += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          at++;
          break;
        }
        paramValue += ch;
        at++;
      }
      if (!closed) throw new AuthHeaderError(`Unterminated quoted value for "${name}" in authentication header`);
    } else {
      const tokenMatch = /^[^\s,"]*/.exec(s.slice(at))!;
      paramValue = tokenMatch[0];
      at += paramValue.length;
    }
    if (params.has(name)) throw new AuthHeaderError(`Duplicate parameter "${name}" in authentication header`);
    params.set(name, paramValue);
  }
  return { scheme, params };
}

/** Quotes a parameter value; the caller guarantees it holds no CR/LF. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * A challenge's `version` ([MS-SIPAE] 2.2.1: which signature format the
 * server speaks) when it is a plausible one, else `current`.
 */
export function offeredVersion(params: ReadonlyMap<string, string>, current: number): number {
  const version = Number(params.get('version') ?? current);
  return Number.isInteger(version) && version > 0 && version < 100 ? version : current;
}

/**
 * What every Authorization header of an NTLM or Kerberos security association
 * starts with: the scheme, `qop`, the `opaque` that names the association once
 * the server has given one (empty: left out), `realm` and `targetname`.
 */
export function associationParams(scheme: string, opaque: string, realm: string, targetName: string): string {
  return `${scheme} qop="auth"${opaque ? `, opaque=${quote(opaque)}` : ''}, realm=${quote(realm)}, targetname=${quote(targetName)}`;
}

/** `, version=N` for a REGISTER in the handshake; said only above 2, the version assumed without it. */
export function versionParam(version: number): string {
  return version > 2 ? `, version=${version}` : '';
}

/** A signed message's signature parameters (from MessageSigner.sign). */
export function signatureParams(signature: { crand: string; cnum: string; response: string }): string {
  return `, crand=${quote(signature.crand)}, cnum=${quote(signature.cnum)}, response=${quote(signature.response)}`;
}
