export type MessageDirection = 'incoming' | 'outgoing';

export interface MessageFlags {
  /** Sent earlier than received: offline storage, room history. */
  delayed?: boolean;
  /** A line from the client or server, not from a person. */
  system?: boolean;
  /** An error about this conversation (e.g. a message that could not be delivered). */
  error?: boolean;
  /** An automatic answer (away message). */
  autoReply?: boolean;
  /** `/me` action. */
  action?: boolean;
  /** A notice (IRC NOTICE, headline). */
  notice?: boolean;
}

/** Rich text as a small, safe subset of HTML (b, i, u, s, a href, br, code, pre, span style=color). */
export interface FormattedBody {
  html: string;
}

export interface Message {
  /** Unique within this Parley instance (and the history database). */
  id: string;
  /** The protocol's own id, when it has one. */
  protocolId?: string;
  conversationId: string;
  accountId: string;
  direction: MessageDirection;
  /** Who wrote it: the peer, a chat participant's nick, or the account itself. */
  sender: string;
  senderAlias?: string;
  /** Epoch ms; the original time for delayed messages. */
  timestamp: number;
  text: string;
  formatted?: FormattedBody;
  flags: MessageFlags;
  /** Delivery state of outgoing messages. */
  delivery?: 'queued' | 'sent' | 'delivered' | 'failed';
}

/** What a protocol plugin hands the core for an incoming message. */
export interface IncomingMessage {
  /** IM: the peer's name. Chat: the room. */
  conversation: { kind: 'im'; peer: string } | { kind: 'chat'; room: string };
  sender: string;
  senderAlias?: string;
  text: string;
  formatted?: FormattedBody;
  timestamp?: number;
  protocolId?: string;
  flags?: MessageFlags;
  /** True when the account itself sent this from another client (carbons, echo). */
  fromSelf?: boolean;
}

/** What the core hands a protocol plugin to send. */
export interface OutgoingMessage {
  id: string;
  text: string;
  formatted?: FormattedBody;
  flags: MessageFlags;
}

export type TypingState = 'typing' | 'paused' | 'idle';
