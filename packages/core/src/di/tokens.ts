/**
 * Injection tokens for the core's replaceable services. An embedder can
 * register its own implementation of any of them on the container passed to
 * `createParley({ configure })` before the core resolves it.
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
