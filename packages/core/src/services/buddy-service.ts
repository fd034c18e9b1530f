import type { AccountManager } from '../accounts/account-manager.js';
import { DEFAULT_GROUP, type Buddy, type BuddyList, type ContactView } from '../buddies/buddy-list.js';
import { ConversationError } from '../conversations/errors.js';
import type { RosterEntry } from '../plugins/contract.js';
import type { Logger } from '../util/logger.js';
import { requireOnline } from './online.js';

export interface BuddyServiceDeps {
  accounts: AccountManager;
  buddies: BuddyList;
  log: Logger;
}

/** The buddy list as a UI edits it: local changes, followed on the server where the protocol keeps a list. */
export class BuddyService {
  /** @internal Made by the core; reach it as `parley.buddies`. */
  constructor(private readonly deps: BuddyServiceDeps) {}

  /** The group names, in display order. */
  readonly groups = (): readonly string[] => this.deps.buddies.groupNames();
  /** Every contact (a person, with one or more buddies on different accounts), with presence. */
  readonly contacts = (): ContactView[] => this.deps.buddies.contactList();

  /** One contact by id, or undefined. */
  readonly contact = (id: string): ContactView | undefined => {
    const c = this.deps.buddies.contact(id);
    return c === undefined ? undefined : this.deps.buddies.view(c);
  };

  /** The buddy `name` on an account, with the contact it belongs to; undefined when not in the list. */
  readonly find = (
    accountRef: string,
    name: string,
  ):
    | {
        /** The contact the buddy is grouped under, as the buddy list shows it. */
        contact: ContactView;
        /** A copy of the buddy entry: its address on the protocol, alias, presence and icon. */
        buddy: Buddy;
      }
    | undefined => {
    const found = this.deps.buddies.find(this.deps.accounts.resolve(accountRef).id, name);
    return found === undefined ? undefined : { contact: this.deps.buddies.view(found.contact), buddy: { ...found.buddy } };
  };

  /** Adds a buddy, on the server too when the protocol manages buddy lists. */
  readonly add = async (accountRef: string, name: string, options: { alias?: string; group?: string } = {}): Promise<void> => {
    const account = this.deps.accounts.resolve(accountRef);
    const entry: RosterEntry = { name, groups: [options.group ?? DEFAULT_GROUP] };
    if (options.alias !== undefined) entry.alias = options.alias;
    const connection = this.deps.accounts.connection(account.id);
    if (connection?.addBuddy !== undefined) await connection.addBuddy(entry);
    this.deps.buddies.upsert(account.id, entry);
  };

  /** Removes a buddy, from the server too when the protocol manages buddy lists. */
  readonly remove = async (accountRef: string, name: string): Promise<void> => {
    const account = this.deps.accounts.resolve(accountRef);
    const connection = this.deps.accounts.connection(account.id);
    if (connection?.removeBuddy !== undefined) await connection.removeBuddy(name);
    this.deps.buddies.remove(account.id, name);
  };

  /** Moves a contact to another group; each buddy's server-side group follows. */
  readonly move = async (contactId: string, group: string): Promise<void> => {
    const contact = this.deps.buddies.moveContact(contactId, group);
    await this.pushUpdates(contact.buddies.map((b) => ({ accountId: b.accountId, entry: { name: b.name, groups: [group], ...(b.alias === undefined ? {} : { alias: b.alias }) } })));
  };

  /** Names a contact; each of its buddies' server-side alias follows. */
  readonly alias = async (contactId: string, alias: string): Promise<void> => {
    this.deps.buddies.aliasContact(contactId, alias);
    const contact = this.deps.buddies.contact(contactId)!;
    await this.pushUpdates(contact.buddies.map((b) => ({ accountId: b.accountId, entry: { name: b.name, alias, groups: [contact.group] } })));
  };

  /** Renames a group (merging into `to` when it exists); buddies' server-side groups follow. */
  readonly renameGroup = async (from: string, to: string): Promise<void> => {
    const moved = this.deps.buddies.renameGroup(from, to);
    await this.pushUpdates(moved.flatMap((c) => c.buddies.map((b) => ({ accountId: b.accountId, entry: { name: b.name, groups: [to], ...(b.alias === undefined ? {} : { alias: b.alias }) } }))));
  };

  /** Makes one contact of two (the same person on two accounts); returns the merged contact. */
  readonly merge = (targetContactId: string, sourceContactId: string) => this.deps.buddies.view(this.deps.buddies.mergeContacts(targetContactId, sourceContactId));
  /** Takes a buddy out of its contact into a contact of its own; returns the new contact. */
  readonly split = (accountRef: string, name: string) => this.deps.buddies.view(this.deps.buddies.splitBuddy(this.deps.accounts.resolve(accountRef).id, name));

  /** Asks the server for a buddy's profile (capability `buddyInfo`, account online); also sent as `buddyInfoReceived`. */
  readonly info = async (accountRef: string, name: string): Promise<Record<string, string>> => {
    const account = this.deps.accounts.resolve(accountRef);
    const connection = requireOnline(this.deps.accounts, account.id);
    if (connection.getBuddyInfo === undefined) throw new ConversationError('not-supported', `${account.protocol} has no buddy info`);
    const info = await connection.getBuddyInfo(name);
    this.deps.buddies.setInfo(account.id, name, info);
    return info;
  };

  private async pushUpdates(updates: Array<{ accountId: string; entry: RosterEntry }>): Promise<void> {
    for (const { accountId, entry } of updates) {
      const connection = this.deps.accounts.connection(accountId);
      if (connection?.updateBuddy === undefined) continue;
      try {
        await connection.updateBuddy(entry);
      } catch (error) {
        this.deps.log.warn('updating a buddy on the server failed', { buddy: entry.name, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}
