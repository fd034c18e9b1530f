/**
 * The registrar side of [MS-SIPAE] 3.2.2 / 3.2.5 for NTLM, as Office
 * Communicator runs it over three REGISTERs:
 *   1. unauthenticated → 401 `NTLM realm, targetname, version`
 *   2. `gssapi-data=""` → 401 with the CHALLENGE in `gssapi-data`, and `opaque`
 *   3. the AUTHENTICATE in `gssapi-data`, already signed when version ≥ 4
 * Afterwards every outgoing message is signed and every incoming one checked.
 */
import { ParleyError } from '@parley/core';
import { hostname } from 'node:os';
import { createAuthenticate, parseChallenge, splitLogin } from '../ntlm.js';
import { MessageSigner } from '../signing.js';
import type { SecurityLayer } from '../sip/endpoint.js';
import { methodOf, statusCode, type RawMessage } from '../sip/headers.js';
import { associationParams, offeredVersion, parseAuthHeader, quote, signatureParams, versionParam, type AuthHeader } from './params.js';

export class AuthenticationError extends ParleyError {
  declare readonly code: 'ocs-authentication-failed' | 'ocs-authentication-impossible' | 'ocs-authentication-protocol';
  constructor(
    message: string,
    /** 'failed': wrong credentials; 'impossible': the server wants something we cannot do. */
    readonly kind: 'failed' | 'impossible' | 'protocol',
  ) {
    super(`ocs-authentication-${kind}`, message);
  }
}

type State = 'initial' | 'negotiate' | 'authenticate' | 'established';

export interface NtlmCredentials {
  login: string;
  password: string;
}

/** The NTLM challenge among a 401's WWW-Authenticate headers, or undefined. */
export function findScheme(values: readonly string[], scheme: string): AuthHeader | undefined {
  for (const value of values) {
    let parsed: AuthHeader;
    try {
      parsed = parseAuthHeader(value);
    } catch (error) {
      // A malformed header for another scheme must not stop us; one for ours is reported.
      if (value.trim().toLowerCase().startsWith(scheme.toLowerCase())) throw new AuthenticationError((error as Error).message, 'protocol');
      continue;
    }
    if (parsed.scheme.toLowerCase() === scheme.toLowerCase()) return parsed;
  }
  return undefined;
}

export class NtlmAuthenticator implements SecurityLayer {
  readonly scheme = 'NTLM';
  private state: State = 'initial';
  private realm = '';
  private targetName = '';
  private version = 2;
  private opaque = '';
  private gssapiData = '';
  private signer: MessageSigner | undefined;
  private readonly workstation = hostname().split('.')[0]!.toUpperCase().slice(0, 15) || 'PARLEY';

  constructor(private readonly credentials: NtlmCredentials) {}

  get established(): boolean {
    return this.state === 'established';
  }
  /** True once the client has proved the password: a 401 now means it was wrong. */
  get handshakeComplete(): boolean {
    return this.state === 'authenticate' || this.state === 'established';
  }

  /** Feeds a 401 to a REGISTER. Throws AuthenticationError when it cannot continue. */
  challenge(values: readonly string[]): void {
    if (this.handshakeComplete) throw new AuthenticationError('Authentication failed: the server refused the login and password', 'failed');
    const header = findScheme(values, 'NTLM');
    if (!header) throw new AuthenticationError('The server does not offer NTLM authentication', 'impossible');
    const p = header.params;
    this.realm = p.get('realm') ?? this.realm;
    this.targetName = p.get('targetname') ?? this.targetName;
    this.version = offeredVersion(p, this.version);
    if (p.has('opaque')) this.opaque = p.get('opaque')!;
    const data = p.get('gssapi-data');
    if (data === undefined || data === '') {
      if (this.state !== 'initial') throw new AuthenticationError('The server restarted the NTLM handshake without a challenge', 'protocol');
      this.state = 'negotiate';
      return;
    }
    if (!/^[A-Za-z0-9+/=]+$/.test(data)) throw new AuthenticationError('The NTLM challenge is not valid base64', 'protocol');
    let challenge;
    try {
      challenge = parseChallenge(Buffer.from(data, 'base64'));
    } catch (error) {
      throw new AuthenticationError(`Unreadable NTLM challenge: ${(error as Error).message}`, 'protocol');
    }
    const { user, domain } = splitLogin(this.credentials.login);
    const { message, keys } = createAuthenticate({ challenge, user, domain, workstation: this.workstation, password: this.credentials.password });
    this.gssapiData = message.toString('base64');
    this.signer = new MessageSigner({ protocol: 'NTLM', realm: this.realm, targetName: this.targetName, opaque: this.opaque, version: this.version, keys });
    this.state = 'authenticate';
  }

  reset(): void {
    this.state = 'initial';
    this.signer = undefined;
    this.opaque = '';
    this.gssapiData = '';
  }

  /** A 2xx to REGISTER arrived: the handshake is done. */
  registered(): void {
    if (this.state === 'authenticate') this.state = 'established';
  }

  authorization(message: RawMessage): string | undefined {
    const common = (withOpaque: boolean) => associationParams('NTLM', withOpaque ? this.opaque : '', this.realm, this.targetName);
    const version = versionParam(this.version);
    const sign = () => signatureParams(this.signer!.sign(message));
    switch (this.state) {
      case 'initial':
        return undefined;
      case 'negotiate':
        return methodOf(message) === 'REGISTER' && statusCode(message) === undefined ? `${common(false)}, gssapi-data=""${version}` : undefined;
      case 'authenticate':
        if (methodOf(message) === 'REGISTER' && statusCode(message) === undefined) {
          return `${common(true)}, gssapi-data=${quote(this.gssapiData)}${version}${this.version > 3 ? sign() : ''}`;
        }
        return `${common(true)}${sign()}`;
      case 'established':
        return `${common(true)}${sign()}`;
    }
  }

  verify(message: RawMessage): 'accept' | 'ignore' {
    if (!this.signer) return 'accept';
    if (this.signer.verify(message)) return 'accept';
    const status = statusCode(message);
    // [MS-SIPAE] 3.2.5.2: 401s and provisional responses come unsigned; so may REGISTER answers mid-handshake.
    if (status !== undefined && (status === 401 || status < 200)) return 'accept';
    if (status !== undefined && methodOf(message) === 'REGISTER' && this.state !== 'established') return 'accept';
    return 'ignore';
  }
}
