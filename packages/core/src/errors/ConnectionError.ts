import type { ConnectionErrorCode } from './codes.js';
import { isParleyError, ParleyError } from './ParleyError.js';

/** Why the connection failed, in a word: the keys of `CONNECTION_REASONS`. */
export type ConnectionErrorReason =
  | 'network'
  | 'invalid-username'
  | 'authentication-failed'
  | 'authentication-impossible'
  | 'invalid-settings'
  | 'client-rejected'
  | 'certificate-untrusted'
  | 'certificate-expired'
  | 'certificate-hostname-mismatch'
  | 'name-in-use'
  | 'signed-in-elsewhere'
  | 'plugin-crashed'
  | 'proxy-unreachable'
  | 'proxy-authentication-failed'
  | 'proxy-refused'
  | 'proxy-destination-unreachable'
  | 'other';

const REASONS = {
  network: { fatal: false },
  'invalid-username': { fatal: true },
  'authentication-failed': { fatal: true },
  'authentication-impossible': { fatal: true },
  'invalid-settings': { fatal: true },
  'client-rejected': { fatal: true },
  'certificate-untrusted': { fatal: true },
  'certificate-expired': { fatal: true },
  'certificate-hostname-mismatch': { fatal: true },
  'name-in-use': { fatal: true },
  'signed-in-elsewhere': { fatal: true },
  /** The plugin's worker died or hung; the core restarts it and reconnects. */
  'plugin-crashed': { fatal: false },
  /** The proxy could not be reached (network): retried. */
  'proxy-unreachable': { fatal: false },
  /** The proxy refused our user name or password: retrying would only lock the account out. */
  'proxy-authentication-failed': { fatal: true },
  /** The proxy's rules forbid the destination (SOCKS "not allowed", HTTP 403): the user must change a setting. */
  'proxy-refused': { fatal: true },
  /** The proxy could not reach the destination (SOCKS host unreachable, HTTP 502/504): retried. */
  'proxy-destination-unreachable': { fatal: false },
  other: { fatal: false },
} as const satisfies Record<ConnectionErrorReason, { fatal: boolean }>;


/**
 * Why a connection failed. Each reason is fatal (the user must change
 * something before trying again) or not (the core reconnects by itself); a
 * ConnectionError may override that (`ConnectionErrorDetails.fatal`).
 * `CORE_ERROR_CODES` says when each happens and what the user can do.
 */
export const CONNECTION_REASONS: Readonly<
  Record<
    ConnectionErrorReason,
    {
      /** True: retrying as is fails again, so the core stops and the user must act. */
      readonly fatal: boolean;
    }
  >
> = REASONS;

/** The optional parts of a ConnectionError, given to its constructor or factory methods. */
export interface ConnectionErrorDetails {
  /** The server's own words, shown to the user verbatim. */
  serverText?: string;
  /** What the user can change to fix it. */
  hint?: string;
  /** Protocol detail: a SIP status, an XMPP condition, an IRC numeric. */
  protocolDetail?: string | number;
  /** Overrides the reason's default. */
  fatal?: boolean;
  /** The underlying error (a socket error, a parse failure), kept for the log. */
  cause?: unknown;
}

/** Every ConnectionError code: `connection-` and the reason. */
export const CONNECTION_ERROR_CODES = Object.freeze(Object.keys(CONNECTION_REASONS).map((reason) => `connection-${reason}`)) as readonly ConnectionErrorCode[];

/** Why an account could not connect or lost its connection; `code` is `connection-` and the reason. */
export class ConnectionError extends ParleyError {
  declare readonly code: ConnectionErrorCode;
  /** Why it failed; `code` is `connection-` and this. */
  readonly reason: ConnectionErrorReason;
  /** True: the core does not reconnect until the user changes something (settings, password, trust). */
  readonly fatal: boolean;
  /** The server's own words, shown to the user verbatim. */
  readonly serverText: string | undefined;
  /** What the user can change to fix it. */
  readonly hint: string | undefined;
  /** Protocol detail: a SIP status, an XMPP condition, an IRC numeric. */
  readonly protocolDetail: string | number | undefined;

  /** `fatal` defaults to the reason's entry in `CONNECTION_REASONS`. */
  constructor(reason: ConnectionErrorReason, message: string, details: ConnectionErrorDetails = {}) {
    super(`connection-${reason}`, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = reason;
    this.fatal = details.fatal ?? CONNECTION_REASONS[reason].fatal;
    this.serverText = details.serverText;
    this.hint = details.hint;
    this.protocolDetail = details.protocolDetail;
  }

  /** @deprecated Use `isParleyError(value, CONNECTION_ERROR_CODES)`. */
  static is(value: unknown): value is ConnectionError {
    return isParleyError(value, CONNECTION_ERROR_CODES);
  }

  /** Turns anything a plugin threw into a ConnectionError, keeping it as the cause. */
  static from(value: unknown): ConnectionError {
    if (isParleyError(value, CONNECTION_ERROR_CODES)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new ConnectionError('other', message, { cause: value });
  }

  /** Not fatal: the server could not be reached or the link dropped; the core reconnects. */
  static network(message: string, details?: ConnectionErrorDetails): ConnectionError {
    return new ConnectionError('network', message, details);
  }
  /** Fatal: the server refused the credentials. */
  static authenticationFailed(message = 'Authentication failed: check the login and password', details?: ConnectionErrorDetails): ConnectionError {
    return new ConnectionError('authentication-failed', message, details);
  }
  /** Fatal: client and server share no way to sign in (no common mechanism, a server that cannot prove itself). */
  static authenticationImpossible(message: string, details?: ConnectionErrorDetails): ConnectionError {
    return new ConnectionError('authentication-impossible', message, details);
  }
  /** Fatal: the server does not accept the account name. */
  static invalidUsername(message: string, details?: ConnectionErrorDetails): ConnectionError {
    return new ConnectionError('invalid-username', message, details);
  }
  /** Fatal: the account's settings cannot work; say which setting in the message. */
  static invalidSettings(message: string, details?: ConnectionErrorDetails): ConnectionError {
    return new ConnectionError('invalid-settings', message, details);
  }
  /** The server refused this client; `serverText` is shown exactly as the server said it. */
  static clientRejected(serverText: string, details?: Omit<ConnectionErrorDetails, 'serverText'>): ConnectionError {
    return new ConnectionError('client-rejected', `You have been rejected by the server: ${serverText}`, { ...details, serverText });
  }
  /** Fatal: the server's certificate failed a check the user has not overridden (see `certificateError` to classify Node's code). */
  static certificate(
    reason: 'certificate-untrusted' | 'certificate-expired' | 'certificate-hostname-mismatch',
    message: string,
    details?: ConnectionErrorDetails,
  ): ConnectionError {
    return new ConnectionError(reason, message, details);
  }
  /** Not fatal: a failure the plugin cannot classify. */
  static other(message: string, details?: ConnectionErrorDetails): ConnectionError {
    return new ConnectionError('other', message, details);
  }
}
