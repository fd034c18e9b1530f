import { definePluginDescriptor } from '@parley/core';
import { ocsOptions } from './options.js';

/** The OCS plugin as it declares itself; the build writes it into package.json's "parley" field. */
export const descriptor = definePluginDescriptor({
  kind: 'protocol',
  id: 'ocs',
  name: 'Office Communicator / Lync / Skype for Business',
  coreApi: '^1.3.0',
  entry: './dist/index.js',
  usernameLabel: 'Sign-in address',
  options: ocsOptions,
  capabilities: { groupChat: false, typing: true, buddyManagement: true, formattedText: true, statuses: ['available', 'away', 'busy', 'extended-away', 'invisible', 'offline'] },
  commands: [],
});
