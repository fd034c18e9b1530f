import { definePluginDescriptor } from '@parley/core';

/** The auto-reply plugin as it declares itself; the build writes it into package.json's "parley" field. */
export const descriptor = definePluginDescriptor({
  kind: 'feature',
  name: 'Auto-reply',
  coreApi: '^1.0.0',
  entry: './dist/index.js',
});
