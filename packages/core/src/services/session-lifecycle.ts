import type { AccountInfo } from '../accounts/account.js';
import type { BuddyList } from '../buddies/buddy-list.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import type { ConnectionError } from '../errors/ConnectionError.js';
import type { ProtocolConnection } from '../plugins/contract.js';
import type { UiOps } from '../ui/ui-ops.js';
import type { ChatService } from './chat-service.js';
import type { PresenceService } from './presence-service.js';
import type { ProtocolHost } from './protocol-host.js';
import type { TransferManager } from '../transfers/transfer-manager.js';

export interface SessionLifecycleDeps {
  presence: PresenceService;
  chats: ChatService;
  conversations: ConversationManager;
  buddies: BuddyList;
  protocols: ProtocolHost;
  ui: UiOps;
  transfers: TransferManager;
}

/** What happens across services when an account comes online or goes offline. */
export class SessionLifecycle {
  constructor(private readonly deps: SessionLifecycleDeps) {}

  /** Signed in: restore the user's status, rejoin chats, then send what waited in the queue. */
  async online(account: AccountInfo, connection: ProtocolConnection): Promise<void> {
    await this.deps.presence.restore(account.id, connection);
    await this.deps.chats.sendPending(account.id);
    await this.deps.chats.rejoin(account.id);
    await this.deps.conversations.flushQueue(account.id);
  }

  /** Offline: buddies and chats show it; when no retry follows, the queue fails and the user is told. */
  offline(account: AccountInfo, error: ConnectionError | undefined, willRetry: boolean): void {
    if (!willRetry) this.deps.protocols.forget(account.id);
    this.deps.buddies.markAccountOffline(account.id);
    this.deps.transfers.accountOffline(account.id);
    this.deps.conversations.accountOffline(account.id);
    if (error !== undefined && !willRetry) {
      this.deps.conversations.failQueue(account.id, error);
      this.deps.ui.notify('error', `${account.protocol}:${account.username}: ${error.message}`, error.hint, account.id);
    }
  }
}
