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
import type { StateStore } from '../storage/state-store.js';
import type { UiOps } from '../ui/ui-ops.js';
import type { Logger } from '../util/logger.js';
import type { CoreSettings } from '../bootstrap/core-config.js';
import { registerProtocolCommands } from './protocol-commands.js';

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
}

/**
 * The boundary between the core and protocol plugins: builds the context
 * each connection attempt talks through, keeps what survives from one attempt
 * to the next, and registers a protocol's commands when it is first used.
 */
export class ProtocolHost {
  private readonly contexts = new Map<string, ConnectionContext>();
  private readonly carryOvers = new Map<string, Map<string, unknown>>();
  private readonly commandsRegistered = new Set<string>();

  constructor(private readonly deps: ProtocolHostDeps) {}

  /** Opens one connection attempt of an account with its plugin. */
  open(record: AccountRecord, runtime: AccountRuntime, generation: number, signal: AbortSignal, plugin: ProtocolPlugin): ProtocolConnection {
    const { deps } = this;
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
      reportFault: (where, error) => deps.log.warn(`plugin ${plugin.name} gave bad input to ${where}`, { error: error instanceof Error ? error.message : String(error) }),
    });
    this.contexts.set(record.id, context);
    if (!this.commandsRegistered.has(plugin.id)) {
      this.commandsRegistered.add(plugin.id);
      registerProtocolCommands(plugin, { commands: deps.commands, accounts: deps.accounts, conversations: deps.conversations, contextOf: (id) => this.contexts.get(id) });
    }
    return plugin.createConnection(context);
  }

  /** The account stopped for good (signed off, fatal error): what was carried between attempts goes. */
  forget(accountId: string): void {
    this.carryOvers.delete(accountId);
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
