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
 * What a failed SASL exchange means. `undefined`: carry on without SASL
 * (the server has no SASL and NickServ may identify us instead).
 */
export function saslFailure(event: SaslFailedEvent, nickservFallback: boolean): ConnectionError | undefined {
  const serverText = event.message;
  switch (event.reason) {
    case 'capability_missing':
      if (nickservFallback) return undefined;
      return ConnectionError.authenticationImpossible('The server does not offer SASL', { hint: 'Turn on NickServ identification or turn off SASL', protocolDetail: 'CAP sasl' });
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
