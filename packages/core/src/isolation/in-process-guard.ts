import { AsyncLocalStorage } from 'node:async_hooks';
import type { ConnectionContext, ProtocolConnection, ProtocolPlugin } from '../plugins/contract.js';
import { CONNECTION_METHODS } from './worker-protocol.js';

/** Whose code is running: set around everything a plugin runs in process, inherited by its callbacks. */
export interface PluginScope {
  plugin: ProtocolPlugin;
  /** Reports a fault traced to this plugin; the owner disconnects its accounts. */
  fault(error: unknown): void;
}

const scope = new AsyncLocalStorage<PluginScope>();
let installed = false;

/** Exit code when an error cannot be traced to a plugin: the core's state is unknown, so it does not go on. */
export const UNTRACED_FAULT_EXIT_CODE = 70;

function onFault(error: unknown): void {
  const owner = scope.getStore();
  if (owner !== undefined) {
    owner.fault(error);
    return;
  }
  // Someone else (the embedder, a test runner) handles these: leave it to them.
  if (process.listenerCount('uncaughtException') > 1 || process.listenerCount('unhandledRejection') > 1) return;
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`parley: an error that no plugin can be blamed for; stopping rather than going on in an unknown state:\n${detail}\n`);
  process.exit(UNTRACED_FAULT_EXIT_CODE);
}

/**
 * The safety net of in-process plugins: an exception or rejection that
 * escapes a plugin's callbacks is traced to the plugin through
 * AsyncLocalStorage (sockets and timers a plugin creates carry its scope)
 * and handed to its owner instead of ending the process.
 */
function install(): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);
}

/** Creates the connection inside the plugin's scope, and runs each of its methods there too. */
export function guardedConnection(plugin: ProtocolPlugin, context: ConnectionContext, owner: PluginScope): ProtocolConnection {
  install();
  const connection = scope.run(owner, () => plugin.createConnection(context));
  const guarded: Record<string, unknown> = {};
  for (const method of CONNECTION_METHODS) {
    const fn = (connection as unknown as Record<string, unknown>)[method];
    if (typeof fn === 'function') guarded[method] = (...args: unknown[]) => scope.run(owner, () => (fn as (...a: unknown[]) => unknown).apply(connection, args));
  }
  // The object itself stays reachable for the plugin's own commands, which downcast it.
  Object.defineProperty(guarded, 'unguarded', { value: connection });
  return guarded as unknown as ProtocolConnection;
}

/** The plugin's own connection object behind a guarded one (commands downcast it). */
export function unguarded(connection: ProtocolConnection): ProtocolConnection {
  return (connection as { unguarded?: ProtocolConnection }).unguarded ?? connection;
}

/** Runs a plugin command in the plugin's scope. */
export function inScope<T>(owner: PluginScope, fn: () => T): T {
  return scope.run(owner, fn);
}
