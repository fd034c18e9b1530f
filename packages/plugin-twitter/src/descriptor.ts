import { definePluginDescriptor } from '@parley/core';
import { twitterOptions } from './options.js';

/** The X (Twitter) plugin as it declares itself; the build writes it into package.json's "parley" field. */
export const descriptor = definePluginDescriptor({
  kind: 'protocol',
  id: 'twitter',
  name: 'X (Twitter)',
  coreApi: '^1.14.0',
  entry: './dist/index.js',
  usernameLabel: 'X username (@handle)',
  options: twitterOptions,
  capabilities: { groupChat: true, formattedText: true, buddyInfo: true, statuses: ['available', 'offline'] },
  commands: [
    { name: 'reply', help: 'Replies to a post', usage: '<post id or link> <text>' },
    { name: 'like', help: 'Likes a post', usage: '<post id or link>' },
    { name: 'repost', help: 'Reposts a post to your followers', usage: '<post id or link>' },
  ],
});
