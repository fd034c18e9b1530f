import { definePluginDescriptor } from '@parley/core';

/** The auto-reply plugin as it declares itself; the build writes it into package.json's "parley" field. */
export const descriptor = definePluginDescriptor({
  /** A feature plugin: it answers through hooks and events, it adds no protocol. */
  kind: 'feature',
  /** Its name, and the key of its settings in the config file. */
  name: 'Auto-reply',
  /** The core API range it was written for. */
  coreApi: '^1.0.0',
  /** The module the core loads. */
  entry: './dist/index.js',
});
