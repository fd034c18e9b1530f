/**
 * HTTP Digest (RFC 2617 as used by RFC 3261 22.4) for standard SIP
 * registrars such as Kamailio. MD5 with qop=auth or without qop.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SecurityLayer } from '../sip/endpoint.js';
import { methodOf, statusCode, type RawMessage } from '../sip/headers.js';
import { AuthenticationError, findScheme } from './ntlm-auth.js';
import { quote } from './params.js';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export interface DigestCredentials {
  /** The user part, or the full login when it is `user@domain`. */
  username: string;
  password: string;
}

interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  qop: 'auth' | undefined;
  algorithm: string;
  stale: boolean;
}

/** The Digest challenge among WWW-Authenticate / Proxy-Authenticate values; throws AuthenticationError when we cannot answer it. */
function readChallenge(values: readonly string[]): DigestChallenge {
  const header = findScheme(values, 'Digest');
  if (!header) throw new AuthenticationError('The server does not offer Digest authentication', 'impossible');
  const p = header.params;
  const nonce = p.get('nonce');
  if (!nonce) throw new AuthenticationError('Digest challenge without a nonce', 'protocol');
  const algorithm = p.get('algorithm') ?? 'MD5';
  if (algorithm.toUpperCase() !== 'MD5') throw new AuthenticationError(`Unsupported Digest algorithm ${algorithm}`, 'impossible');
  const qops = (p.get('qop') ?? '').split(',').map((q) => q.trim());
  const qop = qops.includes('auth') ? 'auth' : undefined;
  if (p.has('qop') && !qop) throw new AuthenticationError(`Unsupported Digest qop ${p.get('qop')}`, 'impossible');
  return { realm: p.get('realm') ?? '', nonce, opaque: p.get('opaque'), qop, algorithm, stale: (p.get('stale') ?? '').toLowerCase() === 'true' };
}

export class DigestAuthenticator implements SecurityLayer {
  readonly scheme = 'Digest';
  private current: DigestChallenge | undefined;
  private nc = 0;
  private answeredNonce: string | undefined;

  constructor(private readonly secrets: DigestCredentials) {}

  get handshakeComplete(): boolean {
    return this.answeredNonce !== undefined && this.answeredNonce === this.current?.nonce;
  }

  challenge(values: readonly string[]): void {
    const challenge = readChallenge(values);
    // The same nonce again (not stale) means our answer was wrong.
    if (this.answeredNonce !== undefined && !challenge.stale) throw new AuthenticationError('Authentication failed: the server refused the login and password', 'failed');
    this.current = challenge;
    this.nc = 0;
  }

  registered(): void {
    // A later challenge (nonce expiry on refresh) starts a new exchange.
    this.answeredNonce = undefined;
  }

  reset(): void {
    this.current = undefined;
    this.answeredNonce = undefined;
  }

  authorization(message: RawMessage): string | undefined {
    if (!this.current || statusCode(message) !== undefined) return undefined;
    const method = methodOf(message);
    if (method === 'REGISTER') this.answeredNonce = this.current.nonce;
    return this.credentials(this.current, method, message.startLine.split(' ')[1] ?? '', ++this.nc);
  }

  /**
   * Credentials for a request other than REGISTER that a proxy or the
   * server challenged (RFC 3261 22.2, 22.3): the value of the Authorization
   * (401) or Proxy-Authorization (407) header of the retried request. The
   * challenge is answered once, with nonce count 1; it does not replace the
   * registrar's. Throws AuthenticationError when it cannot be answered.
   */
  answer(values: readonly string[], method: string, uri: string): string {
    return this.credentials(readChallenge(values), method, uri, 1);
  }

  private credentials(challenge: DigestChallenge, method: string, uri: string, count: number): string {
    const { username, password } = this.secrets;
    const ha1 = md5(`${username}:${challenge.realm}:${password}`);
    const ha2 = md5(`${method}:${uri}`);
    let response: string;
    let extra = '';
    if (challenge.qop) {
      const nc = count.toString(16).padStart(8, '0');
      const cnonce = randomBytes(8).toString('hex');
      response = md5(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
      extra = `, qop=auth, nc=${nc}, cnonce=${quote(cnonce)}`;
    } else {
      response = md5(`${ha1}:${challenge.nonce}:${ha2}`);
    }
    return `Digest username=${quote(username)}, realm=${quote(challenge.realm)}, nonce=${quote(challenge.nonce)}, uri=${quote(uri)}, response=${quote(response)}, algorithm=${challenge.algorithm}${extra}${challenge.opaque !== undefined ? `, opaque=${quote(challenge.opaque)}` : ''}`;
  }

  verify(): 'accept' | 'ignore' {
    return 'accept';
  }
}
