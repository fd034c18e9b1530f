import { definePluginDescriptor } from '@parley/core';
import { ocsOptions } from './options.js';

/** The OCS plugin as it declares itself; the build writes it into package.json's "parley" field. */
export const descriptor = definePluginDescriptor({
  kind: 'protocol',
  id: 'ocs',
  name: 'Office Communicator / Lync / Skype for Business',
  coreApi: '^1.14.0',
  entry: './dist/index.js',
  usernameLabel: 'Sign-in address',
  options: ocsOptions,
  capabilities: { groupChat: true, typing: true, chatTyping: true, buddyManagement: true, formattedText: true, statuses: ['available', 'away', 'busy', 'extended-away', 'invisible', 'offline'] },
  commands: [
    { name: 'invite', usage: '<address>', help: '/invite <address>: add someone to this conversation (a one-to-one conversation becomes a group conversation)' },
    { name: 'conference', usage: '[subject]', help: '/conference [subject]: start a new group conversation; /join conf:sip:… joins one by its address' },
  ],
});
