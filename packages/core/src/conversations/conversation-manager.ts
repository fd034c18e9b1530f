import { createHash } from 'node:crypto';
import { ConversationError } from './errors.js';
import { MessageError, type ParleyError } from '../errors/ParleyError.js';
import type { ParleyEvents } from '../events/events.js';
import { runMessageWaterfall, type ParleyHooks } from '../hooks/hooks.js';
import type { HistoryEntry, HistoryStore } from '../history/history-store.js';
import { ThreadedHistory } from '../history/threaded-history.js';
import type { ChatParticipant, Target } from '../plugins/contract.js';
import { newId, newMessageId } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { conversationKey, type ConversationInfo, type ConversationKind, type ConversationView } from './conversation.js';
import type { IncomingMessage, Message, MessageFlags, OutgoingMessage, TypingState } from './message.js';

/** How the conversation layer reaches accounts, without knowing about connections. */
export interface OutboundRouter {
  isOnline(accountId: string): boolean;
  /** False when the account is in a fatal error state or disabled: queuing would be pointless. */
  canQueue(accountId: string): boolean;
  send(accountId: string, target: Target, message: OutgoingMessage): Promise<{ protocolId?: string } | void>;
  setTyping(accountId: string, peer: string, state: TypingState): Promise<void>;
  setChatTyping(accountId: string, room: string, state: TypingState): Promise<void>;
  closeConversation(accountId: string, target: Target): Promise<void>;
  selfName(accountId: string): string;
}

/** Messages kept in memory per conversation; the rest is in history. */
const SCROLLBACK = 500;
/** Incoming protocol ids remembered per conversation to drop a message that arrives twice. */
const RECENT_IDS = 1000;
/** Names remembered per account and kind as spelt, to find a conversation without case-folding (see `ensure`). */
const SPELLINGS = 4096;
/** Sent messages that can still take a delivery receipt or report, newest first, over every account. */
export const RECEIPT_WINDOW = 5000;

class Conversation implements ConversationView {
  readonly id: string;
  title: string;
  topic?: string;
  typing: TypingState = 'idle';
  /** A chat's participants who are typing or paused, by nick. */
  chatTyping = new Map<string, TypingState>();
  participants = new Map<string, ChatParticipant>();
  messages: Message[] = [];
  joined = false;
  unread = 0;
  /** Recent incoming messages that carried a protocol id, oldest first (see `isRepeat`). */
  private readonly recentIds = new Set<string>();

  /**
   * Whether this message arrived already: same protocol id, sender and
   * text. A sender that cannot tell whether the server got a message (its
   * acknowledgement was cut off by a restart) sends it again with the same
   * id, and a server may also hand out as offline a message it delivered.
   * The text is part of the key because some clients reuse ids.
   */
  isRepeat(message: { protocolId?: string; sender: string; text: string; direction: string }): boolean {
    if (message.protocolId === undefined) return false;
    const text = createHash('sha256').update(message.text).digest('base64');
    const key = `${message.direction}\u0000${message.sender}\u0000${message.protocolId}\u0000${text}`;
    if (this.recentIds.has(key)) return true;
    this.recentIds.add(key);
    if (this.recentIds.size > RECENT_IDS) this.recentIds.delete(this.recentIds.values().next().value!);
    return false;
  }

  constructor(
    readonly kind: ConversationKind,
    readonly accountId: string,
    readonly name: string,
  ) {
    this.id = newId();
    this.title = name;
  }

  private frozenInfo: ConversationInfo | undefined;

  /**
   * Built once and frozen: every field of it is fixed for the conversation's
   * life, so each event shares one object, and a listener or hook tap cannot
   * change what the next one receives.
   */
  info(): ConversationInfo {
    return (this.frozenInfo ??= Object.freeze({ id: this.id, kind: this.kind, accountId: this.accountId, name: this.name }));
  }

  target(): Target {
    return this.kind === 'im' ? { kind: 'im', peer: this.name } : { kind: 'chat', room: this.name };
  }
}

interface Queued {
  message: Message;
  conversation: Conversation;
  timer: NodeJS.Timeout;
}

export interface ConversationManagerOptions {
  /** How long a message waits for its account to come back before it is reported failed. */
  queueTimeoutMs: number;
  /**
   * How long a group chat participant's "typing" or "paused" lasts unless the
   * protocol repeats it: a participant whose client stopped saying anything
   * (it crashed, the notice was lost) does not type forever. Default 30 s.
   */
  chatTypingTimeoutMs?: number;
}

/** XEP-0085 suggests "paused" after 30 s without a keystroke; a state not renewed in that time is stale. */
const CHAT_TYPING_TIMEOUT_MS = 30_000;

/** Keeps the fields a hook may not change: who, where and which message it is. */
function guardIdentity(original: Message, rewritten: Message): Message {
  // Left as it was (the common case): nothing to restore, and no copy per message.
  if (rewritten === original) return original;
  // A rewrite that kept them (a tap's `{ ...message, text }`) is taken as it is: the flags are still the
  // core's own copy, and a second copy per message would only make garbage.
  if (
    rewritten.id === original.id &&
    rewritten.conversationId === original.conversationId &&
    rewritten.accountId === original.accountId &&
    rewritten.direction === original.direction &&
    rewritten.flags === original.flags
  ) {
    return rewritten;
  }
  return {
    ...rewritten,
    id: original.id,
    conversationId: original.conversationId,
    accountId: original.accountId,
    direction: original.direction,
    flags: { ...rewritten.flags },
  };
}

/** The message as history keeps it, built field by field: a spread of a rewritten message is several times slower. */
function historyEntry(message: Message, conversation: Conversation): HistoryEntry {
  const entry: HistoryEntry = {
    id: message.id,
    conversationId: message.conversationId,
    accountId: message.accountId,
    direction: message.direction,
    sender: message.sender,
    timestamp: message.timestamp,
    text: message.text,
    flags: message.flags,
    peer: conversation.name,
    conversationKind: conversation.kind,
  };
  if (message.protocolId !== undefined) entry.protocolId = message.protocolId;
  if (message.senderAlias !== undefined) entry.senderAlias = message.senderAlias;
  if (message.formatted !== undefined) entry.formatted = message.formatted;
  if (message.delivery !== undefined) entry.delivery = message.delivery;
  return entry;
}

/**
 * Conversations and the path every message takes: hooks, the conversation,
 * the UI event and history. Outgoing messages wait in a queue while their
 * account is offline and are reported failed after a bound, never dropped.
 */
export class ConversationManager {
  private readonly byKey = new Map<string, Conversation>();
  private readonly byId = new Map<string, Conversation>();
  /**
   * Conversations by account, kind and name spelt exactly as a plugin gave it:
   * a message finds its conversation without building the case-folded key.
   * A cache of `byKey`, emptied for an account when one of its conversations closes.
   */
  private readonly bySpelling = new Map<string, { im: Map<string, Conversation>; chat: Map<string, Conversation> }>();
  private readonly queues = new Map<string, Queued[]>();
  /** Accounts whose queue is being sent: new messages line up behind it, so nothing overtakes. */
  private readonly flushing = new Set<string>();
  /**
   * Outgoing messages by protocol id, for delivery receipts and reports; the
   * newest RECEIPT_WINDOW only, since many never get a receipt (a protocol or
   * peer that sends none) and a client runs for weeks.
   */
  private readonly sentByProtocolId = new Map<string, { message: Message; conversation: Conversation }>();
  /**
   * When each participant's entry in a chat's `chatTyping` lapses unless they
   * repeat it. Kept here, not on the conversation: a UI's snapshot copies the
   * conversation as data, and timers are not.
   */
  private readonly chatTypingTimers = new WeakMap<Conversation, Map<string, NodeJS.Timeout>>();

  constructor(
    private readonly hooks: ParleyHooks,
    private readonly events: ParleyEvents,
    private readonly history: HistoryStore | undefined,
    private readonly router: OutboundRouter,
    private readonly log: Logger,
    private readonly options: ConversationManagerOptions,
  ) {}

  list(): ConversationView[] {
    return [...this.byId.values()];
  }

  get(id: string): ConversationView | undefined {
    return this.byId.get(id);
  }

  find(accountId: string, kind: ConversationKind, name: string): ConversationView | undefined {
    return this.byKey.get(conversationKey(accountId, kind, name));
  }

  open(accountId: string, kind: ConversationKind, name: string): ConversationView {
    return this.ensure(accountId, kind, name);
  }

  private ensure(accountId: string, kind: ConversationKind, name: string): Conversation {
    let spellings = this.bySpelling.get(accountId);
    const cached = spellings?.[kind].get(name);
    if (cached !== undefined) return cached;
    const key = conversationKey(accountId, kind, name);
    let conversation = this.byKey.get(key);
    if (conversation === undefined) {
      conversation = new Conversation(kind, accountId, name);
      this.byKey.set(key, conversation);
      this.byId.set(conversation.id, conversation);
      const info = conversation.info();
      this.hooks.conversationCreated.call(info);
      this.events.emit('conversationCreated', info);
      // A hook tap or listener may have closed it meanwhile: only a conversation still open is cached.
      if (this.byId.get(conversation.id) !== conversation) return conversation;
    }
    if (spellings === undefined) {
      spellings = { im: new Map(), chat: new Map() };
      this.bySpelling.set(accountId, spellings);
    }
    // Bounded: a server that spells one name a new way in every message must not grow it without end.
    if (spellings[kind].size >= SPELLINGS) spellings[kind].clear();
    spellings[kind].set(name, conversation);
    return conversation;
  }

  private require(id: string): Conversation {
    const conversation = this.byId.get(id);
    if (conversation === undefined) throw new ConversationError('unknown-conversation', `No conversation ${id}`);
    return conversation;
  }

  close(id: string): void {
    const conversation = this.byId.get(id);
    if (conversation === undefined) return;
    // The protocol may end its session (an OCS dialog's BYE); closing locally never waits for it.
    if (this.router.isOnline(conversation.accountId)) void this.router.closeConversation(conversation.accountId, conversation.target());
    for (const timer of this.chatTypingTimers.get(conversation)?.values() ?? []) clearTimeout(timer);
    this.chatTypingTimers.delete(conversation);
    this.byId.delete(id);
    this.byKey.delete(conversationKey(conversation.accountId, conversation.kind, conversation.name));
    this.bySpelling.delete(conversation.accountId);
    this.events.emit('conversationClosed', conversation.info());
  }

  markRead(id: string): void {
    const conversation = this.require(id);
    if (conversation.unread === 0) return;
    conversation.unread = 0;
    this.events.emit('conversationRead', conversation.info());
  }

  /** The incoming path: receivingMessage → conversation → writingToConversation → events → history. */
  /**
   * The incoming path. Runs to the end at once when every hook tap answers at
   * once (the common case: no promise per message), and returns a promise
   * only when a tap answers later.
   */
  receive(accountId: string, incoming: IncomingMessage): void | Promise<void> {
    const kind = incoming.conversation.kind;
    const name = incoming.conversation.kind === 'im' ? incoming.conversation.peer : incoming.conversation.room;
    const conversation = this.ensure(accountId, kind, name);
    const message: Message = {
      id: newMessageId(),
      conversationId: conversation.id,
      accountId,
      direction: incoming.fromSelf === true ? 'outgoing' : 'incoming',
      sender: incoming.sender,
      timestamp: incoming.timestamp ?? Date.now(),
      text: incoming.text,
      flags: { ...incoming.flags },
    };
    if (incoming.senderAlias !== undefined) message.senderAlias = incoming.senderAlias;
    if (incoming.formatted !== undefined) message.formatted = incoming.formatted;
    if (incoming.protocolId !== undefined) message.protocolId = incoming.protocolId;
    if (incoming.fromSelf === true) message.delivery = 'sent';
    if (conversation.isRepeat(message)) {
      this.log.debug('dropped a message that arrived twice', { conversation: conversation.name, protocolId: message.protocolId });
      return;
    }
    const accepted = runMessageWaterfall(this.hooks.receivingMessage, message);
    // The continuations are methods, not closures made here: a closure costs an allocation per message even when unused.
    return accepted instanceof Promise ? this.acceptedLater(conversation, message, accepted) : this.accepted(conversation, message, accepted);
  }

  private accepted(conversation: Conversation, message: Message, accepted: Message | null): void | Promise<void> {
    if (accepted === null) return;
    const final = this.write(conversation, guardIdentity(message, accepted));
    return final instanceof Promise ? this.receivedLater(conversation, final) : this.received(conversation, final);
  }

  private async receivedLater(conversation: Conversation, final: Promise<Message | undefined>): Promise<void> {
    this.received(conversation, await final);
  }

  private async acceptedLater(conversation: Conversation, message: Message, accepted: Promise<Message | null>): Promise<void> {
    return this.accepted(conversation, message, await accepted);
  }

  private received(conversation: Conversation, final: Message | undefined): void {
    if (final === undefined) return;
    if (final.direction === 'incoming') {
      if (conversation.kind === 'im' && conversation.typing !== 'idle') this.setTyping(conversation, final.sender, 'idle');
      if (conversation.kind === 'chat') this.setChatTyping(conversation, final.sender, 'idle');
      this.events.emit('messageReceived', final, conversation.info());
    } else {
      this.events.emit('messageSent', final, conversation.info());
    }
  }

  /** A line from the client itself (joins, errors, topic changes). */
  async system(conversationId: string, text: string, flags: MessageFlags = {}): Promise<Message | undefined> {
    const conversation = this.require(conversationId);
    const message: Message = {
      id: newMessageId(),
      conversationId,
      accountId: conversation.accountId,
      direction: 'incoming',
      sender: '',
      timestamp: Date.now(),
      text,
      flags: { system: true, ...flags },
    };
    return this.write(conversation, message);
  }

  async systemFor(accountId: string, target: Target, text: string, flags: MessageFlags = {}): Promise<void> {
    const conversation = target.kind === 'im' ? this.ensure(accountId, 'im', target.peer) : this.ensure(accountId, 'chat', target.room);
    await this.system(conversation.id, text, flags);
  }

  private write(conversation: Conversation, message: Message): Message | undefined | Promise<Message | undefined> {
    const rewritten = runMessageWaterfall(this.hooks.writingToConversation, message);
    return rewritten instanceof Promise ? this.writtenLater(conversation, message, rewritten) : this.written(conversation, message, rewritten);
  }

  private async writtenLater(conversation: Conversation, message: Message, rewritten: Promise<Message | null>): Promise<Message | undefined> {
    return this.written(conversation, message, await rewritten);
  }

  private written(conversation: Conversation, message: Message, rewritten: Message | null): Message | undefined {
    if (rewritten === null) return undefined;
    const final = guardIdentity(message, rewritten);
    conversation.messages.push(final);
    // Trimmed in steps, not per message: a busy room would otherwise shift the whole array every time.
    if (conversation.messages.length >= SCROLLBACK * 2) conversation.messages.splice(0, conversation.messages.length - SCROLLBACK);
    if (final.direction === 'incoming' && final.flags.system !== true) conversation.unread++;
    this.events.emit('messageWritten', final, conversation.info());
    // The core's own history takes the message as it is; another store gets its history entry.
    if (this.history instanceof ThreadedHistory) this.history.appendMessage(final, conversation.name, conversation.kind);
    else this.history?.append(historyEntry(final, conversation));
    return final;
  }

  /**
   * The outgoing path: sendingMessage → send now, or queue while offline →
   * conversation → events → history. Resolves with the message as written
   * (its `delivery` says sent or queued), or undefined when a hook cancelled it.
   */
  async send(conversationId: string, text: string, flags: MessageFlags = {}): Promise<Message | undefined> {
    const conversation = this.require(conversationId);
    if (!this.router.isOnline(conversation.accountId) && !this.router.canQueue(conversation.accountId)) {
      throw new MessageError('no-route', 'The account is offline; connect it to send messages');
    }
    const draft: Message = {
      id: newMessageId(),
      conversationId,
      accountId: conversation.accountId,
      direction: 'outgoing',
      sender: this.router.selfName(conversation.accountId),
      timestamp: Date.now(),
      text,
      flags: { ...flags },
      delivery: 'queued',
    };
    const accepted = await this.hooks.sendingMessage.promise(draft);
    if (accepted === null) return undefined;
    const message = guardIdentity(draft, accepted);
    if (this.router.isOnline(conversation.accountId) && !this.waiting(conversation.accountId)) {
      return this.deliver(conversation, message, true);
    }
    return this.enqueue(conversation, message);
  }

  /** Messages of this account wait to be sent (or are being sent) from the queue. */
  private waiting(accountId: string): boolean {
    return this.flushing.has(accountId) || (this.queues.get(accountId)?.length ?? 0) > 0;
  }

  private async enqueue(conversation: Conversation, message: Message): Promise<Message | undefined> {
    const written = await this.write(conversation, message);
    const queued = written ?? message;
    const timer = setTimeout(() => {
      this.removeFromQueue(conversation.accountId, queued.id);
      this.fail(queued, conversation, new MessageError('send-timeout', 'Not sent: the account did not come back online in time'));
    }, this.options.queueTimeoutMs);
    timer.unref();
    const queue = this.queues.get(conversation.accountId) ?? [];
    queue.push({ message: queued, conversation, timer });
    this.queues.set(conversation.accountId, queue);
    this.events.emit('messageQueued', queued, conversation.info());
    return queued;
  }

  private removeFromQueue(accountId: string, messageId: string): void {
    const queue = this.queues.get(accountId);
    if (queue === undefined) return;
    const rest = queue.filter((q) => q.message.id !== messageId);
    if (rest.length === 0) this.queues.delete(accountId);
    else this.queues.set(accountId, rest);
  }

  queued(accountId: string): readonly Message[] {
    return (this.queues.get(accountId) ?? []).map((q) => q.message);
  }

  private async deliver(conversation: Conversation, message: Message, writeAfter: boolean): Promise<Message | undefined> {
    const outgoing: OutgoingMessage = { id: message.id, text: message.text, flags: message.flags };
    if (message.formatted !== undefined) outgoing.formatted = message.formatted;
    try {
      const result = await this.router.send(conversation.accountId, conversation.target(), outgoing);
      message.delivery = 'sent';
      if (result?.protocolId !== undefined) {
        message.protocolId = result.protocolId;
        this.sentByProtocolId.set(`${conversation.accountId}\u0000${result.protocolId}`, { message, conversation });
        // A Map iterates in insertion order: the first key is the oldest message still awaiting one.
        if (this.sentByProtocolId.size > RECEIPT_WINDOW) this.sentByProtocolId.delete(this.sentByProtocolId.keys().next().value!);
      }
    } catch (cause) {
      const error = cause instanceof MessageError ? cause : new MessageError('send-failed', `Not sent: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      // Written as failed, so the conversation shows what the event says.
      message.delivery = 'failed';
      const written = writeAfter ? await this.write(conversation, message) : message;
      this.fail(written ?? message, conversation, error);
      return written ?? message;
    }
    const written = writeAfter ? await this.write(conversation, message) : message;
    this.events.emit('messageSent', written ?? message, conversation.info());
    return written ?? message;
  }

  private fail(message: Message, conversation: Conversation, error: ParleyError): void {
    message.delivery = 'failed';
    this.log.warn('message not delivered', { conversation: conversation.name, reason: error.code });
    this.events.emit('messageFailed', message, conversation.info(), error);
    void this.system(conversation.id, `${error.message}: "${message.text.length > 80 ? `${message.text.slice(0, 80)}…` : message.text}"`, { error: true });
  }

  /**
   * The account is online: send what waited, in order. Messages sent
   * meanwhile join the end of the queue (see `send`), so a message written
   * after a reconnect never reaches the peer before one written during the
   * outage.
   */
  async flushQueue(accountId: string): Promise<void> {
    if (this.flushing.has(accountId)) return;
    this.flushing.add(accountId);
    try {
      for (;;) {
        const queue = this.queues.get(accountId);
        if (queue === undefined || queue.length === 0) {
          this.queues.delete(accountId);
          return;
        }
        if (!this.router.isOnline(accountId)) {
          // Dropped again while flushing: the rest waits, in order, with its full bound again.
          for (const item of queue) item.timer.refresh();
          return;
        }
        const item = queue.shift()!;
        clearTimeout(item.timer);
        await this.deliver(item.conversation, item.message, false);
      }
    } finally {
      this.flushing.delete(accountId);
    }
  }

  /** The account will not come back by itself (fatal error, disabled): report what waited. */
  failQueue(accountId: string, error: ParleyError): void {
    const queue = this.queues.get(accountId);
    if (queue === undefined) return;
    this.queues.delete(accountId);
    for (const item of queue) {
      clearTimeout(item.timer);
      this.fail(item.message, item.conversation, new MessageError('send-failed', `Not sent: ${error.message}`, { cause: error }));
    }
  }

  delivered(accountId: string, protocolId: string): void {
    const key = `${accountId}\u0000${protocolId}`;
    const sent = this.sentByProtocolId.get(key);
    if (sent === undefined) return;
    this.sentByProtocolId.delete(key);
    sent.message.delivery = 'delivered';
    this.events.emit('messageDelivered', sent.message, sent.conversation.info());
  }

  /**
   * The server reported that a message it took did not reach `recipients`
   * (empty: anyone). The message keeps its place; it is marked, and
   * `messageFailed` (code `not-delivered`) and a line in the conversation
   * say whom it missed. A report for a message we do not know is dropped.
   */
  notDelivered(accountId: string, protocolId: string, recipients: readonly string[], reason: string): void {
    const sent = this.sentByProtocolId.get(`${accountId}\u0000${protocolId}`);
    if (sent === undefined) {
      this.log.debug('a delivery report for a message we did not send', { account: accountId });
      return;
    }
    const { message, conversation } = sent;
    const missed = [...new Set(recipients)].filter((r) => !(message.notDeliveredTo ?? []).includes(r));
    if (recipients.length > 0 && missed.length === 0) return;
    if (missed.length > 0) message.notDeliveredTo = [...(message.notDeliveredTo ?? []), ...missed];
    const whom = missed.length > 0 ? `Not delivered to ${missed.join(', ')}` : 'Not delivered';
    const error = new MessageError('not-delivered', `${whom}: ${reason}`);
    if (missed.length === 0) message.delivery = 'failed';
    this.log.warn('message not delivered', { conversation: conversation.name, reason: error.code });
    this.events.emit('messageFailed', message, conversation.info(), error);
    void this.system(conversation.id, `${error.message}: "${message.text.length > 80 ? `${message.text.slice(0, 80)}…` : message.text}"`, { error: true });
  }

  /** Typing from a peer. */
  peerTyping(accountId: string, peer: string, state: TypingState): void {
    const conversation = this.ensure(accountId, 'im', peer);
    this.setTyping(conversation, peer, state);
  }

  private setTyping(conversation: Conversation, peer: string, state: TypingState): void {
    if (conversation.typing === state) return;
    conversation.typing = state;
    this.events.emit('typingChanged', conversation.info(), peer, state);
  }

  /** Typing from a participant of a group chat the account is in; ignored for a room it is not in. */
  participantTyping(accountId: string, room: string, nick: string, state: TypingState): void {
    const conversation = this.byKey.get(conversationKey(accountId, 'chat', room));
    if (conversation === undefined || !conversation.joined) return;
    this.setChatTyping(conversation, nick, state);
  }

  private setChatTyping(conversation: Conversation, nick: string, state: TypingState): void {
    let timers = this.chatTypingTimers.get(conversation);
    clearTimeout(timers?.get(nick));
    timers?.delete(nick);
    if (state !== 'idle') {
      const timer = setTimeout(() => {
        timers!.delete(nick);
        this.setChatTyping(conversation, nick, 'idle');
      }, this.options.chatTypingTimeoutMs ?? CHAT_TYPING_TIMEOUT_MS);
      timer.unref();
      if (timers === undefined) this.chatTypingTimers.set(conversation, (timers = new Map()));
      timers.set(nick, timer);
    }
    if ((conversation.chatTyping.get(nick) ?? 'idle') === state) return;
    if (state === 'idle') conversation.chatTyping.delete(nick);
    else conversation.chatTyping.set(nick, state);
    this.events.emit('chatTypingChanged', conversation.info(), nick, state);
  }

  /** Everyone typing in a chat stops (we left the room, or went offline). */
  private clearChatTyping(conversation: Conversation): void {
    for (const nick of [...conversation.chatTyping.keys()]) this.setChatTyping(conversation, nick, 'idle');
  }

  /**
   * Our own typing, sent to the peer of an IM, or to a joined group chat,
   * when the protocol supports it.
   */
  async sendTyping(conversationId: string, state: TypingState): Promise<void> {
    const conversation = this.require(conversationId);
    if (!this.router.isOnline(conversation.accountId)) return;
    if (conversation.kind === 'im') await this.router.setTyping(conversation.accountId, conversation.name, state);
    else if (conversation.joined) await this.router.setChatTyping(conversation.accountId, conversation.name, state);
  }

  // Group chat state, reported by plugins.
  chatJoined(accountId: string, room: string, info: { topic?: string; title?: string; continues?: string } = {}): ConversationView {
    const fresh = this.byKey.get(conversationKey(accountId, 'chat', room)) === undefined;
    const conversation = this.ensure(accountId, 'chat', room);
    // A group chat that continues a one-to-one conversation starts with its recent messages, as
    // scrollback: copies for this conversation (the originals stay in the IM and in its history).
    const im = fresh && info.continues !== undefined ? this.byKey.get(conversationKey(accountId, 'im', info.continues)) : undefined;
    if (im !== undefined) conversation.messages.push(...im.messages.map((m) => ({ ...m, id: newMessageId(), conversationId: conversation.id, flags: { ...m.flags, delayed: true } })));
    conversation.joined = true;
    if (info.title !== undefined) conversation.title = info.title;
    if (info.topic !== undefined) conversation.topic = info.topic;
    this.hooks.chatJoined.call(conversation.info());
    this.events.emit('chatJoined', conversation.info());
    return conversation;
  }

  chatLeft(accountId: string, room: string, reason?: string): void {
    const conversation = this.find(accountId, 'chat', room) as Conversation | undefined;
    if (conversation === undefined) return;
    conversation.joined = false;
    conversation.participants.clear();
    this.clearChatTyping(conversation);
    this.events.emit('chatLeft', conversation.info(), reason);
    if (reason !== undefined) void this.system(conversation.id, reason);
  }

  /** Chats of an account that are joined now: rejoined after a reconnect. */
  joinedChats(accountId: string): string[] {
    return [...this.byId.values()].filter((c) => c.accountId === accountId && c.kind === 'chat' && c.joined).map((c) => c.name);
  }

  setParticipants(accountId: string, room: string, participants: readonly ChatParticipant[]): void {
    const conversation = this.ensure(accountId, 'chat', room);
    conversation.participants = new Map(participants.map((p) => [p.nick, p]));
    this.events.emit('conversationParticipantsChanged', conversation.info(), [...conversation.participants.values()]);
  }

  participantJoined(accountId: string, room: string, participant: ChatParticipant, quiet: boolean): void {
    const conversation = this.ensure(accountId, 'chat', room);
    conversation.participants.set(participant.nick, participant);
    this.events.emit('conversationParticipantsChanged', conversation.info(), [...conversation.participants.values()]);
    if (!quiet) void this.system(conversation.id, `${participant.nick} joined`);
  }

  participantLeft(accountId: string, room: string, nick: string, reason: string | undefined, kind: 'part' | 'quit' | 'kick'): void {
    const conversation = this.ensure(accountId, 'chat', room);
    conversation.participants.delete(nick);
    this.setChatTyping(conversation, nick, 'idle');
    this.events.emit('conversationParticipantsChanged', conversation.info(), [...conversation.participants.values()]);
    const verb = kind === 'kick' ? 'was kicked' : kind === 'quit' ? 'quit' : 'left';
    void this.system(conversation.id, `${nick} ${verb}${reason ? ` (${reason})` : ''}`);
  }

  participantRenamed(accountId: string, room: string, oldNick: string, newNick: string): void {
    const conversation = this.ensure(accountId, 'chat', room);
    const participant = conversation.participants.get(oldNick);
    conversation.participants.delete(oldNick);
    conversation.participants.set(newNick, { ...participant, nick: newNick });
    this.setChatTyping(conversation, oldNick, 'idle');
    this.events.emit('conversationParticipantsChanged', conversation.info(), [...conversation.participants.values()]);
    void this.system(conversation.id, `${oldNick} is now known as ${newNick}`);
  }

  setTopic(accountId: string, room: string, topic: string, setBy?: string): void {
    const conversation = this.ensure(accountId, 'chat', room);
    conversation.topic = topic;
    this.events.emit('conversationTopicChanged', conversation.info(), topic, setBy);
    void this.system(conversation.id, setBy === undefined ? `Topic: ${topic}` : `${setBy} set the topic: ${topic}`);
  }

  /** The account went away: chats are no longer joined (they are rejoined on reconnect). */
  accountOffline(accountId: string): void {
    for (const c of this.byId.values()) {
      if (c.accountId !== accountId) continue;
      c.typing = 'idle';
      if (c.kind === 'chat') {
        c.participants.clear();
        this.clearChatTyping(c);
      }
    }
  }

  forgetAccount(accountId: string): void {
    for (const c of [...this.byId.values()]) if (c.accountId === accountId) this.close(c.id);
    this.failQueue(accountId, new MessageError('no-route', 'the account was removed'));
  }
}
