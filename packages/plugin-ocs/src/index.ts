/**
 * Parley's Microsoft Office Communications Server / Lync / Skype for
 * Business plugin (SIP/SIMPLE with Microsoft's extensions), on sip.js.
 */
import { defineProtocolPlugin, type ProtocolPlugin } from '@parley/core';
import { OcsConnection, type OcsEnvironment } from './connection.js';
import { descriptor } from './descriptor.js';
import { validateSignInAddress } from './options.js';

export { DEFAULT_USER_AGENT, USER_AGENT_PRESETS } from './options.js';
export type { OcsEnvironment } from './connection.js';
export { OCS_ERROR_CODES, type OcsErrorCode } from './errors.js';
export { OcsInputError, peerAddress, type OcsInputErrorCode } from './address.js';

/** The plugin; `environment` changes ports and timeouts for tests. */
export function createOcsPlugin(environment: OcsEnvironment = {}): ProtocolPlugin {
  return defineProtocolPlugin({
    ...descriptor,
    validateUsername: validateSignInAddress,
    createConnection: (context) => new OcsConnection(context, environment),
  });
}

export const ocsPlugin = createOcsPlugin();
export default ocsPlugin;
export { descriptor } from './descriptor.js';
