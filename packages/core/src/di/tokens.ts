/**
 * Injection tokens for the core's services. An embedder replaces the history
 * store or the secret store by registering its own implementation under
 * `TOKENS.HistoryStore` / `TOKENS.SecretStore` on the container passed to
 * `createParley({ configure })` (docs/embedding.md, "Replacing a core
 * service"); the others are set through createParley's options.
 */
export const TOKENS = {
  Paths: Symbol.for('parley.Paths'),
  UiOps: Symbol.for('parley.UiOps'),
  HistoryStore: Symbol.for('parley.HistoryStore'),
  SecretStore: Symbol.for('parley.SecretStore'),
  LogSink: Symbol.for('parley.LogSink'),
  ReconnectPolicy: Symbol.for('parley.ReconnectPolicy'),
  Clock: Symbol.for('parley.Clock'),
} as const;
