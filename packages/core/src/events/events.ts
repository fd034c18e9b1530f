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
  /** An account was created. */
  accountAdded: [account: AccountInfo];
  /** An account's settings, user name or enabled flag changed. */
  accountUpdated: [account: AccountInfo];
  /** An account was deleted (its secrets with it). */
  accountRemoved: [account: AccountInfo];
  /** An account's connection state changed: offline, connecting (with progress), online, disconnecting, reconnecting (with nextAttemptAt) or error. */
  accountStatusChanged: [account: AccountInfo, status: AccountStatus];
  /** An account signed in; queued messages are sent next. */
  accountConnected: [account: AccountInfo];
  /** An account's connection closed; the error says why when it was not asked for. */
  accountDisconnected: [account: AccountInfo, error: ConnectionError | undefined];
  /** The server sent the account's own profile. */
  accountInfoReceived: [account: AccountInfo, info: Record<string, string>];

  /** A conversation was opened (by the user or by an incoming message). */
  conversationCreated: [conversation: ConversationInfo];
  /** A conversation was closed. */
  conversationClosed: [conversation: ConversationInfo];
  /** Its unread count went back to 0 (a UI showed it): every other UI drops its count too. */
  conversationRead: [conversation: ConversationInfo];
  /** A group chat's topic changed; setBy is the participant who changed it, when known. */
  conversationTopicChanged: [conversation: ConversationInfo, topic: string, setBy: string | undefined];
  /** Someone joined, left or was renamed in a group chat, or the list arrived; the full list is given. */
  conversationParticipantsChanged: [conversation: ConversationInfo, participants: readonly ChatParticipant[]];
  /** A group chat was joined (also after a reconnect). */
  chatJoined: [conversation: ConversationInfo];
  /** A group chat was left, or the user was removed from it (the reason says which). */
  chatLeft: [conversation: ConversationInfo, reason: string | undefined];
  /** A peer started, paused or stopped typing. */
  typingChanged: [conversation: ConversationInfo, peer: string, state: TypingState];
  /** Since core API 1.13: a participant of a group chat started, paused or stopped typing. */
  chatTypingChanged: [conversation: ConversationInfo, participant: string, state: TypingState];

  /** A message was written to a conversation (either direction, system lines too). */
  messageWritten: [message: Message, conversation: ConversationInfo];
  /** An incoming message arrived (after the receiving hooks). */
  messageReceived: [message: Message, conversation: ConversationInfo];
  /** An outgoing message was handed to the server. */
  messageSent: [message: Message, conversation: ConversationInfo];
  /** An outgoing message waits for its account to come online. */
  messageQueued: [message: Message, conversation: ConversationInfo];
  /** The server or the peer confirmed delivery of an outgoing message. */
  messageDelivered: [message: Message, conversation: ConversationInfo];
  /** An outgoing message could not be sent, or (code `not-delivered`, since core API 1.12) the server reported it missed some recipients, named in `message.notDeliveredTo`; the error has its code. */
  messageFailed: [message: Message, conversation: ConversationInfo, error: ParleyError];

  /** A contact or group was added, removed, renamed or moved; read the list again. */
  buddyListChanged: [];
  /** The account's buddy list is the server's again: the protocol applied the list the server sent after sign-in (at sign-in for protocols that keep no list on the server). */
  buddyListSynced: [accountId: string];
  /** A buddy's presence changed. */
  buddyPresenceChanged: [accountId: string, buddy: string, presence: Presence, previous: Presence];
  /** A buddy's profile (vCard, WHOIS) arrived. */
  buddyInfoReceived: [accountId: string, buddy: string, info: Record<string, string>];
  /** Since core API 1.8: a buddy's picture changed (undefined: removed); the file is in the icon cache. */
  buddyIconChanged: [accountId: string, buddy: string, icon: BuddyIcon | undefined];
  /** Someone asked to add the user to their buddy list. */
  authorizationRequested: [accountId: string, from: string];

  /** The user's own presence changed, for one account or for all (accountId undefined). */
  presenceChanged: [presence: Presence, accountId: string | undefined];

  /** A plugin was loaded. */
  pluginLoaded: [name: string, kind: 'protocol' | 'feature'];
  /** A plugin threw in a hook or an event listener; the error names the plugin. */
  pluginFault: [error: ParleyError];
  /** A plugin was disabled after repeated faults or crashes. */
  pluginDisabled: [name: string, error: ParleyError];
  /** The history could not be written or read; messages keep flowing. */
  historyError: [error: ParleyError];

  /** A file transfer was created: an offer arrived, or the user sent a file. */
  transferAdded: [transfer: TransferInfo];
  /** A transfer's state changed (waiting, transferring, done, failed, cancelled). */
  transferChanged: [transfer: TransferInfo];
  /** Bytes moved on a transfer, with the rate and the time left; at most four times a second per transfer, and once at the end. */
  transferProgress: [transfer: TransferInfo, progress: TransferProgress];
}

/** `parley.events`: an EventEmitter typed by `ParleyEventMap` (listeners get each event's arguments). */
export type ParleyEvents = EventEmitter<ParleyEventMap>;
/** The events as plugins see them: they listen, they cannot emit. */
export type ParleyEventsListenOnly = Pick<ParleyEvents, 'on' | 'once' | 'off'>;

export function createEvents(): ParleyEvents {
  return new EventEmitter<ParleyEventMap>();
}
