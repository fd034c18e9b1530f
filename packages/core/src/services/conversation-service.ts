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
  constructor(private readonly deps: ConversationServiceDeps) {}

  readonly list = (): ConversationView[] => this.deps.conversations.list();
  readonly get = (id: string): ConversationView | undefined => this.deps.conversations.get(id);
  readonly openIm = (accountRef: string, peer: string): ConversationView => this.deps.conversations.open(this.deps.accounts.resolve(accountRef).id, 'im', peer);
  readonly find = (accountRef: string, kind: 'im' | 'chat', name: string): ConversationView | undefined =>
    this.deps.conversations.find(this.deps.accounts.resolve(accountRef).id, kind, name);
  readonly send = (conversationId: string, text: string, flags?: { action?: boolean }): Promise<Message | undefined> =>
    this.deps.conversations.send(conversationId, text, flags?.action === true ? { action: true } : {});

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

  readonly setTyping = (conversationId: string, state: TypingState): Promise<void> => this.deps.conversations.sendTyping(conversationId, state);
  readonly markRead = (conversationId: string): void => this.deps.conversations.markRead(conversationId);
  readonly close = (conversationId: string): void => this.deps.conversations.close(conversationId);
  readonly queued = (accountRef: string): readonly Message[] => this.deps.conversations.queued(this.deps.accounts.resolve(accountRef).id);
}
