import type { ParsedLine } from './incoming.js';

/**
 * Who is behind a nick, as IRCv3 reports it live: the services account
 * (account-notify's ACCOUNT, account-tag, extended-join), the user and host
 * (chghost) and the real name (setname, extended-join). Each parser takes
 * the server's words as they came and gives undefined for anything that is
 * not a well-formed value, so a hostile server cannot put line breaks,
 * spaces or megabytes into a buddy's details or a participant list.
 */

/** Account names are nick-like tokens; ergo and Atheme keep them well under this. */
const ACCOUNT = /^[^\s\0\r\n,*:!@][^\s\0\r\n,!@]{0,63}$/;
/** user@host parts as servers send them: no spaces, no prefix separators, bounded. */
const USER = /^[^\s\0\r\n!@:]{1,64}$/;
const HOST = /^[^\s\0\r\n!@]{1,255}$/;
/** Real names longer than this are cut (servers allow about 50 to 390 bytes). */
export const MAX_REAL_NAME = 400;

/** `*` means "no account" (https://ircv3.net/specs/extensions/account-notify); null then. */
export function accountName(value: string | undefined): string | null | undefined {
  if (value === '*') return null;
  return typeof value === 'string' && ACCOUNT.test(value) ? value : undefined;
}

/** `CHGHOST <new user> <new host>` (https://ircv3.net/specs/extensions/chghost). */
export function chghost(params: readonly string[]): { user: string; host: string } | undefined {
  if (params.length !== 2) return undefined;
  const [user, host] = params;
  return typeof user === 'string' && typeof host === 'string' && USER.test(user) && HOST.test(host) ? { user, host } : undefined;
}

/**
 * A real name from `SETNAME :<name>` or an extended JOIN: control characters
 * (other than IRC formatting, which is stripped too) become spaces, and it is
 * cut to MAX_REAL_NAME characters. Empty gives undefined.
 */
export function realName(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value
    .slice(0, MAX_REAL_NAME * 2)
    .replace(/[\x02\x0f\x11\x16\x1d\x1e\x1f]|\x03(?:\d{1,2}(?:,\d{1,2})?)?/g, '')
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .trim()
    .slice(0, MAX_REAL_NAME);
  return text === '' ? undefined : text;
}

/** What one line says about its source nick. */
export interface IdentityChange {
  nick: string;
  /** A string: logged in to that account; null: logged out. */
  account?: string | null;
  user?: string;
  host?: string;
  realName?: string;
}

/**
 * The identity news a line carries, or undefined. ACCOUNT, CHGHOST and
 * SETNAME say it outright; any line from a user with an `account` tag
 * (account-tag) says which account sent it. Malformed values are dropped
 * (the rest of the line still counts).
 */
export function identityChange(command: string, line: ParsedLine): IdentityChange | undefined {
  const nick = line.nick;
  if (!nick) return undefined;
  switch (command) {
    case 'ACCOUNT': {
      const account = accountName(line.params[0]);
      return account === undefined || line.params.length !== 1 ? undefined : { nick, account };
    }
    case 'CHGHOST': {
      const change = chghost(line.params);
      return change === undefined ? undefined : { nick, ...change };
    }
    case 'SETNAME': {
      const name = line.params.length === 1 ? realName(line.params[0]) : undefined;
      return name === undefined ? undefined : { nick, realName: name };
    }
    default: {
      const tag = line.tags.account;
      if (tag === undefined) return undefined;
      const account = accountName(tag);
      // A tag is only ever set for a logged-in sender: `*` there is as malformed as any other odd value.
      return typeof account === 'string' ? { nick, account } : undefined;
    }
  }
}

/** `INVITE <nick> <channel>` (RFC 2812 section 3.2.7; invite-notify sends it for others too). */
export function invite(line: ParsedLine): { by: string; invited: string; channel: string } | undefined {
  const [invited, channel] = line.params;
  const token = /^[^\s\0\r\n,:][^\s\0\r\n,]{0,199}$/;
  if (!line.nick || line.params.length !== 2 || typeof invited !== 'string' || typeof channel !== 'string') return undefined;
  return token.test(invited) && token.test(channel) ? { by: line.nick, invited, channel } : undefined;
}
