import type { ChatParticipant } from '../plugins/contract.js';
import type { Message, TypingState } from './message.js';

/** A one-to-one conversation or a group chat. */
export type ConversationKind = 'im' | 'chat';

/** Which conversation something is about: what events and hooks carry. */
export interface ConversationInfo {
  /** The core's id for it; every conversation API takes it. */
  readonly id: string;
  /** IM or group chat. */
  readonly kind: ConversationKind;
  /** The account it belongs to. */
  readonly accountId: string;
  /** IM: the peer's name; chat: the room. */
  readonly name: string;
}

/** What a UI reads of a conversation. */
export interface ConversationView extends ConversationInfo {
  /** What a UI shows as its name: the buddy's alias, the room's title. */
  title: string;
  /** A chat's topic, when it has one. */
  topic?: string;
  /** IM: the peer's typing state. */
  typing: TypingState;
  /** Since core API 1.13: a chat's participants who are typing or paused, by nick (empty for an IM). */
  chatTyping: ReadonlyMap<string, TypingState>;
  /** A chat's participants by nick (empty for an IM). */
  participants: ReadonlyMap<string, ChatParticipant>;
  /** The most recent messages (bounded); older ones are in history. */
  messages: readonly Message[];
  /** A chat: the account is in the room now (false after leaving or while offline). */
  joined: boolean;
  /** Messages since a UI last marked it read (`markRead`). */
  unread: number;
}

export function conversationKey(accountId: string, kind: ConversationKind, name: string): string {
  // IM peers compare without case in every protocol Parley speaks; rooms too.
  return `${accountId}\u0000${kind}\u0000${name.toLowerCase()}`;
}
