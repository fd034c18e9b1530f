import type { AccountManager } from '../accounts/account-manager.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import { ConversationError } from '../conversations/errors.js';
import type { Message } from '../conversations/message.js';
import type { HistoryEntry, HistoryQuery } from '../history/history-store.js';
import type { Target } from '../plugins/contract.js';
import { newMessageId } from '../util/ids.js';
import { requireOnline } from './online.js';

export interface HistoryServiceDeps {
  accounts: AccountManager;
  conversations: ConversationManager;
  search(query: HistoryQuery & { account?: string }): Promise<HistoryEntry[]>;
  flush(): Promise<void>;
}

/** The largest page a UI may ask the server's archive for at once. */
const MAX_PAGE = 200;

/** Since core API 1.10: older messages than Parley holds, from the server's archive. */
export interface OlderMessages {
  /** Oldest first. */
  messages: Message[];
  /** The archive has nothing older. */
  complete: boolean;
}

/**
 * Searchable local history, and the server's archive beyond it: scrolling
 * back past what Parley holds, a UI asks for older pages, one after the
 * other (the core keeps each conversation's place in the archive).
 */
export class HistoryService {
  /** Where each conversation's next older page starts: the protocol's cursor and the time it is older than. */
  private readonly places = new Map<string, { before: number | undefined; cursor: string | undefined; complete: boolean }>();

  /** @internal Made by the core; reach it as `parley.history`. */
  constructor(private readonly deps: HistoryServiceDeps) {}

  /**
   * Stored messages matching every given criterion, newest `limit` of them;
   * `account` is an id or `protocol:username`. Empty when history is off.
   */
  readonly search = (query: HistoryQuery & { account?: string }): Promise<HistoryEntry[]> => this.deps.search(query);
  /** Resolves once every message received so far is written, e.g. before searching for one just received. */
  readonly flush = (): Promise<void> => this.deps.flush();

  /**
   * The page of the conversation's server archive just before the oldest
   * message it has (or `before`, epoch ms: where the UI's scrollback
   * ends), then the page before that on each further call. The messages
   * are returned, not added to the conversation or the local history.
   */
  readonly older = async (conversationId: string, options: { before?: number; limit?: number } = {}): Promise<OlderMessages> => {
    const conversation = this.deps.conversations.get(conversationId);
    if (conversation === undefined) throw new ConversationError('unknown-conversation', `No conversation ${conversationId}`);
    const connection = requireOnline(this.deps.accounts, conversation.accountId);
    if (connection.fetchOlder === undefined) throw new ConversationError('not-supported', 'This protocol keeps no archive to fetch older messages from');
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(options.limit ?? 50)));
    let place = this.places.get(conversationId);
    if (place === undefined || (options.before !== undefined && options.before !== place.before)) {
      place = { before: options.before ?? conversation.messages[0]?.timestamp, cursor: undefined, complete: false };
    }
    if (place.complete) return { messages: [], complete: true };
    const target: Target = conversation.kind === 'im' ? { kind: 'im', peer: conversation.name } : { kind: 'chat', room: conversation.name };
    const page = await connection.fetchOlder(target, { before: place.before, cursor: place.cursor, limit });
    // The first page ends at the oldest time Parley holds: the messages of that moment are held already.
    const held = new Set(conversation.messages.map((m) => m.protocolId).filter((id): id is string => id !== undefined));
    const messages: Message[] = page.messages.filter((m) => m.protocolId === undefined || !held.has(m.protocolId)).map((m) => ({
      id: newMessageId(),
      conversationId,
      accountId: conversation.accountId,
      direction: m.direction,
      sender: m.sender,
      timestamp: m.timestamp,
      text: m.text,
      flags: { delayed: true },
      ...(m.protocolId === undefined ? {} : { protocolId: m.protocolId }),
    }));
    this.places.set(conversationId, { before: place.before, cursor: page.cursor, complete: page.complete || page.cursor === undefined });
    return { messages, complete: page.complete };
  };
}
