import type { AccountInfo, AccountStatus } from '../accounts/account.js';
import type { ContactView } from '../buddies/buddy-list.js';
import type { ConversationView } from '../conversations/conversation.js';
import type { Parley } from '../parley.js';
import type { ProtocolDescriptor } from '../plugins/registry.js';
import type { Presence } from '../presence/presence.js';
import type { TransferInfo } from '../transfers/types.js';

/** A slash command as a UI lists it (for /help and completion); running one is `commands.run`. */
export interface CommandInfo {
  /** The command without its slash ("join"). */
  name: string;
  /** One line saying what it does, for /help. */
  help: string;
  /** Its arguments as /help shows them ("<room> [password]"). */
  usage?: string;
  /** "core", or the plugin that registered it. */
  owner: string;
  /** Set for a protocol's own command: it applies in that protocol's conversations only. */
  protocol?: string;
}

/**
 * Everything a UI draws, read at one instant: accounts with their states,
 * the person's presence, the buddy list, the open conversations with their
 * recent messages and unread counts, the installed protocols and the slash
 * commands. A UI in another process reads it when it attaches and again
 * after the events that change it, so it shows what a UI beside the core would.
 */
export interface CoreSnapshot {
  /** Every account, in the order `accounts.list()` gives them. */
  accounts: Array<{
    /** The account as UIs see it: id, protocol, username, whether it is enabled. */
    account: AccountInfo;
    /** Its connection state and, after a failure, the error. */
    status: AccountStatus;
  }>;
  /** The person's status, as `presence.get()` gives it. */
  presence: Presence;
  /** The buddy list's group names. */
  groups: string[];
  /** Every contact with its buddies and their presence. */
  contacts: ContactView[];
  /** The open conversations with their recent messages and unread counts. */
  conversations: ConversationView[];
  /** The installed protocols with their account forms. */
  protocols: ProtocolDescriptor[];
  /** The slash commands the core and its plugins offer. */
  commands: CommandInfo[];
  /** Since remote protocol 1.3: file transfers going on and recently ended. */
  transfers?: TransferInfo[];
}

/** Reads a snapshot of an in-process core (what the owner answers to `state.snapshot`). */
export function snapshotOf(parley: Parley): CoreSnapshot {
  return {
    accounts: parley.accounts.list().map((account) => ({ account, status: parley.accounts.status(account.id) })),
    presence: parley.presence.get(),
    groups: [...parley.buddies.groups()],
    contacts: parley.buddies.contacts(),
    conversations: parley.conversations.list(),
    protocols: parley.plugins.protocols(),
    commands: parley.commands.list().map((c) => ({
      name: c.name,
      help: c.help,
      owner: c.owner,
      ...(c.usage === undefined ? {} : { usage: c.usage }),
      ...(c.protocol === undefined ? {} : { protocol: c.protocol }),
    })),
    transfers: parley.transfers.list(),
  };
}
