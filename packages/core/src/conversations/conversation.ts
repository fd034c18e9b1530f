import type { ChatParticipant } from '../plugins/contract.js';
import type { Message, TypingState } from './message.js';

export type ConversationKind = 'im' | 'chat';

export interface ConversationInfo {
  readonly id: string;
  readonly kind: ConversationKind;
  readonly accountId: string;
  /** IM: the peer's name; chat: the room. */
  readonly name: string;
}

/** What a UI reads of a conversation. */
export interface ConversationView extends ConversationInfo {
  title: string;
  topic?: string;
  /** IM: the peer's typing state. */
  typing: TypingState;
  participants: ReadonlyMap<string, ChatParticipant>;
  /** The most recent messages (bounded); older ones are in history. */
  messages: readonly Message[];
  joined: boolean;
  unread: number;
}

export function conversationKey(accountId: string, kind: ConversationKind, name: string): string {
  // IM peers compare without case in every protocol Parley speaks; rooms too.
  return `${accountId}\u0000${kind}\u0000${name.toLowerCase()}`;
}
