/**
 * The client side of [MS-SIPAE] Kerberos on REGISTER:
 *   1. unauthenticated → 401 `Kerberos realm, targetname="sip/<FQDN>", version`
 *   2. `gssapi-data` = the AP-REQ for that service principal, with mutual
 *      authentication asked for → 401 with the AP-REP in `gssapi-data` and the
 *      `opaque` (or the AP-REP in the 2xx's Authentication-Info)
 *   3. the context complete, a signed REGISTER → 2xx with `rspauth`
 * Afterwards every outgoing message carries a gss_get_mic signature and every
 * incoming one is checked with gss_verify_mic, over the same signature string
 * as NTLM. The credentials come from the ticket cache (single sign-on) or
 * from the password, kept in memory only.
 */
import { ConnectionError } from '@parley/core';
import { MessageSigner, type MessageMac } from '../signing.js';
import type { RawMessage } from '../sip/headers.js';
import { headerValue, methodOf, statusCode } from '../sip/headers.js';
import { GSS_C_INTEG_FLAG, GSS_C_MUTUAL_FLAG, GssCredential, GssInitiator, KerberosError } from './gssapi.js';
import { AuthenticationError, findScheme } from './ntlm-auth.js';
import { associationParams, offeredVersion, parseAuthHeader, quote, signatureParams, versionParam } from './params.js';

export interface KerberosCredentials {
  /** Single sign-on: the ticket from the user's cache (KRB5CCNAME, kinit); no password. */
  sso: boolean;
  /** user@REALM, for a password sign-in. */
  principal: string;
  password?: string;
}

type State = 'initial' | 'ap-req' | 'authenticate' | 'established';

/**
 * The Kerberos principal for a login: user@domain → user@DOMAIN; DOMAIN\user
 * with a DNS domain → user@DOMAIN; with a NetBIOS domain name (no dot), which
 * is no realm, or a bare user → the user in krb5.conf's default realm.
 */
export function kerberosPrincipal(login: string): string {
  const backslash = login.indexOf('\\');
  if (backslash > 0) {
    const domain = login.slice(0, backslash);
    const user = login.slice(backslash + 1);
    return domain.includes('.') ? `${user}@${domain.toUpperCase()}` : user;
  }
  const at = login.lastIndexOf('@');
  if (at > 0) return `${login.slice(0, at)}@${login.slice(at + 1).toUpperCase()}`;
  return login;
}

export class KerberosAuthenticator {
  readonly scheme = 'Kerberos';
  private state: State = 'initial';
  private realm = '';
  private targetName = '';
  private version = 2;
  private opaque = '';
  private apReq = '';
  private context: GssInitiator | undefined;
  private credential: GssCredential | undefined;
  private signer: MessageSigner | undefined;

  constructor(private readonly credentials: KerberosCredentials) {}

  /** The service principal asked for (sip/<FQDN>), for messages. */
  get servicePrincipal(): string {
    return this.targetName;
  }

  /** True once the context is complete: a 401 to a signed REGISTER now means it was refused. */
  get handshakeComplete(): boolean {
    return this.state === 'authenticate' || this.state === 'established';
  }

  get established(): boolean {
    return this.state === 'established';
  }

  /** The user-facing error for a Kerberos failure during the handshake. */
  explain(error: unknown): ConnectionError | undefined {
    if (!(error instanceof KerberosError)) return undefined;
    return kerberosConnectionError(error, { sso: this.credentials.sso, principal: this.credentials.principal, service: this.targetName });
  }

  /** Seconds the security context stays valid (the ticket's end); undefined before it exists. */
  get remaining(): number | undefined {
    return this.context?.complete ? this.context.remaining : undefined;
  }

  async challenge(values: readonly string[]): Promise<void> {
    if (this.handshakeComplete) throw new AuthenticationError('Authentication failed: the server refused the Kerberos credentials', 'failed');
    const header = findScheme(values, 'Kerberos');
    if (!header) {
      if (this.state === 'ap-req') throw new AuthenticationError(`The server refused the Kerberos ticket for ${this.targetName}`, 'failed');
      throw new AuthenticationError('The server does not offer Kerberos authentication', 'impossible');
    }
    const p = header.params;
    if (this.state === 'initial') {
      this.realm = p.get('realm') ?? '';
      this.targetName = p.get('targetname') ?? '';
      if (!/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(this.targetName)) {
        throw new AuthenticationError(`The server's Kerberos target name ${JSON.stringify(this.targetName.slice(0, 80))} is not sip/<server name>`, 'protocol');
      }
      this.version = offeredVersion(p, this.version);
      await this.start();
      return;
    }
    // state 'ap-req': the answer to our AP-REQ. A 401 without gssapi-data means the ticket was refused.
    const data = p.get('gssapi-data');
    if (!data) throw new AuthenticationError(`The server refused the Kerberos ticket for ${this.targetName}`, 'failed');
    if (p.has('opaque')) this.opaque = p.get('opaque')!;
    await this.finish(data);
    this.state = 'authenticate';
  }

  /** Gets credentials and the AP-REQ. */
  private async start(): Promise<void> {
    this.release();
    const { sso, principal, password } = this.credentials;
    if (sso) this.credential = await GssCredential.fromTicketCache();
    else {
      if (!password) throw new KerberosError('A password is needed for Kerberos without single sign-on', 'wrong-password');
      this.credential = await GssCredential.withPassword(principal, password);
    }
    this.context = new GssInitiator(this.credential, this.targetName, GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG);
    const token = await this.context.step();
    if (!token) throw new AuthenticationError('The Kerberos library produced no AP-REQ', 'protocol');
    this.apReq = token.toString('base64');
    this.state = 'ap-req';
    if (this.context.complete) this.associate();
  }

  /** Reads the server's AP-REP: mutual authentication, the server proved it holds the service key. */
  private async finish(data: string): Promise<void> {
    if (!/^[A-Za-z0-9+/=]+$/.test(data)) throw new AuthenticationError('The Kerberos AP-REP from the server is not valid base64', 'protocol');
    try {
      await this.context!.step(Buffer.from(data, 'base64'));
    } catch (error) {
      if (error instanceof KerberosError) throw new AuthenticationError(`The server's Kerberos reply does not prove its identity: ${error.message}`, 'failed');
      throw error;
    }
    if (!this.context!.complete || (this.context!.grantedFlags & GSS_C_MUTUAL_FLAG) === 0) {
      throw new AuthenticationError('The server did not complete Kerberos mutual authentication', 'protocol');
    }
    this.associate();
  }

  private associate(): void {
    const context = this.context!;
    const mac: MessageMac = { sign: (text) => context.getMic(text), verify: (text, signature) => context.verifyMic(text, signature) };
    this.signer = new MessageSigner({ protocol: 'Kerberos', realm: this.realm, targetName: this.targetName, opaque: this.opaque, version: this.version, mac });
  }

  reset(): void {
    this.release();
    this.state = 'initial';
    this.opaque = '';
    this.apReq = '';
  }

  private release(): void {
    this.context?.dispose();
    this.context = undefined;
    this.credential?.release();
    this.credential = undefined;
    this.signer = undefined;
  }

  /** A 2xx to REGISTER arrived. */
  registered(): void {
    if (this.state === 'ap-req' && !this.signer) {
      throw new AuthenticationError('The server accepted the Kerberos ticket without the AP-REP, so it did not prove its identity', 'protocol');
    }
    this.state = 'established';
  }

  authorization(message: RawMessage): string | undefined {
    const common = () => associationParams('Kerberos', this.opaque, this.realm, this.targetName);
    const version = versionParam(this.version);
    const sign = () => signatureParams(this.signer!.sign(message));
    switch (this.state) {
      case 'initial':
        return undefined;
      case 'ap-req':
        if (methodOf(message) !== 'REGISTER' || statusCode(message) !== undefined) return undefined;
        // Signed already when the context completed without a reply ([MS-SIPAE] 3.2.5.1, version 4).
        return `${common()}, gssapi-data=${quote(this.apReq)}${version}${this.signer && this.version > 3 ? sign() : ''}`;
      case 'authenticate':
      case 'established':
        return `${common()}${sign()}`;
    }
  }

  verify(message: RawMessage): 'accept' | 'ignore' {
    if (!this.signer && this.state === 'ap-req') this.replyInAuthenticationInfo(message);
    if (!this.signer) return 'accept';
    if (this.signer.verify(message)) return 'accept';
    const status = statusCode(message);
    // [MS-SIPAE] 3.2.5.2: 401s and provisional responses come unsigned.
    if (status !== undefined && (status === 401 || status < 200)) return 'accept';
    return 'ignore';
  }

  /** Some servers return the AP-REP with the 2xx, in Authentication-Info's gssapi-data. */
  private replyInAuthenticationInfo(message: RawMessage): void {
    const status = statusCode(message);
    if (status === undefined || status < 200 || status >= 300 || methodOf(message) !== 'REGISTER') return;
    const info = headerValue(message, 'Authentication-Info');
    if (!info) return;
    let params: ReadonlyMap<string, string>;
    try {
      const parsed = parseAuthHeader(info);
      if (parsed.scheme.toLowerCase() !== 'kerberos') return;
      params = parsed.params;
    } catch {
      return;
    }
    const data = params.get('gssapi-data');
    if (!data || !/^[A-Za-z0-9+/=]+$/.test(data)) return;
    if (params.has('opaque')) this.opaque = params.get('opaque')!;
    // The step is local (no KDC): it completes synchronously inside the library.
    this.context!.stepSync(Buffer.from(data, 'base64'));
    if (this.context!.complete && this.context!.grantedFlags & GSS_C_MUTUAL_FLAG) this.associate();
  }
}

const KINIT_HINT = 'Run kinit to get a Kerberos ticket, or turn single sign-on off to sign in with the password';

/**
 * What a Kerberos failure means to the user: the library's own words as the
 * server text, and a hint naming what to do (and the principal tried).
 */
export function kerberosConnectionError(error: KerberosError, context: { sso: boolean; principal: string; service: string }): ConnectionError {
  const text = error.status?.minorText || error.message;
  const details = { serverText: text, cause: error };
  switch (error.failure) {
    case 'unavailable':
      return ConnectionError.authenticationImpossible(error.message, {
        ...details,
        hint: `Install MIT Kerberos (Debian: libgssapi-krb5-2)${context.sso ? ', or turn single sign-on off and' : ', or'} set "Authentication scheme" to NTLM`,
      });
    case 'no-ticket':
      return ConnectionError.authenticationFailed(`No Kerberos ticket for single sign-on: ${text}`, { ...details, hint: KINIT_HINT });
    case 'ticket-expired':
      return ConnectionError.authenticationFailed(`The Kerberos ticket has expired: ${text}`, { ...details, hint: KINIT_HINT });
    case 'wrong-password':
      return ConnectionError.authenticationFailed(`Kerberos refused the password for ${context.principal}: ${text}`, {
        ...details,
        hint: 'Check the password, and the login (DOMAIN\\user or user@REALM) it is for',
      });
    case 'unknown-user':
      return ConnectionError.authenticationFailed(`The KDC does not know ${context.principal}: ${text}`, { ...details, hint: `Check the login: the Kerberos principal tried was ${context.principal}` });
    case 'unknown-service':
      return ConnectionError.authenticationImpossible(`The KDC does not know the server's service principal ${context.service}: ${text}`, {
        ...details,
        hint: `Ask the administrator to register the service principal ${context.service}, or set "Authentication scheme" to NTLM`,
      });
    case 'unknown-realm':
      return ConnectionError.authenticationFailed(`No KDC is known for the realm of ${context.principal}: ${text}`, {
        ...details,
        hint: `Check the login (DOMAIN\\user or user@REALM; the principal tried was ${context.principal}) and that krb5.conf knows the realm`,
      });
    case 'clock-skew':
      return ConnectionError.authenticationFailed(`Kerberos: ${text}`, { ...details, hint: "Set this computer's clock right: Kerberos allows only a few minutes of difference from the KDC" });
    case 'kdc-unreachable':
      return ConnectionError.network(`Kerberos: ${text}`, { ...details, hint: "Check the network, and that krb5.conf names a reachable KDC for the realm" });
    default:
      return ConnectionError.other(`Kerberos authentication failed: ${text}`, details);
  }
}
