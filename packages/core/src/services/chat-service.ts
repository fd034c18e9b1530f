import type { AccountManager } from '../accounts/account-manager.js';
import type { BuddyList, SavedChat } from '../buddies/buddy-list.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import type { ConversationView } from '../conversations/conversation.js';
import { ConversationError } from '../conversations/errors.js';
import type { ServerChat } from '../plugins/contract.js';
import type { Logger } from '../util/logger.js';
import { requireOnline } from './online.js';

export interface ChatServiceDeps {
  accounts: AccountManager;
  conversations: ConversationManager;
  buddies: BuddyList;
  log: Logger;
}

type JoinOptions = { password?: string; nick?: string };

/** Group chats: joining, leaving, topics, saved chats, and rejoining after a reconnect. */
export class ChatService {
  /** Kept for the rejoin after a reconnect: a keyed channel or a password-protected room needs it again. */
  private readonly joinOptions = new Map<string, JoinOptions>();

  /** @internal Made by the core; reach it as `parley.chats`. */
  constructor(private readonly deps: ChatServiceDeps) {}

  /** Joins a group chat (account online, capability `groupChat`); the options are reused for the rejoin after a reconnect. */
  readonly join = async (accountRef: string, room: string, options: JoinOptions = {}): Promise<ConversationView> => {
    const { accounts, conversations } = this.deps;
    const account = accounts.resolve(accountRef);
    const connection = requireOnline(accounts, account.id);
    if (connection.joinChat === undefined) throw new ConversationError('not-supported', `${account.protocol} has no group chats`);
    await connection.joinChat(room, options);
    this.joinOptions.set(key(account.id, room), options);
    return conversations.find(account.id, 'chat', room) ?? conversations.chatJoined(account.id, room);
  };

  /** Leaves a group chat; it is not rejoined after a reconnect. */
  readonly leave = async (conversationId: string): Promise<void> => {
    const conversation = this.requireChat(conversationId);
    const connection = this.deps.accounts.connection(conversation.accountId);
    if (connection?.leaveChat !== undefined) await connection.leaveChat(conversation.name);
    this.joinOptions.delete(key(conversation.accountId, conversation.name));
    this.deps.conversations.chatLeft(conversation.accountId, conversation.name);
  };

  /** Asks the server to change the chat's topic; `conversationTopicChanged` follows when it does. */
  readonly setTopic = async (conversationId: string, topic: string): Promise<void> => {
    const conversation = this.requireChat(conversationId);
    const connection = requireOnline(this.deps.accounts, conversation.accountId);
    if (connection.setTopic === undefined) throw new ConversationError('not-supported', 'This protocol cannot set a topic');
    await connection.setTopic(conversation.name, topic);
  };

  /** The saved chats of every account (bookmarks), with their autojoin flags. */
  readonly saved = (): readonly SavedChat[] => this.deps.buddies.savedChats();

  /**
   * Saves a chat; with the account online and a protocol that keeps chats on
   * the server (XMPP bookmarks), the server too, and resolves once it has.
   * Offline, the chat is marked pending and sent at the next sign-in.
   */
  readonly save = async (accountRef: string, room: string, options: { alias?: string; group?: string; autojoin?: boolean } = {}): Promise<void> => {
    const accountId = this.deps.accounts.resolve(accountRef).id;
    const chat: SavedChat = { accountId, room, group: options.group ?? 'Chats', autojoin: options.autojoin ?? false };
    if (options.alias !== undefined) chat.alias = options.alias;
    const connection = this.deps.accounts.connection(accountId);
    if (connection === undefined) chat.pending = true;
    this.deps.buddies.saveChat(chat);
    if (connection?.saveChat === undefined) return;
    try {
      await connection.saveChat(serverChat(chat));
    } catch (error) {
      // Kept, and tried again at the next sign-in: the server's list would otherwise drop it then.
      this.deps.buddies.saveChat({ ...chat, pending: true });
      throw error;
    }
  };

  /** Removes a saved chat, from the server too when the account is online. */
  readonly unsave = async (accountRef: string, room: string): Promise<void> => {
    const accountId = this.deps.accounts.resolve(accountRef).id;
    this.deps.buddies.removeChat(accountId, room);
    const connection = this.deps.accounts.connection(accountId);
    if (connection?.unsaveChat !== undefined) await connection.unsaveChat(room);
  };

  /** After a sign-in: chats saved while offline go to the server (or stay local, for a protocol that keeps none). */
  async sendPending(accountId: string): Promise<void> {
    const { accounts, buddies, log } = this.deps;
    const connection = accounts.connection(accountId);
    if (connection === undefined) return;
    for (const chat of buddies.savedChats().filter((c) => c.accountId === accountId && c.pending === true)) {
      try {
        if (connection.saveChat !== undefined) await connection.saveChat(serverChat(chat));
        const { pending: _sent, ...rest } = chat;
        buddies.saveChat(rest);
      } catch (error) {
        log.warn('saving a chat on the server failed', { room: chat.room, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** After a (re)connect: joins again what was joined, and the saved chats marked autojoin. */
  async rejoin(accountId: string): Promise<void> {
    const { accounts, conversations, buddies, log } = this.deps;
    const connection = accounts.connection(accountId);
    if (connection?.joinChat === undefined) return;
    const rooms = new Set(conversations.joinedChats(accountId).map((r) => r.toLowerCase()));
    const toJoin = [...conversations.joinedChats(accountId)];
    for (const chat of buddies.savedChats()) if (chat.accountId === accountId && chat.autojoin && !rooms.has(chat.room.toLowerCase())) toJoin.push(chat.room);
    for (const room of toJoin) {
      try {
        await connection.joinChat(room, this.joinOptions.get(key(accountId, room)) ?? {});
      } catch (error) {
        log.warn('rejoining a chat failed', { room, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  private requireChat(conversationId: string): ConversationView {
    const conversation = this.deps.conversations.get(conversationId);
    if (conversation === undefined || conversation.kind !== 'chat') throw new ConversationError('not-a-chat', `${conversationId} is not a group chat`);
    return conversation;
  }
}

function serverChat(chat: SavedChat): ServerChat {
  return { room: chat.room, autojoin: chat.autojoin, ...(chat.alias === undefined ? {} : { alias: chat.alias }) };
}

function key(accountId: string, room: string): string {
  return `${accountId}\u0000${room.toLowerCase()}`;
}
