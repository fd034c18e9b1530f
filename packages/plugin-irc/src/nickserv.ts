import type { Client } from 'irc-framework';
import { hasLineBreak } from './sanitize.js';

/**
 * Identifying with NickServ after registration, for networks (or services)
 * without SASL. The password goes in one PRIVMSG, so a password containing a
 * line break is refused rather than split.
 */
export function identifyWithNickServ(client: Client, account: string, password: string): boolean {
  if (hasLineBreak(password) || hasLineBreak(account) || password === '') return false;
  // "IDENTIFY <account> <password>" is understood by Atheme and Anope; it also works when the nick differs from the account.
  client.raw(`PRIVMSG NickServ :IDENTIFY ${account} ${password}`);
  return true;
}
