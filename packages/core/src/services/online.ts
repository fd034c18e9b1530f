import type { AccountManager } from '../accounts/account-manager.js';
import { MessageError } from '../errors/ParleyError.js';
import type { ProtocolConnection } from '../plugins/contract.js';

/** The account's live connection, or a typed error saying it is not online. */
export function requireOnline(accounts: AccountManager, accountId: string): ProtocolConnection {
  const connection = accounts.connection(accountId);
  if (connection === undefined) throw new MessageError('no-route', 'The account is not online');
  return connection;
}
