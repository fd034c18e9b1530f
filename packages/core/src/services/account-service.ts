import type { AccountChanges, AccountManager, NewAccount } from '../accounts/account-manager.js';
import type { AccountInfo, AccountStatus } from '../accounts/account.js';
import type { BuddyList } from '../buddies/buddy-list.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import { ConnectionError } from '../errors/ConnectionError.js';
import { readFile, stat } from 'node:fs/promises';
import { IconError, MAX_ICON_BYTES, checkIcon, type BuddyIcon } from '../buddies/icons.js';
import { MessageError } from '../errors/ParleyError.js';
import { requireOnline } from './online.js';

export interface AccountServiceDeps {
  accounts: AccountManager;
  buddies: BuddyList;
  conversations: ConversationManager;
}

/** Accounts as a UI manages them; removing one also forgets its buddies and conversations. */
export class AccountService {
  /** @internal Made by the core; reach it as `parley.accounts`. */
  constructor(private readonly deps: AccountServiceDeps) {}

  /** Every account, in the order they were added. */
  readonly list = (): AccountInfo[] => this.deps.accounts.list();
  /** One account by reference (its id, or `protocol:username`); throws a ConfigError (`unknown-account`) when there is none. */
  readonly get = (ref: string): AccountInfo => this.deps.accounts.get(ref);
  /** The account's settings with the schema's defaults filled in; secrets are not included. */
  readonly settings = (ref: string) => this.deps.accounts.settings(ref);
  /** Creates an account after validating its settings against the protocol's schema; secrets go to the secret store. */
  readonly add = (account: NewAccount): Promise<AccountInfo> => this.deps.accounts.add(account);
  /** Changes settings, secrets, the user name or the enabled flag; the settings are validated again. */
  readonly update = (ref: string, changes: AccountChanges): Promise<AccountInfo> => this.deps.accounts.update(ref, changes);

  /** Deletes the account with its secrets, and forgets its buddies and conversations. */
  readonly remove = async (ref: string): Promise<void> => {
    const id = this.deps.accounts.resolve(ref).id;
    await this.deps.accounts.remove(id);
    this.deps.buddies.forgetAccount(id);
    this.deps.conversations.forgetAccount(id);
  };

  /** Signs the account in; resolves once online, rejects with a ConnectionError (a network one is then retried by the reconnect policy). */
  readonly connect = (ref: string): Promise<void> => this.deps.accounts.connect(ref);
  /** Signs the account off and stops any reconnect. */
  readonly disconnect = (ref: string): Promise<void> => this.deps.accounts.disconnect(ref);
  /** The account's connection state now (also sent as `accountStatusChanged`). */
  readonly status = (ref: string): AccountStatus => this.deps.accounts.status(ref);
  /** Which required options (settings or secrets) have no value. */
  readonly missingRequired = (ref: string): Promise<string[]> => this.deps.accounts.missingRequired(ref);

  /**
   * Since core API 1.8: publishes a picture file as the account's own (undefined: none), for a
   * protocol that has them (XMPP avatars); the account must be online. The file is checked like a
   * buddy's icon (at most 512 KiB, an image by its bytes) and kept in the icon cache.
   */
  readonly setIcon = async (ref: string, file: string | undefined): Promise<BuddyIcon | undefined> => {
    const account = this.deps.accounts.resolve(ref);
    const connection = requireOnline(this.deps.accounts, account.id);
    if (connection.setIcon === undefined) throw new MessageError('not-supported', `${account.protocol} has no account pictures`);
    if (file === undefined) {
      await connection.setIcon(undefined);
      return undefined;
    }
    let data: Uint8Array;
    try {
      // Refused before it is read whole: a path to a huge file costs nothing.
      if ((await stat(file)).size > MAX_ICON_BYTES) throw new IconError('icon-too-large', `${file} is larger than ${MAX_ICON_BYTES} bytes`);
      data = await readFile(file);
    } catch (error) {
      if (error instanceof IconError) throw error;
      throw new IconError('icon-unreadable', `Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const { hash, type } = checkIcon(data);
    const icon = this.deps.buddies.icons?.store(data);
    await connection.setIcon({ data, type, hash });
    return icon;
  };

  /** Connects every enabled account; resolves when each has succeeded or failed once. */
  readonly connectEnabled = async (): Promise<
    Array<{
      /** The account, as it was after its attempt. */
      account: AccountInfo;
      /** Why its first attempt failed; absent when it connected. */
      error?: ConnectionError;
    }>
  > => {
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
