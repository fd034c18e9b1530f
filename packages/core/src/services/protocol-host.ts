import type { AccountManager } from '../accounts/account-manager.js';
import type { AccountRecord } from '../accounts/account.js';
import type { BuddyList } from '../buddies/buddy-list.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { AccountRuntime } from '../connection/account-runtime.js';
import { buildConnectionContext } from '../connection/context.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import type { ParleyEvents } from '../events/events.js';
import type { ParleyHooks } from '../hooks/hooks.js';
import type { ConnectionContext, ProtocolConnection, ProtocolPlugin } from '../plugins/contract.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { StateStore } from '../storage/state-store.js';
import type { UiOps } from '../ui/ui-ops.js';
import type { Logger } from '../util/logger.js';
import type { CoreSettings } from '../bootstrap/core-config.js';
import { PluginWorkerPool, type WorkerLimits } from '../isolation/plugin-worker-pool.js';
import type { PackedRoster } from '../isolation/packed-roster.js';
import { registerProtocolCommands } from './protocol-commands.js';
import { guardedConnection } from '../isolation/in-process-guard.js';
import { CrashBudget } from '../isolation/crash-budget.js';
import { ConnectionError } from '../errors/ConnectionError.js';
import { PluginError } from '../errors/ParleyError.js';
import type { NetConfig } from '../net/net.js';
import type { TransferManager } from '../transfers/transfer-manager.js';

/** Where secrets of the core itself (the global proxy's password) are kept in the secret store. */
export const GLOBAL_SECRETS = 'parley-core';

/** The worker gets the proxy password with its configuration: it cannot ask the secret store itself. */
async function withProxyPassword(net: NetConfig, password: () => Promise<string | undefined>): Promise<NetConfig> {
  const server = net.proxy.mode === 'server' ? net.proxy.server : undefined;
  if (server === undefined || server.username === undefined || server.password !== undefined) return net;
  const value = await password();
  return value === undefined ? net : { ...net, proxy: { mode: 'server', server: { ...server, password: value } } };
}

/** Where protocol plugins run: each package in its own worker thread, or in the core's thread. */
export type Isolation = 'worker' | 'none';

export interface ProtocolHostDeps {
  accounts: AccountManager;
  conversations: ConversationManager;
  buddies: BuddyList;
  hooks: ParleyHooks;
  events: ParleyEvents;
  state: StateStore;
  ui: UiOps;
  log: Logger;
  settings: CoreSettings;
  commands: CommandRegistry;
  registry: PluginRegistry;
  isolation: Isolation;
  workerLimits: WorkerLimits;
  transfers: TransferManager;
}

/**
 * The boundary between the core and protocol plugins: builds the context
 * each connection attempt talks through, keeps what survives from one attempt
 * to the next, registers a protocol's commands when it is first used, and —
 * under worker isolation — runs each plugin package's connections in its own
 * worker thread.
 */
export class ProtocolHost {
  private readonly contexts = new Map<string, ConnectionContext>();
  private readonly carryOvers = new Map<string, Map<string, unknown>>();
  private readonly commandsRegistered = new Set<string>();
  private readonly pool: PluginWorkerPool | undefined;
  private buddyPush: NodeJS.Immediate | undefined;
  /** In process: which plugin each account's current connection belongs to, to take them down together on a fault. */
  private readonly pluginOf = new Map<string, string>();
  private readonly budget: CrashBudget;

  constructor(private readonly deps: ProtocolHostDeps) {
    this.budget = new CrashBudget(deps.workerLimits.maxCrashes, deps.workerLimits.crashWindowMs);
    if (deps.isolation === 'worker') {
      this.pool = new PluginWorkerPool(deps.workerLimits, deps.log.child('workers'), {
        crashed: (_plugin, error) => deps.events.emit('pluginFault', error),
        disabled: (plugin, error) => this.disablePlugin(plugin, error),
      });
      // A worker answers `buddies.list()` from its own copy, kept current from here.
      deps.events.on('buddyListChanged', () => {
        this.buddyPush ??= setImmediate(() => {
          this.buddyPush = undefined;
          const holds = (accountId: string, { names, aliases, groups }: PackedRoster) => deps.buddies.matchesRoster(accountId, names, aliases, groups);
          for (const remote of this.pool!.connections()) remote.pushBuddies(holds);
        });
      });
    }
  }

  /** Opens one connection attempt of an account with its plugin. */
  open(record: AccountRecord, runtime: AccountRuntime, generation: number, signal: AbortSignal, plugin: ProtocolPlugin): ProtocolConnection {
    const { deps } = this;
    const accountProxy = typeof record.settings.proxy === 'string' ? record.settings.proxy : undefined;
    const net = deps.settings.netConfig(accountProxy);
    // The account's own proxy URL has the account's password; the global proxy, the global one.
    const usesGlobal = accountProxy === undefined || accountProxy === '' || accountProxy === 'default';
    const proxyPassword = () => deps.accounts.getSecret(usesGlobal ? GLOBAL_SECRETS : record.id, 'proxyPassword');
    const context = buildConnectionContext({
      record,
      runtime,
      generation,
      signal,
      accounts: deps.accounts,
      conversations: deps.conversations,
      buddies: deps.buddies,
      hooks: deps.hooks,
      events: deps.events,
      state: deps.state,
      ui: deps.ui,
      log: deps.log.child(`${record.protocol}:${record.username}`),
      tlsCa: deps.settings.tlsCa(),
      carryOver: this.carryOverFor(record.id),
      dnsServers: deps.settings.dnsServers(),
      net,
      proxyPassword,
      transfers: deps.transfers,
      reportFault: (where, error) => deps.log.warn(`plugin ${plugin.name} gave bad input to ${where}`, { error: error instanceof Error ? error.message : String(error) }),
    });
    this.contexts.set(record.id, context);
    if (!this.commandsRegistered.has(plugin.id)) {
      this.commandsRegistered.add(plugin.id);
      registerProtocolCommands(plugin, { commands: deps.commands, accounts: deps.accounts, conversations: deps.conversations, contextOf: (id) => this.contexts.get(id) });
    }
    const module = this.pool === undefined ? undefined : deps.registry.moduleOf(plugin.id);
    if (this.pool !== undefined && module !== undefined) {
      return this.pool.createConnection(
        plugin,
        module,
        context,
        async () => ({
          net: await withProxyPassword(net, proxyPassword),
          account: context.account,
          settings: context.settings,
          state: deps.state.entries(record.id, 'plugin:'),
          tlsCa: context.tlsCa(),
          dnsServers: context.coreSetting('dnsServers'),
        }),
        // As context.setState: a string as it is, any other value from the JSON text the worker made of it.
        (key, value, isString) => (isString ? deps.state.set(record.id, `plugin:${key}`, value) : deps.state.setJson(record.id, `plugin:${key}`, value)),
      );
    }
    this.pluginOf.set(record.id, plugin.id);
    const connection = guardedConnection(plugin, context, { plugin, fault: (error) => this.inProcessFault(plugin, error) });
    // HTTPS agents are made synchronously: the proxy password is put into the configuration before connect().
    const connect = connection.connect.bind(connection);
    connection.connect = async () => {
      net.proxy = (await withProxyPassword(net, proxyPassword)).proxy;
      return connect();
    };
    return connection;
  }

  /**
   * An exception or rejection escaped an in-process plugin's callbacks: its
   * accounts are taken down as if its worker had crashed, and reconnect.
   */
  private inProcessFault(plugin: ProtocolPlugin, cause: unknown): void {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    const fault = new PluginError('plugin-crashed', plugin.name, `Plugin ${plugin.name} crashed: ${detail}`, { cause });
    this.deps.log.error(fault.message, { plugin: plugin.name });
    let lost = new ConnectionError('plugin-crashed', fault.message, { cause: fault, hint: 'Parley reconnects its accounts' });
    if (this.budget.exhausted(plugin.id)) {
      const disabled = new PluginError('plugin-disabled', plugin.name, `Plugin ${plugin.name} was disabled after ${this.budget.describe()}; the last: ${fault.message}`, { cause: fault });
      this.disablePlugin(plugin, disabled);
      lost = ConnectionError.other(disabled.message, { fatal: true, cause: disabled });
    } else {
      this.deps.events.emit('pluginFault', fault);
    }
    for (const [accountId, id] of this.pluginOf) if (id === plugin.id) this.contexts.get(accountId)?.connectionLost(lost);
  }

  private disablePlugin(plugin: ProtocolPlugin, error: PluginError): void {
    this.deps.registry.disable('protocol', plugin.id, error);
    this.deps.events.emit('pluginDisabled', plugin.name, error);
    this.deps.ui.notify('error', `Plugin ${plugin.name} was disabled`, error.message);
  }

  /** Heap in use by each plugin worker, in bytes (empty in process); see `Parley.plugins.workerMemory`. */
  workerMemory(options: { collect?: boolean } = {}): Promise<Array<{ protocol: string; threadId: number; heapUsed: number }>> {
    return this.pool?.memory(options.collect === true) ?? Promise.resolve([]);
  }

  /** The account stopped for good (signed off, fatal error): what was carried between attempts goes. */
  forget(accountId: string): void {
    this.carryOvers.delete(accountId);
    // In a worker, the plugin's carry-over lives there.
    this.pool?.forget(accountId);
  }

  /** Ends the plugin workers, once every account is signed off. */
  async shutdown(): Promise<void> {
    if (this.buddyPush !== undefined) clearImmediate(this.buddyPush);
    await this.pool?.shutdown();
  }

  private carryOverFor(accountId: string): Map<string, unknown> {
    let map = this.carryOvers.get(accountId);
    if (map === undefined) {
      map = new Map();
      this.carryOvers.set(accountId, map);
    }
    return map;
  }
}
