import { definePluginDescriptor } from '@parley/core';
import { xmppOptions } from './options.js';

/** The XMPP plugin as it declares itself; the build writes it into package.json's "parley" field. */
export const descriptor = definePluginDescriptor({
  kind: 'protocol',
  id: 'xmpp',
  name: 'XMPP',
  coreApi: '^1.14.0',
  entry: './dist/index.js',
  usernameLabel: 'JID',
  options: xmppOptions,
  capabilities: { groupChat: true, typing: true, chatTyping: true, buddyManagement: true, offlineMessages: true, buddyInfo: true, statuses: ['available', 'away', 'busy', 'extended-away', 'invisible', 'offline'],
    fileTransfer: { send: true, receive: true, methods: ['http-upload', 'jingle-socks5', 'jingle-ibb'] },
  },
  commands: [
    { name: 'nick', help: '/nick <new nickname>: change your nickname in this room' },
    { name: 'kick', help: '/kick <nickname> [reason]: remove someone from this room (moderators)' },
  ],
});
