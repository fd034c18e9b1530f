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

export class DigestAuthenticator implements SecurityLayer {
  readonly scheme = 'Digest';
  private realm = '';
  private nonce = '';
  private opaque: string | undefined;
  private qop: string | undefined;
  private algorithm = 'MD5';
  private nc = 0;
  private answeredNonce: string | undefined;
  private active = false;

  constructor(private readonly credentials: DigestCredentials) {}

  get handshakeComplete(): boolean {
    return this.answeredNonce !== undefined && this.answeredNonce === this.nonce;
  }

  challenge(values: readonly string[]): void {
    const header = findScheme(values, 'Digest');
    if (!header) throw new AuthenticationError('The server does not offer Digest authentication', 'impossible');
    const p = header.params;
    const nonce = p.get('nonce');
    if (!nonce) throw new AuthenticationError('Digest challenge without a nonce', 'protocol');
    const stale = (p.get('stale') ?? '').toLowerCase() === 'true';
    // The same nonce again (not stale) means our answer was wrong.
    if (this.answeredNonce !== undefined && !stale) throw new AuthenticationError('Authentication failed: the server refused the login and password', 'failed');
    const algorithm = p.get('algorithm') ?? 'MD5';
    if (algorithm.toUpperCase() !== 'MD5') throw new AuthenticationError(`Unsupported Digest algorithm ${algorithm}`, 'impossible');
    const qops = (p.get('qop') ?? '').split(',').map((q) => q.trim());
    this.qop = qops.includes('auth') ? 'auth' : undefined;
    if (p.has('qop') && !this.qop) throw new AuthenticationError(`Unsupported Digest qop ${p.get('qop')}`, 'impossible');
    this.realm = p.get('realm') ?? '';
    this.nonce = nonce;
    this.opaque = p.get('opaque');
    this.algorithm = algorithm;
    this.nc = 0;
    this.active = true;
  }

  registered(): void {
    // A later challenge (nonce expiry on refresh) starts a new exchange.
    this.answeredNonce = undefined;
  }

  reset(): void {
    this.active = false;
    this.answeredNonce = undefined;
  }

  authorization(message: RawMessage): string | undefined {
    if (!this.active || statusCode(message) !== undefined) return undefined;
    const method = methodOf(message);
    const uri = message.startLine.split(' ')[1] ?? '';
    const ha1 = md5(`${this.credentials.username}:${this.realm}:${this.credentials.password}`);
    const ha2 = md5(`${method}:${uri}`);
    let response: string;
    let extra = '';
    if (this.qop) {
      const nc = (++this.nc).toString(16).padStart(8, '0');
      const cnonce = randomBytes(8).toString('hex');
      response = md5(`${ha1}:${this.nonce}:${nc}:${cnonce}:auth:${ha2}`);
      extra = `, qop=auth, nc=${nc}, cnonce=${quote(cnonce)}`;
    } else {
      response = md5(`${ha1}:${this.nonce}:${ha2}`);
    }
    if (method === 'REGISTER') this.answeredNonce = this.nonce;
    return `Digest username=${quote(this.credentials.username)}, realm=${quote(this.realm)}, nonce=${quote(this.nonce)}, uri=${quote(uri)}, response=${quote(response)}, algorithm=${this.algorithm}${extra}${this.opaque !== undefined ? `, opaque=${quote(this.opaque)}` : ''}`;
  }

  verify(): 'accept' | 'ignore' {
    return 'accept';
  }
}
