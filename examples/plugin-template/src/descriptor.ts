import { definePluginDescriptor, portOption, serverOption } from '@parley/core';

/**
 * The plugin as it declares itself, written once: `npm run build` writes it
 * into the "parley" field of package.json, which a UI reads to draw the
 * account form before this package's code is imported.
 */
export const descriptor = definePluginDescriptor({
  kind: 'protocol',
  id: 'example',
  name: 'Example',
  coreApi: '^1.2.0',
  entry: './dist/index.js',
  usernameLabel: 'User name',
  options: {
    password: { kind: 'secret', label: 'Password', required: true },
    // The core's builders give the common shape; the option ids and defaults are the plugin's own.
    host: serverOption({ default: '127.0.0.1' }),
    port: portOption({ required: true }),
  },
  capabilities: { typing: true, statuses: ['available', 'away', 'offline'] },
  commands: [],
});
