import { CommandError, defineProtocolPlugin, withCommandHandlers, type ProtocolPlugin, type ProtocolPluginDescriptor } from '@parley/core';
import { descriptor } from './descriptor.js';
import { parseAddress } from './address.js';
import { XmppConnection } from './connection.js';

export { ScramError, XMPP_ERROR_CODES, type ScramErrorCode } from './scram.js';

function roomArgs(args: string, target: { kind: string; room?: string } | undefined): { room: string; rest: string } {
  if (target?.kind !== 'chat' || target.room === undefined) throw new CommandError('command-not-applicable', 'Use this command in a group chat');
  return { room: target.room, rest: args.trim() };
}

/** XMPP (Jabber): any server, several accounts side by side. */
export const xmppPlugin: ProtocolPlugin = defineProtocolPlugin({
  ...descriptor,
  validateUsername(username) {
    const jid = parseAddress(username);
    if (jid === undefined || jid.local === '') return 'Enter a JID like name@example.org';
    if (jid.resource !== '') return 'Leave the resource out of the JID (set it under Resource)';
    return undefined;
  },
  commands: withCommandHandlers(descriptor.commands, {
    async nick(args, { connection, target }) {
      const { room, rest } = roomArgs(args, target);
      if (rest === '') return 'Usage: /nick <new nickname>';
      await (connection as XmppConnection).muc.changeNick(room, rest);
    },
    async kick(args, { connection, target }) {
      const { room, rest } = roomArgs(args, target);
      const [nick, ...reason] = rest.split(/\s+/);
      if (nick === undefined || nick === '') return 'Usage: /kick <nickname> [reason]';
      await (connection as XmppConnection).muc.kick(room, nick, reason.join(' '));
    },
  }),
  createConnection(context) {
    return new XmppConnection(context);
  },
});

export default xmppPlugin;
/**
 * What the plugin declares about itself (options, capabilities and commands): the
 * source of the `parley` field the build writes into its package.json, typed
 * as the core's descriptor so its shape is documented in one place.
 */
const publicDescriptor: ProtocolPluginDescriptor = descriptor;
export { publicDescriptor as descriptor };
