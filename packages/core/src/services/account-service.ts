import type { AccountChanges, AccountManager, NewAccount } from '../accounts/account-manager.js';
import type { AccountInfo, AccountStatus } from '../accounts/account.js';
import type { BuddyList } from '../buddies/buddy-list.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import { ConnectionError } from '../errors/ConnectionError.js';

export interface AccountServiceDeps {
  accounts: AccountManager;
  buddies: BuddyList;
  conversations: ConversationManager;
}

/** Accounts as a UI manages them; removing one also forgets its buddies and conversations. */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  readonly list = (): AccountInfo[] => this.deps.accounts.list();
  readonly get = (ref: string): AccountInfo => this.deps.accounts.get(ref);
  readonly settings = (ref: string) => this.deps.accounts.settings(ref);
  readonly add = (account: NewAccount): Promise<AccountInfo> => this.deps.accounts.add(account);
  readonly update = (ref: string, changes: AccountChanges): Promise<AccountInfo> => this.deps.accounts.update(ref, changes);

  readonly remove = async (ref: string): Promise<void> => {
    const id = this.deps.accounts.resolve(ref).id;
    await this.deps.accounts.remove(id);
    this.deps.buddies.forgetAccount(id);
    this.deps.conversations.forgetAccount(id);
  };

  readonly connect = (ref: string): Promise<void> => this.deps.accounts.connect(ref);
  readonly disconnect = (ref: string): Promise<void> => this.deps.accounts.disconnect(ref);
  readonly status = (ref: string): AccountStatus => this.deps.accounts.status(ref);
  /** Which required options (settings or secrets) have no value. */
  readonly missingRequired = (ref: string): Promise<string[]> => this.deps.accounts.missingRequired(ref);

  /** Connects every enabled account; resolves when each has succeeded or failed once. */
  readonly connectEnabled = async (): Promise<Array<{ account: AccountInfo; error?: ConnectionError }>> => {
    const enabled = this.deps.accounts.list().filter((a) => a.enabled);
    return Promise.all(
      enabled.map((account) =>
        this.deps.accounts.connect(account.id).then(
          () => ({ account }),
          (error: unknown) => ({ account, error: ConnectionError.from(error) }),
        ),
      ),
    );
  };
}
