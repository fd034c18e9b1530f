/** Whether a message came from the peer (or a participant) or was written by the account. */
export type MessageDirection = 'incoming' | 'outgoing';

/** What kind of line a message is, beyond its text; each flag absent means false. */
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
  /** The markup, in that subset only. */
  html: string;
}

/** A message in a conversation as the core keeps it: what events carry and the history stores. */
export interface Message {
  /** Unique within this Parley instance (and the history database). */
  id: string;
  /** The protocol's own id, when it has one. */
  protocolId?: string;
  /** The conversation it is in. */
  conversationId: string;
  /** The account the conversation belongs to. */
  accountId: string;
  /** Written by the peer or by the account. */
  direction: MessageDirection;
  /** Who wrote it: the peer, a chat participant's nick, or the account itself. */
  sender: string;
  /** The sender's display name, when the protocol gave one. */
  senderAlias?: string;
  /** Epoch ms; the original time for delayed messages. */
  timestamp: number;
  /** The plain text (always set, also when `formatted` is). */
  text: string;
  /** The rich-text version, when the message had one. */
  formatted?: FormattedBody;
  /** What kind of line it is. */
  flags: MessageFlags;
  /** Delivery state of outgoing messages. */
  delivery?: 'queued' | 'sent' | 'delivered' | 'failed';
  /** Since core API 1.12: recipients the server reported this outgoing message did not reach (a group chat's participants). */
  notDeliveredTo?: string[];
}

/** What a protocol plugin hands the core for an incoming message. */
export interface IncomingMessage {
  /** IM: the peer's name. Chat: the room. */
  conversation:
    | {
        /** A one-to-one conversation. */
        kind: 'im';
        /** The peer's address. */
        peer: string;
      }
    | {
        /** A group chat. */
        kind: 'chat';
        /** The room's address. */
        room: string;
      };
  /** Who wrote it: the peer's address, or the participant's nick in a chat. */
  sender: string;
  /** The sender's display name, when the protocol carries one. */
  senderAlias?: string;
  /** The plain text; required even when `formatted` is given. */
  text: string;
  /** Rich text: the plugin converts its protocol's markup to the `FormattedBody` subset. */
  formatted?: FormattedBody;
  /** Epoch ms when it was sent, for delayed messages; default: now. */
  timestamp?: number;
  /** The protocol's id for the message (for receipts, corrections, deduplication). */
  protocolId?: string;
  /** What kind of line it is. */
  flags?: MessageFlags;
  /** True when the account itself sent this from another client (carbons, echo). */
  fromSelf?: boolean;
}

/** What the core hands a protocol plugin to send. */
export interface OutgoingMessage {
  /** The core's id for the message (`Message.id`). */
  id: string;
  /** The plain text as the user wrote it; it may hold any character, and the plugin encodes it so it cannot inject protocol commands. */
  text: string;
  /** Rich text, for a protocol with `formattedText`. */
  formatted?: FormattedBody;
  /** `action` (/me) and `autoReply` matter here; the plugin renders them its protocol's way. */
  flags: MessageFlags;
}

/** Typing notifications: typing now, stopped for a while with text entered, or not typing. */
export type TypingState = 'typing' | 'paused' | 'idle';
