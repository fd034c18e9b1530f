import type { Message } from '../conversations/message.js';

/** What to look for in the history; every field given must match. */
export interface HistoryQuery {
  /** Words that must all appear (full-text, any order). */
  words?: string;
  /** Peer (IM) or room (chat) name. */
  peer?: string;
  /** Only this account's messages. */
  accountId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /** At most this many entries, the newest ones. */
  limit?: number;
}

/** A stored message with the conversation it belongs to named, so it can be found without the conversation open. */
export interface HistoryEntry extends Message {
  /** IM peer or room. */
  peer: string;
  /** Whether `peer` is a person or a room. */
  conversationKind: 'im' | 'chat';
}

/** Where messages are kept. Replace it by registering another implementation under `TOKENS.HistoryStore`. */
export interface HistoryStore {
  /** Queues a message for storage; it is on disk after the next `flush` (the store may write in batches). */
  append(entry: HistoryEntry): void;
  /** Writes what is pending; resolves when it is on disk. */
  flush(): Promise<void>;
  /** The entries matching `query`, oldest first. */
  search(query: HistoryQuery): Promise<HistoryEntry[]>;
  /** The last `limit` messages of a conversation, oldest first. */
  recent(accountId: string, peer: string, limit: number): Promise<HistoryEntry[]>;
  /** Writes what is pending and releases the store; nothing is appended after. */
  close(): Promise<void>;
}
