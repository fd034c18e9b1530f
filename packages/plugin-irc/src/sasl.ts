import type { ClientOptions, SaslFailedEvent } from 'irc-framework';
import { ConnectionError } from '@parley/core';

/**
 * SASL PLAIN (IRCv3 sasl-3.1, RFC 4616) as irc-framework runs it during CAP
 * negotiation. Given no credentials it must get an account object without
 * a name: otherwise the library would try the server password as SASL.
 */
export function saslOptions(enabled: boolean, account: string, password: string | undefined): Pick<ClientOptions, 'account' | 'sasl_disconnect_on_fail'> {
  if (!enabled || password === undefined || password === '') return { account: {} };
  return { account: { account, password }, sasl_disconnect_on_fail: false };
}

/**
 * What a failed SASL exchange means. `undefined`: not a failure of the
 * exchange (the server has no SASL at all); `servicesSignIn` decides what to
 * do about that once registration completes.
 */
export function saslFailure(event: SaslFailedEvent): ConnectionError | undefined {
  const serverText = event.message;
  switch (event.reason) {
    case 'capability_missing':
      return undefined;
    case 'unsupported_mechanism':
      return ConnectionError.authenticationImpossible('The server does not support SASL PLAIN', { protocolDetail: '908', ...(serverText ? { serverText } : {}) });
    case 'nick_locked':
      return ConnectionError.authenticationFailed('SASL authentication failed: the account is locked', { protocolDetail: '902', ...(serverText ? { serverText } : {}) });
    case 'too_long':
      return ConnectionError.authenticationImpossible('The SASL credentials are too long for the server', { protocolDetail: '905' });
    default:
      return ConnectionError.authenticationFailed('SASL authentication failed: check the account name and password', { protocolDetail: '904', ...(serverText ? { serverText } : {}) });
  }
}

export interface ServicesSignIn {
  password: string | undefined;
  /** The sasl and nickserv settings. */
  sasl: boolean;
  nickserv: boolean;
  /** Whether the server acknowledged the `sasl` capability (the exchange then ran, and succeeded, or we would not be here). */
  saslNegotiated: boolean;
}

/**
 * After the welcome (001): whether we still need to identify to NickServ.
 * Decided from what CAP negotiation ended with rather than from
 * irc-framework's `capability_missing` event, which it only raises when the
 * server acknowledged some other capability: a server offering none it asks
 * for (InspIRCd without m_sasl) gets a silent `CAP END` and no event.
 */
export function servicesSignIn(state: ServicesSignIn): 'none' | 'nickserv' | ConnectionError {
  if (state.password === undefined || state.password === '') return 'none';
  if (state.sasl && state.saslNegotiated) return 'none';
  if (state.nickserv) return 'nickserv';
  if (!state.sasl) return 'none';
  return ConnectionError.authenticationImpossible('The server does not offer SASL', { hint: 'Turn on NickServ identification or turn off SASL', protocolDetail: 'CAP sasl' });
}
