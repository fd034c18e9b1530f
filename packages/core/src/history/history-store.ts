import type { Message } from '../conversations/message.js';

export interface HistoryQuery {
  /** Words that must all appear (full-text, any order). */
  words?: string;
  /** Peer (IM) or room (chat) name. */
  peer?: string;
  accountId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  limit?: number;
}

export interface HistoryEntry extends Message {
  /** IM peer or room. */
  peer: string;
  conversationKind: 'im' | 'chat';
}

/** Where messages are kept. Replace it by registering another implementation under `TOKENS.HistoryStore`. */
export interface HistoryStore {
  append(entry: HistoryEntry): void;
  /** Writes what is pending; resolves when it is on disk. */
  flush(): Promise<void>;
  search(query: HistoryQuery): Promise<HistoryEntry[]>;
  /** The last `limit` messages of a conversation, oldest first. */
  recent(accountId: string, peer: string, limit: number): Promise<HistoryEntry[]>;
  close(): Promise<void>;
}
