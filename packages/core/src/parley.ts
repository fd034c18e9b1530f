import { rootCertificates } from 'node:tls';
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DependencyContainer } from 'tsyringe';
import { AccountManager, type AccountChanges, type NewAccount } from './accounts/account-manager.js';
import { AccountStore } from './accounts/account-store.js';
import type { AccountInfo, AccountStatus } from './accounts/account.js';
import { BuddyList, DEFAULT_GROUP, type ContactView, type SavedChat } from './buddies/buddy-list.js';
import { CommandError, CommandRegistry, type RegisteredCommand } from './commands/registry.js';
import { registerCoreCommands } from './commands/core-commands.js';
import { DEFAULT_RECONNECT, ReconnectPolicy, type ReconnectOptions } from './connection/reconnect-policy.js';
import { buildConnectionContext } from './connection/context.js';
import { ConversationManager } from './conversations/conversation-manager.js';
import type { ConversationView } from './conversations/conversation.js';
import { ConversationManagerError } from './conversations/errors.js';
import type { Message, TypingState } from './conversations/message.js';
import { TOKENS } from './di/tokens.js';
import { ConnectionError } from './errors/ConnectionError.js';
import { ConfigError, MessageError, PluginError, type HistoryError, type ParleyError } from './errors/ParleyError.js';
import { createEvents, type ParleyEvents, type ParleyEventsListenOnly } from './events/events.js';
import type { HistoryQuery, HistoryEntry, HistoryStore } from './history/history-store.js';
import { SqliteHistory } from './history/sqlite-history.js';
import { ThreadedHistory } from './history/threaded-history.js';
import { createHooks, tapOnlyHooks, type ParleyHooks, type ParleyHooksTapOnly } from './hooks/hooks.js';
import { discoverPlugins, provideCoreTo } from './plugins/discovery.js';
import { FaultTracker } from './plugins/fault-tracker.js';
import { PluginRegistry, type PluginInfo, type ProtocolDescriptor } from './plugins/registry.js';
import type { ConnectionContext, FeaturePlugin, ParleyPlugin, PluginApi, ProtocolPlugin, RosterEntry } from './plugins/contract.js';
import type { Presence } from './presence/presence.js';
import { EncryptedFileSecretStore } from './secrets/encrypted-file-store.js';
import { KeyringSecretStore } from './secrets/keyring-store.js';
import type { PassphraseProvider, SecretStore } from './secrets/secret-store.js';
import { resolvePaths, type ParleyPaths } from './storage/paths.js';
import { StateStore } from './storage/state-store.js';
import { readJsonFile } from './storage/json-file.js';
import { HeadlessUi, type UiOps } from './ui/ui-ops.js';
import { Redactor, SinkLogger, stderrSink, type LogSink, type Logger } from './util/logger.js';

export interface ParleyOptions {
  /** One directory for config and data (like PARLEY_HOME); default: XDG directories. */
  home?: string;
  env?: NodeJS.ProcessEnv;
  ui?: UiOps;
  /** Plugin objects to use directly (bundled plugins, tests). */
  plugins?: readonly ParleyPlugin[];
  /** Look for installed plugin packages (default true). */
  discover?: boolean;
  /** node_modules folders searched for plugins, before the defaults (the application's and the user plugin directory). */
  pluginDirs?: readonly string[];
  /** Passphrase of the encrypted secret file; else PARLEY_PASSPHRASE, else the UI is asked. */
  passphrase?: string;
  /** "auto" (keyring where a Secret Service answers, else the encrypted file), "keyring", "file", or a store. */
  secretStore?: 'auto' | 'keyring' | 'file' | SecretStore;
  /** Extra certificate authorities (PEM) trusted besides the system's. */
  tls?: { ca?: readonly string[] };
  reconnect?: Partial<ReconnectOptions>;
  /** How long a message waits for its account before it is reported failed (default 5 minutes). */
  sendQueueTimeoutMs?: number;
  /** false: keep no history (history search then finds nothing). */
  history?: boolean;
  /** DNS servers plugins should use for service discovery ("127.0.0.1:5353"); else PARLEY_DNS_SERVERS, else the system's. */
  dnsServers?: readonly string[];
  log?: LogSink;
  /** Register replacements for core services (see TOKENS) before they are resolved. */
  configure?: (container: DependencyContainer) => void;
}

interface CoreConfig {
  dnsServers?: string[];
  /** Feature plugins the user switched off. */
  disabledPlugins?: string[];
  /** Settings for feature plugins, by plugin name. */
  plugins?: Record<string, Record<string, unknown>>;
}

/** History errors can happen while the core is being built; they reach its events once it exists. */
interface HistoryErrorRelay {
  emit?: (error: ParleyError) => void;
}

function readCoreConfig(dir: string): CoreConfig {
  return readJsonFile<CoreConfig>(join(dir, 'config.json'), {}, (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected an object');
    const c = value as CoreConfig;
    if (c.dnsServers !== undefined && (!Array.isArray(c.dnsServers) || !c.dnsServers.every((s) => typeof s === 'string'))) throw new Error('dnsServers must be a list of addresses');
    if (c.disabledPlugins !== undefined && !Array.isArray(c.disabledPlugins)) throw new Error('disabledPlugins must be a list');
    return c;
  });
}

/** `node_modules` folders in `start` and above it. */
function nodeModulesAbove(start: string): string[] {
  const dirs: string[] = [];
  let dir = start;
  for (;;) {
    if (basename(dir) === 'node_modules') dirs.push(dir);
    else if (existsSync(join(dir, 'node_modules'))) dirs.push(join(dir, 'node_modules'));
    const parent = dirname(dir);
    if (parent === dir) return dirs;
    dir = parent;
  }
}

/**
 * The application's own node_modules: those above its main script and above
 * this core. Never the working directory's: running in a stranger's checkout
 * must not load its code.
 */
function applicationNodeModules(): string[] {
  const dirs = nodeModulesAbove(fileURLToPath(new URL('.', import.meta.url)));
  const main = process.argv[1];
  if (main !== undefined && existsSync(main)) dirs.unshift(...nodeModulesAbove(dirname(realpathSync(main))));
  return [...new Set(dirs)];
}

/**
 * Parley: accounts, buddy list, conversations, presence and plugins, for any
 * UI. Create one with `createParley()`.
 */
export class Parley {
  readonly events: ParleyEventsListenOnly;
  readonly commands: CommandRegistry;
  readonly paths: ParleyPaths;
  readonly secretStoreKind: string;

  private readonly emitter: ParleyEvents;
  private readonly hooksInternal: ParleyHooks;
  private readonly accountManager: AccountManager;
  private readonly buddyList: BuddyList;
  private readonly conversationManager: ConversationManager;
  private readonly registry: PluginRegistry;
  private readonly faults: FaultTracker;
  private readonly state: StateStore;
  private readonly history: HistoryStore | undefined;
  private readonly log: Logger;
  private readonly ui: UiOps;
  private readonly featureDisposers = new Map<string, () => void>();
  private readonly presenceByAccount = new Map<string, Presence>();
  private globalPresence: Presence = { status: 'available' };
  private closed = false;
  private readonly contexts = new Map<string, ConnectionContext>();
  private readonly protocolCommandsRegistered = new Set<string>();
  private readonly joinOptions = new Map<string, { password?: string; nick?: string }>();
  private readonly carryOvers = new Map<string, Map<string, unknown>>();

  /** @internal Use createParley(). */
  constructor(
    readonly container: DependencyContainer,
    private readonly options: ParleyOptions,
    private readonly config: CoreConfig,
    historyErrors: HistoryErrorRelay = {},
  ) {
    this.paths = container.resolve<ParleyPaths>(TOKENS.Paths);
    this.ui = container.resolve<UiOps>(TOKENS.UiOps);
    const redactor = new Redactor();
    this.log = new SinkLogger(container.resolve<LogSink>(TOKENS.LogSink), redactor);
    this.emitter = createEvents();
    this.events = this.emitter;
    this.hooksInternal = createHooks();
    this.commands = new CommandRegistry();
    this.registry = container.resolve<PluginRegistry>(PluginRegistry);
    this.state = new StateStore(this.paths.data);
    this.buddyList = new BuddyList(this.paths.data, (error) => this.log.warn('Could not save the buddy list', { error: error instanceof Error ? error.message : String(error) }));
    this.buddyList.setChangeListener(() => this.emitter.emit('buddyListChanged'));
    this.history = container.isRegistered(TOKENS.HistoryStore, true) ? container.resolve<HistoryStore>(TOKENS.HistoryStore) : undefined;
    historyErrors.emit = (error) => this.emitter.emit('historyError', error);
    const secrets = container.resolve<SecretStore>(TOKENS.SecretStore);
    this.secretStoreKind = secrets.kind;
    this.faults = new FaultTracker(
      (error) => {
        this.log.warn(error.message, { plugin: error.plugin });
        this.emitter.emit('pluginFault', error);
      },
      (plugin, error) => {
        this.log.error(error.message, { plugin });
        this.registry.disable('feature', plugin, error);
        this.featureDisposers.get(plugin)?.();
        this.featureDisposers.delete(plugin);
        this.emitter.emit('pluginDisabled', plugin, error);
        this.ui.notify('error', `Plugin ${plugin} was disabled`, error.message);
      },
    );
    const policy = container.resolve<ReconnectPolicy>(TOKENS.ReconnectPolicy);

    this.accountManager = new AccountManager({
      store: new AccountStore(this.paths.config),
      secrets,
      state: this.state,
      registry: this.registry,
      hooks: this.hooksInternal,
      events: this.emitter,
      policy,
      redactor,
      log: this.log.child('accounts'),
      openConnection: (record, runtime, generation, signal, plugin) => {
        const context = buildConnectionContext({
          record,
          runtime,
          generation,
          signal,
          accounts: this.accountManager,
          conversations: this.conversationManager,
          buddies: this.buddyList,
          hooks: this.hooksInternal,
          events: this.emitter,
          state: this.state,
          ui: this.ui,
          log: this.log.child(`${record.protocol}:${record.username}`),
          tlsCa: this.tlsCa(),
          carryOver: this.carryOverFor(record.id),
          dnsServers: this.dnsServers(),
          reportFault: (where, error) => this.log.warn(`plugin ${plugin.name} gave bad input to ${where}`, { error: error instanceof Error ? error.message : String(error) }),
        });
        this.contexts.set(record.id, context);
        this.registerProtocolCommands(plugin);
        return plugin.createConnection(context);
      },
      whenOnline: async (account, connection) => {
        const presence = this.presenceByAccount.get(account.id) ?? this.globalPresence;
        if (connection.setPresence !== undefined && presence.status !== 'available') {
          await connection.setPresence(presence).catch((error: unknown) => this.log.warn('setting presence failed', { error: String(error) }));
        }
        await this.rejoinChats(account.id);
        await this.conversationManager.flushQueue(account.id);
      },
      whenOffline: (account, error, willRetry) => {
        if (!willRetry) this.carryOvers.delete(account.id);
        this.buddyList.markAccountOffline(account.id);
        this.conversationManager.accountOffline(account.id);
        if (error !== undefined && !willRetry) {
          this.conversationManager.failQueue(account.id, error);
          this.ui.notify('error', `${account.protocol}:${account.username}: ${error.message}`, error.hint, account.id);
        }
      },
    });

    this.conversationManager = new ConversationManager(
      this.hooksInternal,
      this.emitter,
      this.history,
      {
        isOnline: (id) => this.accountManager.isOnline(id),
        canQueue: (id) => this.accountManager.canQueue(id),
        send: (id, target, message) => this.accountManager.send(id, target, message),
        setTyping: (id, peer, state) => this.accountManager.setTyping(id, peer, state),
        closeConversation: (id, target) => this.accountManager.closeConversation(id, target),
        selfName: (id) => this.accountManager.get(id).username,
      },
      this.log.child('conversations'),
      { queueTimeoutMs: options.sendQueueTimeoutMs ?? 5 * 60_000 },
    );
    registerCoreCommands(this);
  }

  private carryOverFor(accountId: string): Map<string, unknown> {
    let map = this.carryOvers.get(accountId);
    if (map === undefined) {
      map = new Map();
      this.carryOvers.set(accountId, map);
    }
    return map;
  }

  /** Hooks, for the embedder: tap-only, isolated like a plugin's, under the given name. */
  hooks(owner: string): ParleyHooksTapOnly {
    return tapOnlyHooks(this.hooksInternal, owner, (plugin, hook, error) => this.faults.report(plugin, hook, error), () => this.faults.isDisabled(owner));
  }

  private tlsCa(): string[] | undefined {
    const extra = this.options.tls?.ca;
    return extra === undefined || extra.length === 0 ? undefined : [...rootCertificates, ...extra];
  }

  private dnsServers(): readonly string[] | undefined {
    if (this.options.dnsServers !== undefined) return this.options.dnsServers;
    const fromEnv = (this.options.env ?? process.env).PARLEY_DNS_SERVERS;
    if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(/[\s,]+/).filter((s) => s !== '');
    return this.config.dnsServers;
  }

  // ---- plugins ---------------------------------------------------------

  readonly plugins = {
    list: (): PluginInfo[] => this.registry.list(),
    protocols: (): ProtocolDescriptor[] => this.registry.protocols(),
    protocol: (id: string): ProtocolDescriptor | undefined => this.registry.protocol(id),
    /** Loads a feature plugin now (an embedder's own, or a discovered one by name). */
    use: async (plugin: FeaturePlugin | string): Promise<void> => {
      const feature = typeof plugin === 'string' ? await this.registry.loadFeature(plugin) : plugin;
      if (typeof plugin !== 'string') this.registry.addDirect(feature);
      this.applyFeature(feature);
    },
  };

  /** @internal */
  async loadFeaturePlugins(): Promise<void> {
    const disabled = new Set(this.config.disabledPlugins ?? []);
    for (const id of this.registry.featureIds()) {
      if (disabled.has(id)) continue;
      try {
        this.applyFeature(await this.registry.loadFeature(id));
      } catch (error) {
        const pluginError = error instanceof PluginError ? error : new PluginError('plugin-load-failed', id, String(error));
        this.log.error(pluginError.message);
        this.emitter.emit('pluginFault', pluginError);
      }
    }
  }

  private applyFeature(plugin: FeaturePlugin): void {
    if (this.featureDisposers.has(plugin.name)) return;
    const listeners: Array<[string, (...args: unknown[]) => void]> = [];
    const report = (where: string, error: unknown) => this.faults.report(plugin.name, where, error);
    const events: ParleyEventsListenOnly = {
      on: ((event: string, fn: (...args: unknown[]) => void) => {
        const safe = (...args: unknown[]) => {
          if (this.faults.isDisabled(plugin.name)) return;
          try {
            const result: unknown = fn(...args);
            if (result instanceof Promise) result.catch((error: unknown) => report(`event ${event}`, error));
          } catch (error) {
            report(`event ${event}`, error);
          }
        };
        listeners.push([event, safe]);
        this.emitter.on(event as never, safe as never);
        return events;
      }) as ParleyEventsListenOnly['on'],
      once: ((event: string, fn: (...args: unknown[]) => void) => {
        const safe = (...args: unknown[]) => {
          try {
            fn(...args);
          } catch (error) {
            report(`event ${event}`, error);
          }
        };
        this.emitter.once(event as never, safe as never);
        return events;
      }) as ParleyEventsListenOnly['once'],
      off: ((event: string) => {
        for (const [name, fn] of listeners) if (name === event) this.emitter.off(event as never, fn as never);
        return events;
      }) as ParleyEventsListenOnly['off'],
    };
    const unregister: Array<() => void> = [];
    const api: PluginApi = {
      name: plugin.name,
      hooks: this.hooks(plugin.name),
      events,
      log: this.log.child(plugin.name),
      config: Object.freeze({ ...this.config.plugins?.[plugin.name] }),
      registerCommand: (command) => {
        unregister.push(
          this.commands.register({
            ...command,
            owner: plugin.name,
            run: async (args, invocation) => {
              try {
                return await command.run(args, invocation);
              } catch (error) {
                report(`command /${command.name}`, error);
                throw new CommandError('command-failed', `/${command.name} failed: ${error instanceof Error ? error.message : String(error)}`);
              }
            },
          }),
        );
      },
      send: async (conversationId, text, flags) => {
        await this.conversationManager.send(conversationId, text, flags?.autoReply === true ? { autoReply: true } : {});
      },
      presence: () => this.globalPresence,
    };
    let dispose: void | (() => void);
    try {
      dispose = plugin.apply(api);
    } catch (error) {
      for (const u of unregister) u();
      const pluginError = new PluginError('plugin-load-failed', plugin.name, `Plugin ${plugin.name} failed to start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      this.log.error(pluginError.message);
      this.emitter.emit('pluginFault', pluginError);
      return;
    }
    this.featureDisposers.set(plugin.name, () => {
      for (const [name, fn] of listeners) this.emitter.off(name as never, fn as never);
      for (const u of unregister) u();
      try {
        dispose?.();
      } catch {
        // Already being switched off.
      }
    });
    this.emitter.emit('pluginLoaded', plugin.name, 'feature');
  }

  // ---- accounts --------------------------------------------------------

  readonly accounts = {
    list: (): AccountInfo[] => this.accountManager.list(),
    get: (ref: string): AccountInfo => this.accountManager.get(ref),
    settings: (ref: string) => this.accountManager.settings(ref),
    add: (account: NewAccount): Promise<AccountInfo> => this.accountManager.add(account),
    update: (ref: string, changes: AccountChanges): Promise<AccountInfo> => this.accountManager.update(ref, changes),
    remove: async (ref: string): Promise<void> => {
      const id = this.accountManager.resolve(ref).id;
      await this.accountManager.remove(id);
      this.buddyList.forgetAccount(id);
      this.conversationManager.forgetAccount(id);
    },
    connect: (ref: string): Promise<void> => this.accountManager.connect(ref),
    disconnect: (ref: string): Promise<void> => this.accountManager.disconnect(ref),
    status: (ref: string): AccountStatus => this.accountManager.status(ref),
    /** Which required options (settings or secrets) have no value. */
    missingRequired: (ref: string): Promise<string[]> => this.accountManager.missingRequired(ref),
    /** Connects every enabled account; resolves when each has succeeded or failed once. */
    connectEnabled: async (): Promise<Array<{ account: AccountInfo; error?: ConnectionError }>> => {
      const enabled = this.accountManager.list().filter((a) => a.enabled);
      return Promise.all(
        enabled.map((account) =>
          this.accountManager.connect(account.id).then(
            () => ({ account }),
            (error: unknown) => ({ account, error: ConnectionError.from(error) }),
          ),
        ),
      );
    },
  };

  // ---- conversations ---------------------------------------------------

  readonly conversations = {
    list: (): ConversationView[] => this.conversationManager.list(),
    get: (id: string): ConversationView | undefined => this.conversationManager.get(id),
    openIm: (accountRef: string, peer: string): ConversationView => this.conversationManager.open(this.accountManager.resolve(accountRef).id, 'im', peer),
    find: (accountRef: string, kind: 'im' | 'chat', name: string): ConversationView | undefined =>
      this.conversationManager.find(this.accountManager.resolve(accountRef).id, kind, name),
    send: (conversationId: string, text: string, flags?: { action?: boolean }): Promise<Message | undefined> =>
      this.conversationManager.send(conversationId, text, flags?.action === true ? { action: true } : {}),
    sendIm: (accountRef: string, peer: string, text: string): Promise<Message | undefined> => {
      const conversation = this.conversationManager.open(this.accountManager.resolve(accountRef).id, 'im', peer);
      return this.conversationManager.send(conversation.id, text);
    },
    /** Sends to a contact through its best online buddy. */
    sendToContact: (contactId: string, text: string): Promise<Message | undefined> => {
      const buddy = this.buddyList.bestBuddy(contactId, (id) => this.accountManager.isOnline(id));
      if (buddy === undefined) return Promise.reject(new MessageError('no-route', 'None of this contact\'s accounts is online'));
      return this.conversations.sendIm(buddy.accountId, buddy.name, text);
    },
    setTyping: (conversationId: string, state: TypingState): Promise<void> => this.conversationManager.sendTyping(conversationId, state),
    markRead: (conversationId: string): void => this.conversationManager.markRead(conversationId),
    close: (conversationId: string): void => this.conversationManager.close(conversationId),
    queued: (accountRef: string): readonly Message[] => this.conversationManager.queued(this.accountManager.resolve(accountRef).id),
  };

  // ---- group chats -----------------------------------------------------

  readonly chats = {
    join: async (accountRef: string, room: string, options: { password?: string; nick?: string } = {}): Promise<ConversationView> => {
      const account = this.accountManager.resolve(accountRef);
      const connection = this.requireOnline(account.id);
      if (connection.joinChat === undefined) throw new ConversationManagerError('not-supported', `${account.protocol} has no group chats`);
      await connection.joinChat(room, options);
      // Kept for the rejoin after a reconnect: a keyed channel or a password-protected room needs it again.
      this.joinOptions.set(`${account.id}\u0000${room.toLowerCase()}`, options);
      return this.conversationManager.find(account.id, 'chat', room) ?? this.conversationManager.chatJoined(account.id, room);
    },
    leave: async (conversationId: string): Promise<void> => {
      const conversation = this.requireChat(conversationId);
      const connection = this.accountManager.connection(conversation.accountId);
      if (connection?.leaveChat !== undefined) await connection.leaveChat(conversation.name);
      this.joinOptions.delete(`${conversation.accountId}\u0000${conversation.name.toLowerCase()}`);
      this.conversationManager.chatLeft(conversation.accountId, conversation.name);
    },
    setTopic: async (conversationId: string, topic: string): Promise<void> => {
      const conversation = this.requireChat(conversationId);
      const connection = this.requireOnline(conversation.accountId);
      if (connection.setTopic === undefined) throw new ConversationManagerError('not-supported', 'This protocol cannot set a topic');
      await connection.setTopic(conversation.name, topic);
    },
    saved: (): readonly SavedChat[] => this.buddyList.savedChats(),
    save: (accountRef: string, room: string, options: { alias?: string; group?: string; autojoin?: boolean } = {}): void => {
      const chat: SavedChat = { accountId: this.accountManager.resolve(accountRef).id, room, group: options.group ?? 'Chats', autojoin: options.autojoin ?? false };
      if (options.alias !== undefined) chat.alias = options.alias;
      this.buddyList.saveChat(chat);
    },
    unsave: (accountRef: string, room: string): void => this.buddyList.removeChat(this.accountManager.resolve(accountRef).id, room),
  };

  private requireChat(conversationId: string): ConversationView {
    const conversation = this.conversationManager.get(conversationId);
    if (conversation === undefined || conversation.kind !== 'chat') throw new ConversationManagerError('not-a-chat', `${conversationId} is not a group chat`);
    return conversation;
  }

  private requireOnline(accountId: string) {
    const connection = this.accountManager.connection(accountId);
    if (connection === undefined) throw new MessageError('no-route', 'The account is not online');
    return connection;
  }

  private async rejoinChats(accountId: string): Promise<void> {
    const connection = this.accountManager.connection(accountId);
    if (connection?.joinChat === undefined) return;
    const rooms = new Set(this.conversationManager.joinedChats(accountId).map((r) => r.toLowerCase()));
    const toJoin = [...this.conversationManager.joinedChats(accountId)];
    for (const chat of this.buddyList.savedChats()) if (chat.accountId === accountId && chat.autojoin && !rooms.has(chat.room.toLowerCase())) toJoin.push(chat.room);
    for (const room of toJoin) {
      try {
        await connection.joinChat(room, this.joinOptions.get(`${accountId}\u0000${room.toLowerCase()}`) ?? {});
      } catch (error) {
        this.log.warn('rejoining a chat failed', { room, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  // ---- buddy list ------------------------------------------------------

  readonly buddies = {
    groups: (): readonly string[] => this.buddyList.groupNames(),
    contacts: (): ContactView[] => this.buddyList.contactList(),
    contact: (id: string): ContactView | undefined => {
      const c = this.buddyList.contact(id);
      return c === undefined ? undefined : this.buddyList.view(c);
    },
    find: (accountRef: string, name: string) => {
      const found = this.buddyList.find(this.accountManager.resolve(accountRef).id, name);
      return found === undefined ? undefined : { contact: this.buddyList.view(found.contact), buddy: { ...found.buddy } };
    },
    /** Adds a buddy, on the server too when the protocol manages buddy lists. */
    add: async (accountRef: string, name: string, options: { alias?: string; group?: string } = {}): Promise<void> => {
      const account = this.accountManager.resolve(accountRef);
      const entry: RosterEntry = { name, groups: [options.group ?? DEFAULT_GROUP] };
      if (options.alias !== undefined) entry.alias = options.alias;
      const connection = this.accountManager.connection(account.id);
      if (connection?.addBuddy !== undefined) await connection.addBuddy(entry);
      this.buddyList.upsert(account.id, entry);
    },
    remove: async (accountRef: string, name: string): Promise<void> => {
      const account = this.accountManager.resolve(accountRef);
      const connection = this.accountManager.connection(account.id);
      if (connection?.removeBuddy !== undefined) await connection.removeBuddy(name);
      this.buddyList.remove(account.id, name);
    },
    /** Moves a contact to another group; each buddy's server-side group follows. */
    move: async (contactId: string, group: string): Promise<void> => {
      const contact = this.buddyList.moveContact(contactId, group);
      await this.pushBuddyUpdates(contact.buddies.map((b) => ({ accountId: b.accountId, entry: { name: b.name, groups: [group], ...(b.alias === undefined ? {} : { alias: b.alias }) } })));
    },
    alias: async (contactId: string, alias: string): Promise<void> => {
      this.buddyList.aliasContact(contactId, alias);
      const contact = this.buddyList.contact(contactId)!;
      await this.pushBuddyUpdates(contact.buddies.map((b) => ({ accountId: b.accountId, entry: { name: b.name, alias, groups: [contact.group] } })));
    },
    renameGroup: async (from: string, to: string): Promise<void> => {
      const moved = this.buddyList.renameGroup(from, to);
      await this.pushBuddyUpdates(moved.flatMap((c) => c.buddies.map((b) => ({ accountId: b.accountId, entry: { name: b.name, groups: [to], ...(b.alias === undefined ? {} : { alias: b.alias }) } }))));
    },
    merge: (targetContactId: string, sourceContactId: string) => this.buddyList.view(this.buddyList.mergeContacts(targetContactId, sourceContactId)),
    split: (accountRef: string, name: string) => this.buddyList.view(this.buddyList.splitBuddy(this.accountManager.resolve(accountRef).id, name)),
    info: async (accountRef: string, name: string): Promise<Record<string, string>> => {
      const account = this.accountManager.resolve(accountRef);
      const connection = this.requireOnline(account.id);
      if (connection.getBuddyInfo === undefined) throw new ConversationManagerError('not-supported', `${account.protocol} has no buddy info`);
      const info = await connection.getBuddyInfo(name);
      this.buddyList.setInfo(account.id, name, info);
      return info;
    },
  };

  private async pushBuddyUpdates(updates: Array<{ accountId: string; entry: RosterEntry }>): Promise<void> {
    for (const { accountId, entry } of updates) {
      const connection = this.accountManager.connection(accountId);
      if (connection?.updateBuddy === undefined) continue;
      try {
        await connection.updateBuddy(entry);
      } catch (error) {
        this.log.warn('updating a buddy on the server failed', { buddy: entry.name, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  // ---- presence --------------------------------------------------------

  readonly presence = {
    /** The status shown for all accounts, or for one when `accountRef` is given. */
    get: (accountRef?: string): Presence => {
      if (accountRef === undefined) return this.globalPresence;
      return this.presenceByAccount.get(this.accountManager.resolve(accountRef).id) ?? this.globalPresence;
    },
    set: async (presence: Presence, accountRef?: string): Promise<void> => {
      const targets = accountRef === undefined ? this.accountManager.list() : [this.accountManager.get(accountRef)];
      if (accountRef === undefined) {
        this.globalPresence = presence;
        this.presenceByAccount.clear();
      } else {
        this.presenceByAccount.set(targets[0]!.id, presence);
      }
      for (const account of targets) {
        if (presence.status === 'offline') {
          await this.accountManager.disconnect(account.id);
          continue;
        }
        const connection = this.accountManager.connection(account.id);
        if (connection?.setPresence === undefined) continue;
        try {
          await connection.setPresence(presence);
        } catch (error) {
          this.log.warn('setting presence failed', { account: account.id, error: error instanceof Error ? error.message : String(error) });
        }
      }
      this.emitter.emit('presenceChanged', presence, accountRef === undefined ? undefined : targets[0]!.id);
    },
  };

  // ---- history ---------------------------------------------------------

  /** Resolves when every message so far is stored on disk. */
  async flushHistory(): Promise<void> {
    await this.history?.flush();
  }

  async searchHistory(query: HistoryQuery & { account?: string }): Promise<HistoryEntry[]> {
    if (this.history === undefined) return [];
    const { account, ...rest } = query;
    const q: HistoryQuery = { ...rest };
    if (account !== undefined) q.accountId = this.accountManager.resolve(account).id;
    return this.history.search(q);
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

  /** A protocol's commands run against the account of the conversation they are typed in. */
  private registerProtocolCommands(plugin: ProtocolPlugin): void {
    if (this.protocolCommandsRegistered.has(plugin.id)) return;
    this.protocolCommandsRegistered.add(plugin.id);
    for (const command of plugin.commands ?? []) {
      const spec: RegisteredCommand = {
        name: command.name,
        help: command.help,
        owner: plugin.name,
        protocol: plugin.id,
        run: async (args, invocation) => {
          const conversation = invocation.conversationId === undefined ? undefined : this.conversationManager.get(invocation.conversationId);
          const accountId = conversation?.accountId ?? this.accountManager.list().find((a) => a.protocol === plugin.id && this.accountManager.isOnline(a.id))?.id;
          const connection = accountId === undefined ? undefined : this.accountManager.connection(accountId);
          const context = accountId === undefined ? undefined : this.contexts.get(accountId);
          if (connection === undefined || context === undefined) throw new CommandError('command-not-applicable', `/${command.name} needs an online ${plugin.name} account`);
          const target = conversation === undefined ? undefined : conversation.kind === 'im' ? ({ kind: 'im', peer: conversation.name } as const) : ({ kind: 'chat', room: conversation.name } as const);
          try {
            return await command.run(args, target === undefined ? { connection, context } : { connection, context, target });
          } catch (error) {
            if (error instanceof CommandError) throw error;
            throw new CommandError('command-failed', `/${command.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
          }
        },
      };
      if (command.usage !== undefined) spec.usage = command.usage;
      this.commands.register(spec);
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.accountManager.shutdown();
    for (const dispose of this.featureDisposers.values()) dispose();
    this.featureDisposers.clear();
    this.state.flush();
    await this.buddyList.save();
    await this.history?.close();
  }
}

/** Creates a Parley core: reads the configuration, finds plugins and opens history and secrets. */
export async function createParley(options: ParleyOptions = {}): Promise<Parley> {
  const env = options.env ?? process.env;
  const paths = resolvePaths(env, options.home);
  const config = readCoreConfig(paths.config);
  // Loaded here rather than at import: a command that only reads the configuration never needs them.
  await import('reflect-metadata');
  const { container: rootContainer } = await import('tsyringe');
  const container = rootContainer.createChildContainer();
  options.configure?.(container);
  const ui = options.ui ?? new HeadlessUi();
  const logSink = options.log ?? stderrSink;
  const register = <T>(token: symbol, value: T) => {
    if (!container.isRegistered(token, false)) container.register<T>(token, { useValue: value });
  };
  register(TOKENS.Paths, paths);
  register(TOKENS.UiOps, ui);
  register(TOKENS.LogSink, logSink);
  register(TOKENS.ReconnectPolicy, new ReconnectPolicy({ ...DEFAULT_RECONNECT, ...options.reconnect }));
  if (!container.isRegistered(PluginRegistry, false)) container.register(PluginRegistry, { useValue: new PluginRegistry() });

  const registry = container.resolve(PluginRegistry);
  for (const plugin of options.plugins ?? []) registry.addDirect(plugin);
  if (options.discover !== false) {
    const userNodeModules = join(paths.userPlugins, 'node_modules');
    const coreRoot = fileURLToPath(new URL('..', import.meta.url));
    for (const dir of [...(options.pluginDirs ?? []), userNodeModules]) provideCoreTo(dir, coreRoot);
    const found = discoverPlugins([...(options.pluginDirs ?? []), ...applicationNodeModules(), userNodeModules], join(paths.data, 'plugin-index.json'));
    for (const plugin of found.plugins) registry.addDiscovered(plugin);
    for (const error of found.invalid) logSink({ level: 'warn', scope: 'parley:plugins', message: error.message, time: Date.now() });
  }

  if (!container.isRegistered(TOKENS.SecretStore, false)) {
    container.register(TOKENS.SecretStore, { useValue: await openSecretStore(options, env, paths, ui) });
  }
  const historyErrors: HistoryErrorRelay = {};
  if (!container.isRegistered(TOKENS.HistoryStore, false) && options.history !== false) {
    const onError = (error: HistoryError) => {
      logSink({ level: 'warn', scope: 'parley:history', message: error.message, time: Date.now() });
      historyErrors.emit?.(error);
    };
    const path = join(paths.data, 'history.db');
    // On its own thread where the built worker exists; in process otherwise.
    const history = (await ThreadedHistory.open(path, onError)) ?? new SqliteHistory(path, { onError });
    if (history.recoveredFrom !== undefined) ui.notify('warning', 'The history database was damaged', `It was kept at ${history.recoveredFrom}; a new one was started.`);
    container.register(TOKENS.HistoryStore, { useValue: history });
  }
  const parley = new Parley(container, options, config, historyErrors);
  await parley.loadFeaturePlugins();
  return parley;
}

async function openSecretStore(options: ParleyOptions, env: NodeJS.ProcessEnv, paths: ParleyPaths, ui: UiOps): Promise<SecretStore> {
  const choice = options.secretStore ?? (env.PARLEY_SECRET_STORE as ParleyOptions['secretStore']) ?? 'auto';
  if (typeof choice === 'object') return choice;
  if (choice !== 'file') {
    const keyring = await KeyringSecretStore.open(env);
    if (keyring !== undefined) return keyring;
    if (choice === 'keyring') throw new ConfigError('invalid-config', 'No Secret Service (OS keyring) answers on this session bus');
  }
  const passphrase: PassphraseProvider = async ({ creating, attempt }) => {
    if (attempt === 1) {
      const given = options.passphrase ?? env.PARLEY_PASSPHRASE;
      if (given !== undefined && given !== '') return given;
    } else if (options.passphrase !== undefined || env.PARLEY_PASSPHRASE !== undefined) {
      return undefined; // A configured passphrase that is wrong is not retried.
    }
    return ui.request(
      { kind: 'input', secret: true, title: creating ? 'Choose a passphrase to protect stored passwords' : 'Passphrase for stored passwords' },
      { purpose: 'passphrase' },
    );
  };
  return new EncryptedFileSecretStore(join(paths.data, 'secrets.enc'), passphrase);
}
