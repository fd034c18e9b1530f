/** The X (Twitter) API v2 as conversations: Timeline and Mentions chats, DMs, followed accounts. */
import { defineProtocolPlugin, type ProtocolPlugin, type ProtocolPluginDescriptor } from '@parley/core';
import { commands } from './commands.js';
import { TwitterConnection } from './connection.js';
import { normalizeHandle } from './ids.js';
import { descriptor } from './descriptor.js';

/** The plugin: what the core loads for `@parley/plugin-twitter`. */
export const twitterPlugin: ProtocolPlugin = defineProtocolPlugin({
  ...descriptor,
  validateUsername(username) {
    return normalizeHandle(username) === undefined ? 'An X username has 1 to 15 letters, digits or underscores' : undefined;
  },
  commands,
  createConnection: (context) => new TwitterConnection(context),
});

export default twitterPlugin;
/**
 * What the plugin declares about itself (options, capabilities and commands): the
 * source of the `parley` field the build writes into its package.json, typed
 * as the core's descriptor so its shape is documented in one place.
 */
const publicDescriptor: ProtocolPluginDescriptor = descriptor;
export { publicDescriptor as descriptor };
export { XApiError, X_ERROR_CODES, type XFailureKind, type XErrorCode } from './errors.js';
