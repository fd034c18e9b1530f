/**
 * REGISTER as Office Communicator sends it ([MS-SIPRE] 3.3, [MS-SIPREGE]):
 * Contact with `+sip.instance` and `methods`, GRUU support, `Event:
 * registration`, `ms-keep-alive`. Handles the authentication round trips,
 * maps failures to ConnectionErrors, re-REGISTERs before expiry and
 * de-REGISTERs (Expires: 0) on sign-off.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ConnectionError, ParleyError } from '@parley/core';
import { AuthenticationError } from './auth/ntlm-auth.js';
import type { SecurityLayer, SipEndpoint, SipResponse } from './sip/endpoint.js';
import { SipRequestTimeout } from './sip/endpoint.js';
import { headerValue, headerValues, type RawMessage } from './sip/headers.js';
import { parseAuthHeader } from './auth/params.js';

export interface Authenticator extends SecurityLayer {
  readonly scheme: string;
  readonly handshakeComplete: boolean;
  /** Takes a 401's challenges; Kerberos may wait for the KDC here. */
  challenge(wwwAuthenticate: readonly string[]): void | Promise<void>;
  registered(): void;
  /** The user-facing error for a failure of the scheme's own (a Kerberos error), if it is one. */
  explain?(error: unknown): ConnectionError | undefined;
  /** Forgets the session, for a fresh handshake (the server dropped it). */
  reset(): void;
}

export interface RegistrationResult {
  expires: number;
  gruu: string | undefined;
  /** Seconds between keep-alives the server asked for. */
  keepAliveSeconds: number | undefined;
  server: string | undefined;
  /** Option tags and event packages the registrar announced (what flavour of server this is). */
  supported: string[];
  allowEvents: string[];
}

export interface Redirect {
  host: string;
  port: number | undefined;
  transport: 'tls' | 'tcp';
}

export class RedirectError extends ParleyError {
  declare readonly code: 'ocs-redirected';
  constructor(readonly target: Redirect) {
    super('ocs-redirected', `Redirected to ${target.host}${target.port ? `:${target.port}` : ''}`);
  }
}

/** The hint shown when the server rejects the client's version. */
export const USER_AGENT_HINT =
  'The server only accepts certain clients. Set the account\'s "User Agent" (useragent) to one of its presets, ' +
  'e.g. "Office Communicator 2007 R2", "Lync 2010", "Lync 2013" or "Skype for Business 2016".';

/** Text of the first quoted part of a Warning header (RFC 3261 20.43). */
export function warningText(message: RawMessage): string | undefined {
  for (const value of headerValues(message, 'Warning')) {
    const match = /^\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(value);
    if (match) return match[1]!.replace(/\\(.)/g, '$1');
  }
  return undefined;
}

/** `reason="..."` of ms-diagnostics / ms-diagnostics-public ([MS-OCER] 2.2.1). */
export function diagnosticsReason(message: RawMessage, which: 'ms-diagnostics' | 'ms-diagnostics-public'): string | undefined {
  const value = headerValue(message, which);
  if (value === undefined) return undefined;
  const match = /reason="((?:[^"\\]|\\.)*)"/i.exec(value);
  return match ? match[1] : undefined;
}

function expiresOf(response: RawMessage, instance: string): number | undefined {
  for (const contact of headerValues(response, 'Contact')) {
    if (!contact.toLowerCase().includes(instance.toLowerCase())) continue;
    const match = /;\s*expires=(\d+)/i.exec(contact);
    if (match) return Number(match[1]);
  }
  const header = headerValue(response, 'Expires');
  return header !== undefined && /^\d+$/.test(header.trim()) ? Number(header.trim()) : undefined;
}

function gruuOf(response: RawMessage, instance: string): string | undefined {
  for (const contact of headerValues(response, 'Contact')) {
    if (!contact.toLowerCase().includes(instance.toLowerCase())) continue;
    const match = /;\s*gruu="([^"]+)"/i.exec(contact);
    if (match) return match[1];
  }
  return undefined;
}

export function redirectTarget(response: RawMessage): Redirect | undefined {
  const contact = headerValue(response, 'Contact');
  if (!contact) return undefined;
  const uri = /<([^>]+)>/.exec(contact)?.[1] ?? contact.split(';')[0]!;
  const match = /^sips?:(?:[^@;]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?((?:;[^;>]*)*)$/i.exec(uri.trim());
  if (!match) return undefined;
  const port = match[2] !== undefined ? Number(match[2]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const transport = /;transport=tcp/i.test(match[3] ?? '') ? 'tcp' : 'tls';
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port, transport };
}

export interface RegistrarOptions {
  endpoint: SipEndpoint;
  authenticator: Authenticator | undefined;
  /** The SIP domain of the sign-in address (the REGISTER Request-URI). */
  domain: string;
  /** Local address for Contact. */
  local: () => { address: string; port: number };
  transport: 'tls' | 'tcp';
  /** Called when a re-REGISTER fails after sign-in. */
  onLost: (error: ConnectionError) => void;
  /** Expiry we ask for, seconds. */
  expires?: number;
}

export class Registrar {
  private readonly callId = randomBytes(16).toString('hex');
  private readonly fromTag = randomBytes(5).toString('hex');
  private readonly instance = randomUUID();
  private readonly opaque = randomBytes(5).toString('hex');
  private cseq = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** How many REGISTERs went out in the current attempt (for tests and logs). */
  registerCount = 0;

  constructor(private readonly options: RegistrarOptions) {}

  get sipInstance(): string {
    return this.instance;
  }

  /** The Contact header of our registration, for every request that needs one. */
  contact(): string {
    const { address, port } = this.options.local();
    return (
      `Contact: <sip:${address}:${port};transport=${this.options.transport};ms-opaque=${this.opaque}>` +
      `;methods="INVITE, MESSAGE, INFO, SUBSCRIBE, OPTIONS, BYE, CANCEL, NOTIFY, ACK, REFER, BENOTIFY";proxy=replace` +
      `;+sip.instance="<urn:uuid:${this.instance}>"`
    );
  }

  private send(expires: number | undefined, timeoutMs?: number): Promise<SipResponse> {
    this.registerCount++;
    const headers = [
      this.contact(),
      'Supported: gruu-10, adhoclist, msrtc-event-categories, com.microsoft.msrtc.presence',
      'Event: registration',
      'Allow-Events: presence',
      'ms-keep-alive: UAC;hop-hop=yes',
    ];
    if (expires !== undefined) headers.push(`Expires: ${expires}`);
    return this.options.endpoint.request('REGISTER', `sip:${this.options.domain}`, {
      callId: this.callId,
      cseq: ++this.cseq,
      fromTag: this.fromTag,
      extraHeaders: headers,
      timeoutMs,
    });
  }

  /** Registers, running the authentication handshake. Rejects with ConnectionError or RedirectError. */
  async register(refreshing = false): Promise<RegistrationResult> {
    const auth = this.options.authenticator;
    // A refresh may find the server has dropped the security association: one fresh handshake is allowed.
    let restarted = !refreshing;
    // Initial + NTLM's two rounds; one more would be a loop.
    for (let round = 0; round < 4; round++) {
      let response: SipResponse;
      try {
        response = await this.send(this.options.expires);
      } catch (error) {
        if (error instanceof SipRequestTimeout) throw ConnectionError.network('The server did not answer the sign-in request', { cause: error });
        throw ConnectionError.network(`Sign-in request failed: ${(error as Error).message}`, { cause: error });
      }
      if (response.status === 401 || response.status === 407) {
        if (!auth) throw ConnectionError.authenticationImpossible('The server asks for authentication the chosen method cannot answer', { protocolDetail: response.status });
        if (!restarted && auth.handshakeComplete) {
          restarted = true;
          auth.reset();
          this.options.endpoint.security = undefined;
          round = -1;
        }
        try {
          await auth.challenge(headerValues(response.raw, response.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'));
        } catch (error) {
          throw this.authError(error, response);
        }
        this.options.endpoint.security = auth;
        continue;
      }
      try {
        return this.handleFinal(response);
      } catch (error) {
        if (error instanceof AuthenticationError) throw this.authError(error, response);
        throw error;
      }
    }
    throw ConnectionError.authenticationFailed('Authentication failed: the server kept asking for credentials', { protocolDetail: 401 });
  }

  private authError(error: unknown, response: SipResponse): ConnectionError {
    const explained = this.options.authenticator?.explain?.(error);
    if (explained) return explained;
    if (!(error instanceof AuthenticationError)) return ConnectionError.from(error);
    const details = { protocolDetail: response.status, cause: error };
    if (error.kind === 'failed') {
      const kerberos = this.options.authenticator?.scheme === 'Kerberos';
      return ConnectionError.authenticationFailed(kerberos ? error.message : 'Authentication failed: check the login and password', details);
    }
    if (error.kind === 'impossible') {
      const offered = headerValues(response.raw, 'WWW-Authenticate')
        .map((v) => {
          try {
            return parseAuthHeader(v).scheme;
          } catch {
            return undefined;
          }
        })
        .filter((s): s is string => s !== undefined);
      return ConnectionError.authenticationImpossible(`${error.message}${offered.length ? ` (it offers ${offered.join(', ')})` : ''}`, details);
    }
    return ConnectionError.other(`Authentication with the server broke down: ${error.message}`, details);
  }

  private handleFinal(response: SipResponse): RegistrationResult {
    const { status, raw } = response;
    if (status >= 200 && status < 300) {
      this.options.authenticator?.registered();
      const expires = expiresOf(raw, this.instance) ?? this.options.expires ?? 3600;
      const keepAlive = /timeout=(\d+)/i.exec(headerValue(raw, 'ms-keep-alive') ?? '');
      const list = (name: string) =>
        headerValues(raw, name)
          .flatMap((v) => v.split(','))
          .map((v) => v.trim().toLowerCase())
          .filter((v) => v !== '');
      return {
        expires,
        gruu: gruuOf(raw, this.instance),
        keepAliveSeconds: keepAlive ? Number(keepAlive[1]) : undefined,
        server: headerValue(raw, 'Server'),
        supported: list('Supported'),
        allowEvents: list('Allow-Events'),
      };
    }
    if (status === 301 || status === 302) {
      const target = redirectTarget(raw);
      if (!target) throw ConnectionError.other(`The server redirected the sign-in without a usable address (${status} ${response.reason})`, { protocolDetail: status });
      throw new RedirectError(target);
    }
    if (status === 403) {
      const reason = warningText(raw) ?? diagnosticsReason(raw, 'ms-diagnostics-public') ?? diagnosticsReason(raw, 'ms-diagnostics') ?? 'no reason given';
      const aboutVersion = /version|client|user.?agent/i.test(reason);
      return this.fail(ConnectionError.clientRejected(reason, { protocolDetail: 403, ...(aboutVersion ? { hint: USER_AGENT_HINT } : {}) }));
    }
    if (status === 404) {
      const reason = diagnosticsReason(raw, 'ms-diagnostics') ?? diagnosticsReason(raw, 'ms-diagnostics-public');
      return this.fail(
        ConnectionError.invalidUsername(`Not found: ${reason ?? 'SIP is either not enabled for the sign-in address or it does not exist'}`, { protocolDetail: 404, serverText: reason }),
      );
    }
    if (status === 408 || status === 480 || status === 500 || status === 503 || status === 504) {
      const reason = diagnosticsReason(raw, 'ms-diagnostics') ?? response.reason;
      return this.fail(ConnectionError.network(`Service unavailable: ${reason || 'no reason given'}`, { protocolDetail: status, serverText: reason }));
    }
    return this.fail(ConnectionError.other(`The server refused the sign-in: ${status} ${response.reason}`, { protocolDetail: status, serverText: response.reason }));
  }

  private fail(error: ConnectionError): never {
    throw error;
  }

  /**
   * Re-REGISTERs before the registration expires: at 90% of its lifetime,
   * at least 10 s before the end.
   */
  scheduleRefresh(expires: number): void {
    clearTimeout(this.refreshTimer);
    if (this.stopped) return;
    const seconds = Math.max(1, Math.min(expires * 0.9, expires - 10));
    this.refreshTimer = setTimeout(() => void this.refresh(), seconds * 1000);
    this.refreshTimer.unref();
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      const result = await this.register(true);
      this.scheduleRefresh(result.expires);
    } catch (error) {
      if (this.stopped) return;
      this.options.onLost(error instanceof RedirectError ? ConnectionError.network(error.message) : ConnectionError.from(error));
    }
  }

  /** Expires: 0, bounded; never throws. */
  async unregister(timeoutMs = 3000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.refreshTimer);
    try {
      await this.send(0, timeoutMs);
    } catch {
      // Signing off must not hang or fail on a silent server.
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.refreshTimer);
  }
}
