import { EventEmitter } from 'eventemitter3';
import type { AccountInfo, AccountStatus } from '../accounts/account.js';
import type { Message, TypingState } from '../conversations/message.js';
import type { ConversationInfo } from '../conversations/conversation.js';
import type { Presence } from '../presence/presence.js';
import type { ConnectionError } from '../errors/ConnectionError.js';
import type { ParleyError } from '../errors/ParleyError.js';
import type { ChatParticipant } from '../plugins/contract.js';
import type { BuddyIcon } from '../buddies/icons.js';
import type { TransferInfo, TransferProgress } from '../transfers/types.js';

/**
 * Past-tense facts a UI observes. Every event Parley emits is in this map,
 * with its arguments.
 */
export interface ParleyEventMap {
  accountAdded: [account: AccountInfo];
  accountUpdated: [account: AccountInfo];
  accountRemoved: [account: AccountInfo];
  accountStatusChanged: [account: AccountInfo, status: AccountStatus];
  accountConnected: [account: AccountInfo];
  accountDisconnected: [account: AccountInfo, error: ConnectionError | undefined];
  accountInfoReceived: [account: AccountInfo, info: Record<string, string>];

  conversationCreated: [conversation: ConversationInfo];
  conversationClosed: [conversation: ConversationInfo];
  /** Its unread count went back to 0 (a UI showed it): every other UI drops its count too. */
  conversationRead: [conversation: ConversationInfo];
  conversationTopicChanged: [conversation: ConversationInfo, topic: string, setBy: string | undefined];
  conversationParticipantsChanged: [conversation: ConversationInfo, participants: readonly ChatParticipant[]];
  chatJoined: [conversation: ConversationInfo];
  chatLeft: [conversation: ConversationInfo, reason: string | undefined];
  typingChanged: [conversation: ConversationInfo, peer: string, state: TypingState];

  /** A message was written to a conversation (either direction, system lines too). */
  messageWritten: [message: Message, conversation: ConversationInfo];
  messageReceived: [message: Message, conversation: ConversationInfo];
  messageSent: [message: Message, conversation: ConversationInfo];
  messageQueued: [message: Message, conversation: ConversationInfo];
  messageDelivered: [message: Message, conversation: ConversationInfo];
  messageFailed: [message: Message, conversation: ConversationInfo, error: ParleyError];

  buddyListChanged: [];
  buddyListSynced: [accountId: string];
  buddyPresenceChanged: [accountId: string, buddy: string, presence: Presence, previous: Presence];
  buddyInfoReceived: [accountId: string, buddy: string, info: Record<string, string>];
  /** Since core API 1.8: a buddy's picture changed (undefined: removed); the file is in the icon cache. */
  buddyIconChanged: [accountId: string, buddy: string, icon: BuddyIcon | undefined];
  authorizationRequested: [accountId: string, from: string];

  presenceChanged: [presence: Presence, accountId: string | undefined];

  pluginLoaded: [name: string, kind: 'protocol' | 'feature'];
  pluginFault: [error: ParleyError];
  pluginDisabled: [name: string, error: ParleyError];
  historyError: [error: ParleyError];

  /** A file transfer was created: an offer arrived, or the user sent a file. */
  transferAdded: [transfer: TransferInfo];
  /** A transfer's state changed (waiting, transferring, done, failed, cancelled). */
  transferChanged: [transfer: TransferInfo];
  transferProgress: [transfer: TransferInfo, progress: TransferProgress];
}

export type ParleyEvents = EventEmitter<ParleyEventMap>;
export type ParleyEventsListenOnly = Pick<ParleyEvents, 'on' | 'once' | 'off'>;

export function createEvents(): ParleyEvents {
  return new EventEmitter<ParleyEventMap>();
}
