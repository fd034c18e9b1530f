import type { AccountManager } from '../accounts/account-manager.js';
import type { ParleyEvents } from '../events/events.js';
import type { ProtocolConnection } from '../plugins/contract.js';
import type { Presence } from '../presence/presence.js';
import type { Logger } from '../util/logger.js';

export interface PresenceServiceDeps {
  accounts: AccountManager;
  events: ParleyEvents;
  log: Logger;
}

/** The user's own status: one for all accounts, overridden per account. */
export class PresenceService {
  private global: Presence = { status: 'available' };
  private readonly byAccount = new Map<string, Presence>();

  /** @internal Made by the core; reach it as `parley.presence`. */
  constructor(private readonly deps: PresenceServiceDeps) {}

  /** The status shown for all accounts, or for one when `accountRef` is given. */
  readonly get = (accountRef?: string): Presence => {
    if (accountRef === undefined) return this.global;
    return this.byAccount.get(this.deps.accounts.resolve(accountRef).id) ?? this.global;
  };

  /**
   * Sets the user's status for every account (clearing per-account ones) or
   * for one; `offline` signs the accounts off. Publishes it on the accounts
   * that are online; a protocol's failure is logged, not thrown.
   */
  readonly set = async (presence: Presence, accountRef?: string): Promise<void> => {
    const { accounts } = this.deps;
    const targets = accountRef === undefined ? accounts.list() : [accounts.get(accountRef)];
    if (accountRef === undefined) {
      this.global = presence;
      this.byAccount.clear();
    } else {
      this.byAccount.set(targets[0]!.id, presence);
    }
    for (const account of targets) {
      if (presence.status === 'offline') {
        await accounts.disconnect(account.id);
        continue;
      }
      const connection = accounts.connection(account.id);
      if (connection?.setPresence === undefined) continue;
      try {
        await connection.setPresence(presence);
      } catch (error) {
        this.deps.log.warn('setting presence failed', { account: account.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
    this.deps.events.emit('presenceChanged', presence, accountRef === undefined ? undefined : targets[0]!.id);
  };

  /** The user's global presence. */
  current(): Presence {
    return this.global;
  }

  /** After sign-in: publishes the account's status unless it is the protocol's default. */
  async restore(accountId: string, connection: ProtocolConnection): Promise<void> {
    const presence = this.byAccount.get(accountId) ?? this.global;
    if (connection.setPresence !== undefined && presence.status !== 'available') {
      await connection.setPresence(presence).catch((error: unknown) => this.deps.log.warn('setting presence failed', { error: String(error) }));
    }
  }
}
