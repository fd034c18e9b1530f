import { ConnectionError, isCertificateErrorCode, certificateError } from '@parley/core';

/** What @xmpp/client's errors look like (XMPPError and its SASLError / StreamError subclasses). */
interface XmppLibraryError {
  name: string;
  condition?: string;
  text?: string;
  code?: string;
  message: string;
}

function shape(error: unknown): XmppLibraryError {
  if (typeof error === 'object' && error !== null) {
    const e = error as Record<string, unknown>;
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      condition: typeof e.condition === 'string' ? e.condition : undefined,
      text: typeof e.text === 'string' && e.text !== '' ? e.text : undefined,
      code: typeof e.code === 'string' ? e.code : undefined,
      message: typeof e.message === 'string' ? e.message : String(error),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** RFC 6120 §6.5 SASL failure conditions. */
export function saslFailure(condition: string, serverText: string | undefined, cause?: unknown): ConnectionError {
  const details = { protocolDetail: condition, serverText, cause };
  switch (condition) {
    case 'not-authorized':
    case 'credentials-expired':
      return ConnectionError.authenticationFailed(undefined, details);
    case 'account-disabled':
      return ConnectionError.clientRejected(serverText ?? 'The account is disabled', { protocolDetail: condition, cause });
    case 'temporary-auth-failure':
      return ConnectionError.network('The server could not check the password just now', details);
    case 'encryption-required':
      return ConnectionError.authenticationImpossible('The server requires encryption for this login method', { ...details, hint: 'Use STARTTLS or direct TLS' });
    case 'invalid-mechanism':
    case 'mechanism-too-weak':
      return ConnectionError.authenticationImpossible('The server and Parley share no acceptable login method', details);
    case 'invalid-authzid':
    case 'malformed-request':
    case 'incorrect-encoding':
    case 'aborted':
    default:
      return ConnectionError.authenticationImpossible(`Login failed (${condition})`, details);
  }
}

/** RFC 6120 §4.9.3 stream error conditions. */
export function streamFailure(condition: string, serverText: string | undefined, cause?: unknown): ConnectionError {
  const details = { protocolDetail: condition, serverText, cause };
  switch (condition) {
    case 'conflict':
      return new ConnectionError('signed-in-elsewhere', 'Signed in elsewhere with the same resource', details);
    case 'host-unknown':
    case 'host-gone':
      return ConnectionError.invalidUsername('The server does not serve this domain', { ...details, hint: 'Check the JID\'s domain, or the connect server' });
    case 'not-authorized':
      return ConnectionError.authenticationFailed(undefined, details);
    case 'policy-violation':
      return ConnectionError.clientRejected(serverText ?? 'policy violation', { protocolDetail: condition, cause, fatal: false });
    case 'system-shutdown':
    case 'connection-timeout':
    case 'reset':
    case 'remote-connection-failed':
      return ConnectionError.network(`The server closed the connection (${condition})`, details);
    default:
      return ConnectionError.other(`Stream error: ${condition}`, details);
  }
}

/** Maps anything @xmpp/client, Node's sockets or our own code threw to the error the user sees. */
export function toConnectionError(error: unknown): ConnectionError {
  if (ConnectionError.is(error)) return error;
  const e = shape(error);
  if (e.name === 'SASLError' && e.condition !== undefined) return saslFailure(e.condition, e.text, error);
  if (e.name === 'StreamError' && e.condition !== undefined) return streamFailure(e.condition, e.text, error);
  if (e.code !== undefined && isCertificateErrorCode(e.code)) return certificateError(e.code, 'the server');
  if (e.code !== undefined && /^(E[A-Z]+|ERR_SOCKET|ERR_STREAM)/.test(e.code)) {
    return ConnectionError.network(`Connection failed: ${e.message}`, { protocolDetail: e.code, cause: error });
  }
  if (e.name === 'TimeoutError') return ConnectionError.network('The server did not answer in time', { cause: error });
  if (e.name === 'XMLError') return ConnectionError.other('The server sent malformed XML', { cause: error });
  return ConnectionError.other(e.message, { cause: error });
}
