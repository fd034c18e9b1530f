import type { DependencyContainer } from 'tsyringe';
import { AccountManager } from './accounts/account-manager.js';
import { AccountStore } from './accounts/account-store.js';
import { BuddyList } from './buddies/buddy-list.js';
import { CommandError, CommandRegistry, type RegisteredCommand } from './commands/registry.js';
import { registerCoreCommands } from './commands/core-commands.js';
import type { ReconnectPolicy } from './connection/reconnect-policy.js';
import { ConversationManager } from './conversations/conversation-manager.js';
import { TOKENS } from './di/tokens.js';
import { ConfigError, type ParleyError } from './errors/ParleyError.js';
import { createEvents, type ParleyEvents, type ParleyEventsListenOnly } from './events/events.js';
import type { HistoryQuery, HistoryEntry, HistoryStore } from './history/history-store.js';
import { HistoryService } from './services/history-service.js';
import { createHooks, type ParleyHooks, type ParleyHooksTapOnly } from './hooks/hooks.js';
import { PluginRegistry, type PluginInfo, type ProtocolDescriptor } from './plugins/registry.js';
import type { FeaturePlugin } from './plugins/contract.js';
import type { SecretStore } from './secrets/secret-store.js';
import type { ParleyPaths } from './storage/paths.js';
import { StateStore } from './storage/state-store.js';
import type { UiOps } from './ui/ui-ops.js';
import { Redactor, SinkLogger, type LogSink, type Logger } from './util/logger.js';
import { SettingsService } from './services/settings-service.js';
import { CoreSettings, type CoreConfig } from './bootstrap/core-config.js';
import type { ParleyOptions } from './bootstrap/options.js';
import { AccountService } from './services/account-service.js';
import { BuddyService } from './services/buddy-service.js';
import { ChatService } from './services/chat-service.js';
import { ConversationService } from './services/conversation-service.js';
import { FeaturePluginHost } from './services/feature-host.js';
import { PresenceService } from './services/presence-service.js';
import { ProtocolHost, type Isolation } from './services/protocol-host.js';
import { DEFAULT_WORKER_LIMITS } from './isolation/plugin-worker-pool.js';
import { SessionLifecycle } from './services/session-lifecycle.js';
import { TransferManager } from './transfers/transfer-manager.js';
import { TransferService } from './services/transfer-service.js';

export type { ParleyOptions } from './bootstrap/options.js';

function isolationFrom(options: ParleyOptions): Isolation {
  const chosen = options.isolation ?? (options.env ?? process.env).PARLEY_ISOLATION;
  if (chosen === undefined || chosen === '' || chosen === 'none') return 'none';
  if (chosen === 'worker' || chosen === 'workers') return 'worker';
  throw new ConfigError('invalid-config', `Unknown isolation "${String(chosen)}": use "worker" or "none"`);
}
export { createParley } from './bootstrap/create-parley.js';

/** History errors can happen while the core is being built; they reach its events once it exists. */
/** @internal */
export interface HistoryErrorRelay {
  emit?: (error: ParleyError) => void;
}

/**
 * Parley: accounts, buddy list, conversations, presence and plugins, for any
 * UI. Create one with `createParley()`. This class only wires the services
 * and exposes them; each service does one job.
 */
export class Parley {
  /** What happened, for UIs to follow: every event with its arguments is in `ParleyEventMap`. */
  readonly events: ParleyEventsListenOnly;
  /** The slash commands the core, the protocols and the feature plugins registered; run one with `runCommand`. */
  readonly commands: CommandRegistry;
  /** Where this core keeps its configuration, data and cache (from `home` or the XDG directories). */
  readonly paths: ParleyPaths;
  /** Which secret store holds the passwords ("keyring", "encrypted-file", or an embedder's own), for a UI to say so. */
  readonly secretStoreKind: string;

  /** Accounts: add, change, remove, sign in and off. */
  readonly accounts: AccountService;
  /** Conversations (IMs and group chats): open, send, mark read, close. */
  readonly conversations: ConversationService;
  /** Group chats: join, leave, topics, saved chats. */
  readonly chats: ChatService;
  /** The buddy list: contacts across accounts, groups, aliases, buddy info. */
  readonly buddies: BuddyService;
  /** The user's own status, for all accounts or one. */
  readonly presence: PresenceService;
  /** File transfers: send a file, answer offers, cancel, watch progress (events transferAdded, transferChanged, transferProgress). */
  readonly transfers: TransferService;
  /** The core's global settings: the proxy. */
  readonly settings: SettingsService;
  /** The plugins: what is loaded, and the protocols accounts can use. */
  readonly plugins: {
    /** Every plugin found or given, loaded or not, with its status (and why it did not load). */
    list(): PluginInfo[];
    /** The protocols available to accounts, with their option schemas for account forms. */
    protocols(): ProtocolDescriptor[];
    /** One protocol by id ("xmpp"), or undefined. */
    protocol(id: string): ProtocolDescriptor | undefined;
    /** Loads a feature plugin now (an embedder's own, or a discovered one by name). */
    use(plugin: FeaturePlugin | string): Promise<void>;
    /**
     * Heap in use by each protocol plugin's worker thread, in bytes; empty when plugins run in process.
     * With `collect`, each worker first runs a full garbage collection, so the figure counts only what
     * it holds, and a measurement that follows starts from a collected heap as the main thread's can;
     * only in a process started with `--expose-gc` (otherwise the figures are as without it).
     */
    workerMemory(options?: { collect?: boolean }): Promise<
      Array<{
        /** The protocol id the worker runs ("xmpp"). */
        protocol: string;
        /** The worker's `threadId`, as Node's `worker_threads` numbers it. */
        threadId: number;
        /** Bytes of the worker's V8 heap in use when it answered. */
        heapUsed: number;
      }>
    >;
  };

  private readonly accountManager: AccountManager;
  private readonly buddyList: BuddyList;
  private readonly conversationManager: ConversationManager;
  private readonly features: FeaturePluginHost;
  private readonly state: StateStore;
  private readonly historyStore: HistoryStore | undefined;
  /** Since core API 1.10: local history and the server's archive beyond it. */
  readonly history: HistoryService;
  private readonly protocols: ProtocolHost;
  private readonly transferManager: TransferManager;
  private closed = false;

  /** @internal Use createParley(). */
  constructor(
    container: DependencyContainer,
    options: ParleyOptions,
    config: CoreConfig,
    historyErrors: HistoryErrorRelay = {},
  ) {
    this.paths = container.resolve<ParleyPaths>(TOKENS.Paths);
    const ui = container.resolve<UiOps>(TOKENS.UiOps);
    const redactor = new Redactor();
    const log: Logger = new SinkLogger(container.resolve<LogSink>(TOKENS.LogSink), redactor);
    const events: ParleyEvents = createEvents();
    this.events = events;
    const hooks: ParleyHooks = createHooks();
    const commands = (this.commands = new CommandRegistry());
    const registry = container.resolve<PluginRegistry>(PluginRegistry);
    const state = (this.state = new StateStore(this.paths.data, (error) => log.warn("Could not save the accounts' state", { error: error instanceof Error ? error.message : String(error) })));
    const buddies = (this.buddyList = new BuddyList(this.paths.data, (error) => log.warn('Could not save the buddy list', { error: error instanceof Error ? error.message : String(error) })));
    buddies.setChangeListener(() => events.emit('buddyListChanged'));
    this.historyStore = container.isRegistered(TOKENS.HistoryStore, true) ? container.resolve<HistoryStore>(TOKENS.HistoryStore) : undefined;
    historyErrors.emit = (error) => events.emit('historyError', error);
    const secrets = container.resolve<SecretStore>(TOKENS.SecretStore);
    this.secretStoreKind = secrets.kind;

    // Accounts and the services around them call each other: the account
    // manager asks the protocol host to open connections and the session
    // lifecycle to settle them, and both of those use the account manager.
    // Its callbacks are only called once an account connects, after the
    // constructor has built everything below.
    const accounts: AccountManager = (this.accountManager = new AccountManager({
      store: new AccountStore(this.paths.config),
      secrets,
      state,
      registry,
      hooks,
      events,
      policy: container.resolve<ReconnectPolicy>(TOKENS.ReconnectPolicy),
      redactor,
      log: log.child('accounts'),
      openConnection: (record, runtime, generation, signal, plugin) => protocols.open(record, runtime, generation, signal, plugin),
      whenOnline: (account, connection) => lifecycle.online(account, connection),
      whenOffline: (account, error, willRetry) => lifecycle.offline(account, error, willRetry),
    }));
    const conversations = (this.conversationManager = new ConversationManager(
      hooks,
      events,
      this.historyStore,
      {
        isOnline: (id) => accounts.isOnline(id),
        canQueue: (id) => accounts.canQueue(id),
        send: (id, target, message) => accounts.send(id, target, message),
        setTyping: (id, peer, typing) => accounts.setTyping(id, peer, typing),
        setChatTyping: (id, room, typing) => accounts.setChatTyping(id, room, typing),
        closeConversation: (id, target) => accounts.closeConversation(id, target),
        selfName: (id) => accounts.get(id).username,
      },
      log.child('conversations'),
      { queueTimeoutMs: options.sendQueueTimeoutMs ?? 5 * 60_000, ...(options.chatTypingTimeoutMs === undefined ? {} : { chatTypingTimeoutMs: options.chatTypingTimeoutMs }) },
    ));
    const settings = new CoreSettings(options, config);
    const transfers = (this.transferManager = new TransferManager({ accounts, registry, buddies, conversations, events, ui, log: log.child('transfers'), settings: settings.transfers() }));
    this.transfers = new TransferService(transfers, accounts);
    const protocols: ProtocolHost = (this.protocols = new ProtocolHost({
      accounts,
      conversations,
      buddies,
      hooks,
      events,
      state,
      ui,
      log,
      settings,
      commands,
      registry,
      isolation: isolationFrom(options),
      workerLimits: { ...DEFAULT_WORKER_LIMITS, ...options.workerLimits },
      transfers,
    }));
    this.presence = new PresenceService({ accounts, events, log });
    this.settings = new SettingsService({ config, configDir: this.paths.config, embedderProxy: options.proxy, secrets });
    this.chats = new ChatService({ accounts, conversations, buddies, log });
    const lifecycle = new SessionLifecycle({ presence: this.presence, chats: this.chats, conversations, buddies, protocols, ui, transfers });
    this.accounts = new AccountService({ accounts, buddies, conversations });
    this.conversations = new ConversationService({ accounts, conversations, buddies });
    this.buddies = new BuddyService({ accounts, buddies, log });
    this.history = new HistoryService({ accounts, conversations, search: (query) => this.searchHistory(query), flush: () => this.flushHistory() });
    const presence = this.presence;
    this.features = new FeaturePluginHost({ registry, hooks, events, commands, conversations, config, ui, log, presence: () => presence.current() });
    const features = this.features;
    this.plugins = {
      list: () => registry.list(),
      protocols: () => registry.protocols(),
      protocol: (id) => registry.protocol(id),
      use: (plugin) => features.use(plugin),
      workerMemory: (options) => protocols.workerMemory(options),
    };
    registerCoreCommands(this);
  }

  /** Hooks, for the embedder: tap-only, isolated like a plugin's, under the given name. */
  hooks(owner: string): ParleyHooksTapOnly {
    return this.features.hooksFor(owner);
  }

  /** @internal */
  async loadFeaturePlugins(): Promise<void> {
    await this.features.loadDiscovered();
  }

  // ---- history ---------------------------------------------------------

  /** Resolves when every message so far is stored on disk. */
  async flushHistory(): Promise<void> {
    await this.historyStore?.flush();
  }

  /** Searches stored messages (`account`: an id or `protocol:username`); empty when history is off. */
  async searchHistory(query: HistoryQuery & { account?: string }): Promise<HistoryEntry[]> {
    if (this.historyStore === undefined) return [];
    const { account, ...rest } = query;
    const q: HistoryQuery = { ...rest };
    if (account !== undefined) q.accountId = this.accountManager.resolve(account).id;
    return this.historyStore.search(q);
  }

  /** Runs a slash command typed in a conversation (or with no conversation). */
  async runCommand(line: string, invocation: { conversationId?: string } = {}): Promise<string | void> {
    const parsed = CommandRegistry.parse(line);
    if (parsed === undefined) throw new CommandError('command-usage', `Not a command: ${line}`);
    const conversation = invocation.conversationId === undefined ? undefined : this.conversationManager.get(invocation.conversationId);
    const protocol = conversation === undefined ? undefined : this.accountManager.get(conversation.accountId).protocol;
    const command: RegisteredCommand | undefined = this.commands.resolve(parsed.name, protocol);
    if (command === undefined) throw new CommandError('unknown-command', `Unknown command /${parsed.name}; /help lists them`);
    return command.run(parsed.args, invocation);
  }

  /**
   * Signs every account off, stops the plugins and writes what is pending
   * (state, buddy list, history). Call it once before the process exits;
   * later calls do nothing.
   */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transferManager.shutdown();
    await this.accountManager.shutdown();
    await this.protocols.shutdown();
    this.features.shutdown();
    await this.state.flush();
    await this.buddyList.save();
    await this.historyStore?.close();
  }
}
