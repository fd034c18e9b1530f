import { ConnectionError, defineErrorCodes, ParleyError } from '@parley/core';

/** Every code the IRC plugin's own errors carry: the keys of `IRC_ERROR_CODES`. */
export type IrcErrorCode = 'irc-invalid-input' | 'irc-not-connected' | 'irc-timeout' | 'irc-server-refused' | 'irc-dcc-malformed';

/** Every code the IRC plugin raises besides the core's connection codes. */
export const IRC_ERROR_CODES = defineErrorCodes<IrcErrorCode>({
  'irc-invalid-input': { class: 'IrcError', fatal: true, when: 'A command or message the plugin refuses before sending (not a channel name, an empty message, a command without its arguments).', action: 'Fix what was typed; the message says what is expected.' },
  'irc-not-connected': { class: 'IrcError', fatal: false, when: 'A request while the account is not connected to the IRC server.', action: 'Wait for the account to connect, then try again.' },
  'irc-timeout': { class: 'IrcError', fatal: false, when: 'The server did not answer a JOIN or WHOIS in time.', action: 'Try again; check the server if it keeps happening.' },
  'irc-server-refused': { class: 'IrcError', fatal: true, when: 'The server answered with an error numeric (a channel that is invite-only or full, a nick that does not exist); numeric holds it.', action: "Read the server's reason; change the request (a key, an invitation, another nick)." },
  'irc-dcc-malformed': { class: 'IrcError', fatal: true, when: "A peer's DCC request (SEND, RESUME, ACCEPT) could not be read: bad quoting, address, port, size or token; it was ignored.", action: 'Nothing: ask the sender to send the file again; report it if it comes from a known client.' },
});

/** A request this plugin refuses or the server answered with an error (not a connection failure). */
export class IrcError extends ParleyError {
  declare readonly code: IrcErrorCode;
  /** The IRC numeric or command the server answered with, when there was one. */
  readonly numeric: string | undefined;
  constructor(code: IrcErrorCode, message: string, numeric?: string) {
    super(code, message);
    this.numeric = numeric;
  }
}

/**
 * Numerics that end registration, mapped to the core's reasons
 * (RFC 2812 section 5.2; IRCv3 SASL 3.1 for 902-908).
 */
export function registrationError(numeric: string, serverText: string): ConnectionError {
  const details = { serverText, protocolDetail: numeric };
  switch (numeric) {
    case '432': // ERR_ERRONEUSNICKNAME
      return ConnectionError.invalidUsername(`The server does not accept this nick: ${serverText}`, { ...details, hint: 'Choose another nick' });
    case '433': // ERR_NICKNAMEINUSE
    case '436': // ERR_NICKCOLLISION
    case '437': // ERR_UNAVAILRESOURCE
      return new ConnectionError('name-in-use', 'The nick and every alternative nick are in use', { ...details, hint: 'Add alternative nicks' });
    case '464': // ERR_PASSWDMISMATCH
      return ConnectionError.authenticationFailed('The server password was not accepted', details);
    case '465': // ERR_YOUREBANNEDCREEP
    case '463': // ERR_NOPERMFORHOST
      return ConnectionError.clientRejected(serverText, { protocolDetail: numeric });
    case '902': // ERR_NICKLOCKED
    case '904': // ERR_SASLFAIL
      return ConnectionError.authenticationFailed('SASL authentication failed: check the account name and password', details);
    case '905': // ERR_SASLTOOLONG
    case '908': // RPL_SASLMECHS
      return ConnectionError.authenticationImpossible('The server does not support SASL PLAIN', details);
    default:
      return ConnectionError.other(serverText || `Server error ${numeric}`, details);
  }
}

/**
 * An `ERROR` line closing the link (RFC 2812 section 3.7.4): kills and
 * K-lines are the server refusing us. Some servers (ngircd) answer a wrong
 * `PASS` with only an ERROR line, no 464: before the welcome, after a server
 * password was sent, a password complaint is a wrong password, not a network fault.
 */
export function serverClosedLink(serverText: string, beforeWelcomeWithPassword = false): ConnectionError {
  if (/k-?lined|banned|g-?lined|z-?lined|kill/i.test(serverText)) return ConnectionError.clientRejected(serverText, { protocolDetail: 'ERROR' });
  if (beforeWelcomeWithPassword && /pass(word)?|access denied/i.test(serverText)) {
    return ConnectionError.authenticationFailed('The server password was refused', { serverText, protocolDetail: 'ERROR' });
  }
  return ConnectionError.network(`The server closed the connection: ${serverText}`, { serverText, protocolDetail: 'ERROR' });
}
