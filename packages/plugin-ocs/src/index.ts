/**
 * Parley's Microsoft Office Communications Server / Lync / Skype for
 * Business plugin (SIP/SIMPLE with Microsoft's extensions), on sip.js.
 */
import { CommandError, defineProtocolPlugin, withCommandHandlers, type ProtocolPlugin, type ProtocolPluginDescriptor } from '@parley/core';
import { OcsConnection, type OcsEnvironment } from './connection.js';
import { descriptor } from './descriptor.js';
import { validateSignInAddress } from './options.js';

export type { OcsEnvironment } from './connection.js';
export { OCS_ERROR_CODES, type OcsErrorCode } from './errors.js';
export { OcsInputError, peerAddress, type OcsInputErrorCode } from './address.js';

/** The plugin; `environment` changes ports and timeouts for tests. */
export function createOcsPlugin(environment: OcsEnvironment = {}): ProtocolPlugin {
  return defineProtocolPlugin({
    ...descriptor,
    validateUsername: validateSignInAddress,
    commands: withCommandHandlers(descriptor.commands, {
      async invite(args, { connection, target }) {
        const who = args.trim();
        if (who === '') return 'Usage: /invite <address>';
        if (target === undefined) throw new CommandError('command-not-applicable', 'Use /invite in a conversation');
        const room = await (connection as OcsConnection).inviteToConversation(target, who);
        return target.kind === 'im' ? `The conversation continues as a group conversation: ${room}` : `Invited ${who}`;
      },
      async conference(args, { connection }) {
        const room = await (connection as OcsConnection).createConference(args.trim());
        return `Started a group conversation: ${room}`;
      },
    }),
    createConnection: (context) => new OcsConnection(context, environment),
  });
}

/** The plugin with its real-world defaults: what the core loads for `@parley/plugin-ocs`. */
export const ocsPlugin = createOcsPlugin();
export default ocsPlugin;
/**
 * What the plugin declares about itself (options, capabilities and commands): the
 * source of the `parley` field the build writes into its package.json, typed
 * as the core's descriptor so its shape is documented in one place.
 */
const publicDescriptor: ProtocolPluginDescriptor = descriptor;
export { publicDescriptor as descriptor };
