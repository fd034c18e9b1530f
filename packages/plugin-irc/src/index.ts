import { defineProtocolPlugin, type ConnectionContext, type ProtocolPlugin, type ProtocolPluginDescriptor } from '@parley/core';
import { ircCommands } from './commands.js';
import { IrcConnection } from './connection.js';
import { descriptor } from './descriptor.js';
import { OutgoingQueue } from './flood.js';
import { validateUsername } from './options.js';

/** Channel keys by account, kept while the process runs so a reconnect can rejoin keyed channels. */
const channelKeys = new Map<string, Map<string, string>>();

/** Outgoing lines by account: what waits for flood control goes out on the next link after a drop. */
const outgoingQueues = new Map<string, OutgoingQueue<IrcConnection>>();

function queueFor(context: ConnectionContext): OutgoingQueue<IrcConnection> {
  let queue = outgoingQueues.get(context.account.id);
  if (queue === undefined) {
    queue = new OutgoingQueue();
    outgoingQueues.set(context.account.id, queue);
  }
  return queue;
}

function keysFor(context: ConnectionContext): Map<string, string> {
  let keys = channelKeys.get(context.account.id);
  if (keys === undefined) {
    keys = new Map();
    channelKeys.set(context.account.id, keys);
  }
  return keys;
}

/** The plugin: what the core loads for `@parley/plugin-irc`. */
export const ircPlugin: ProtocolPlugin = defineProtocolPlugin({
  ...descriptor,
  validateUsername,
  commands: ircCommands,
  createConnection: (context) => new IrcConnection(context, keysFor(context), queueFor(context)),
});

export default ircPlugin;
/**
 * What the plugin declares about itself (options, capabilities and commands): the
 * source of the `parley` field the build writes into its package.json, typed
 * as the core's descriptor so its shape is documented in one place.
 */
const publicDescriptor: ProtocolPluginDescriptor = descriptor;
export { publicDescriptor as descriptor };
export { IrcError, IRC_ERROR_CODES, type IrcErrorCode } from './errors.js';
