import { defineProtocolPlugin } from '@parley/core';
import { ExampleConnection } from './connection.js';
import { descriptor } from './descriptor.js';

/** The Example protocol plugin. The core imports this module's default export. */
export const examplePlugin = defineProtocolPlugin({
  ...descriptor,
  validateUsername: (username) => (/^[a-z0-9_-]{1,32}$/i.test(username) ? undefined : 'Letters, digits, "_" and "-", at most 32'),
  createConnection: (context) => new ExampleConnection(context),
});

export default examplePlugin;
export { descriptor } from './descriptor.js';
