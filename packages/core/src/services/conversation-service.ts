import type { AccountManager } from '../accounts/account-manager.js';
import type { BuddyList } from '../buddies/buddy-list.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import type { ConversationView } from '../conversations/conversation.js';
import type { Message, TypingState } from '../conversations/message.js';
import { MessageError } from '../errors/ParleyError.js';

export interface ConversationServiceDeps {
  accounts: AccountManager;
  conversations: ConversationManager;
  buddies: BuddyList;
}

/** Conversations as a UI sees them: accounts named by reference, contacts reached through their best buddy. */
export class ConversationService {
  /** @internal Made by the core; reach it as `parley.conversations`. */
  constructor(private readonly deps: ConversationServiceDeps) {}

  /** Every open conversation (IMs and chats), with recent messages and unread counts. */
  readonly list = (): ConversationView[] => this.deps.conversations.list();
  /** One conversation by id, or undefined. */
  readonly get = (id: string): ConversationView | undefined => this.deps.conversations.get(id);
  /** Opens (or returns the open) one-to-one conversation with `peer` on an account; nothing is sent. */
  readonly openIm = (accountRef: string, peer: string): ConversationView => this.deps.conversations.open(this.deps.accounts.resolve(accountRef).id, 'im', peer);
  /** The open conversation with `name` (a peer or a room) on an account, or undefined. */
  readonly find = (accountRef: string, kind: 'im' | 'chat', name: string): ConversationView | undefined =>
    this.deps.conversations.find(this.deps.accounts.resolve(accountRef).id, kind, name);
  /**
   * Sends `text` in a conversation (`action`: a /me line). Resolves with the
   * message as written (its `delivery` says sent or queued, for an offline
   * account), or undefined when a hook cancelled it; a failure is also sent
   * as `messageFailed`.
   */
  readonly send = (conversationId: string, text: string, flags?: { action?: boolean }): Promise<Message | undefined> =>
    this.deps.conversations.send(conversationId, text, flags?.action === true ? { action: true } : {});

  /** Opens the IM with `peer` if needed and sends `text` in it, as `send` does. */
  readonly sendIm = (accountRef: string, peer: string, text: string): Promise<Message | undefined> => {
    const conversation = this.deps.conversations.open(this.deps.accounts.resolve(accountRef).id, 'im', peer);
    return this.deps.conversations.send(conversation.id, text);
  };

  /** Sends to a contact through its best online buddy. */
  readonly sendToContact = (contactId: string, text: string): Promise<Message | undefined> => {
    const buddy = this.deps.buddies.bestBuddy(contactId, (id) => this.deps.accounts.isOnline(id));
    if (buddy === undefined) return Promise.reject(new MessageError('no-route', 'None of this contact\'s accounts is online'));
    return this.sendIm(buddy.accountId, buddy.name, text);
  };

  /**
   * Tells the peer of an IM that the user is typing, paused or stopped (when
   * the protocol has typing notices); since core API 1.13 also the
   * participants of a joined group chat (capability `chatTyping`).
   */
  readonly setTyping = (conversationId: string, state: TypingState): Promise<void> => this.deps.conversations.sendTyping(conversationId, state);
  /** The user has seen the conversation: its unread count goes to 0 and every UI is told (`conversationRead`). */
  readonly markRead = (conversationId: string): void => this.deps.conversations.markRead(conversationId);
  /** Closes the conversation (the protocol may end a session tied to it); its history stays. */
  readonly close = (conversationId: string): void => this.deps.conversations.close(conversationId);
  /** The account's messages waiting for it to come online, oldest first. */
  readonly queued = (accountRef: string): readonly Message[] => this.deps.conversations.queued(this.deps.accounts.resolve(accountRef).id);
}
