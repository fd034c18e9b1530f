import type { AccountManager } from '../accounts/account-manager.js';
import { CommandError, type CommandRegistry, type RegisteredCommand } from '../commands/registry.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import type { ConnectionContext, ProtocolPlugin } from '../plugins/contract.js';
import { RemoteConnection } from '../isolation/plugin-worker-pool.js';
import { unguarded } from '../isolation/in-process-guard.js';

export interface ProtocolCommandDeps {
  commands: CommandRegistry;
  accounts: AccountManager;
  conversations: ConversationManager;
  /** The context of an account's current connection. */
  contextOf(accountId: string): ConnectionContext | undefined;
}

/** Registers a protocol's commands: each runs against the account of the conversation it is typed in. */
export function registerProtocolCommands(plugin: ProtocolPlugin, deps: ProtocolCommandDeps): void {
  const { accounts, conversations } = deps;
  for (const command of plugin.commands ?? []) {
    const spec: RegisteredCommand = {
      name: command.name,
      help: command.help,
      owner: plugin.name,
      protocol: plugin.id,
      run: async (args, invocation) => {
        const conversation = invocation.conversationId === undefined ? undefined : conversations.get(invocation.conversationId);
        const accountId = conversation?.accountId ?? accounts.list().find((a) => a.protocol === plugin.id && accounts.isOnline(a.id))?.id;
        const connection = accountId === undefined ? undefined : accounts.connection(accountId);
        const context = accountId === undefined ? undefined : deps.contextOf(accountId);
        if (connection === undefined || context === undefined) throw new CommandError('command-not-applicable', `/${command.name} needs an online ${plugin.name} account`);
        const target = conversation === undefined ? undefined : conversation.kind === 'im' ? ({ kind: 'im', peer: conversation.name } as const) : ({ kind: 'chat', room: conversation.name } as const);
        try {
          // A connection in a plugin worker runs the command there, with the live objects it needs.
          if (connection instanceof RemoteConnection) return await connection.runCommand(command.name, args, target);
          const own = unguarded(connection);
          return await command.run(args, target === undefined ? { connection: own, context } : { connection: own, context, target });
        } catch (error) {
          if (error instanceof CommandError) throw error;
          throw new CommandError('command-failed', `/${command.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
      },
    };
    if (command.usage !== undefined) spec.usage = command.usage;
    deps.commands.register(spec);
  }
}
