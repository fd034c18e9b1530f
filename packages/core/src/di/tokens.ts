/**
 * Injection tokens for the core's services. An embedder replaces the history
 * store or the secret store by registering its own implementation under
 * `TOKENS.HistoryStore` / `TOKENS.SecretStore` on the container passed to
 * `createParley({ configure })` (docs/embedding.md, "Replacing a core
 * service"); the others are set through createParley's options.
 */
export const TOKENS = {
  /** The `ParleyPaths` in use (from `home` or the XDG directories); set by the core. */
  Paths: Symbol.for('parley.Paths'),
  /** The `UiOps`; set from the `ui` option. */
  UiOps: Symbol.for('parley.UiOps'),
  /** The `HistoryStore`: register your own implementation here to replace SQLite. */
  HistoryStore: Symbol.for('parley.HistoryStore'),
  /** The `SecretStore`: register your own implementation here (or pass one as the `secretStore` option). */
  SecretStore: Symbol.for('parley.SecretStore'),
  /** The `LogSink`; set from the `log` option. */
  LogSink: Symbol.for('parley.LogSink'),
  /** The reconnect policy; set from the `reconnect` option. */
  ReconnectPolicy: Symbol.for('parley.ReconnectPolicy'),
  /** Reserved: nothing registers or reads it yet. */
  Clock: Symbol.for('parley.Clock'),
} as const;
