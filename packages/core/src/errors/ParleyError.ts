/**
 * Base of every error Parley raises. `code` is stable and meant for programs;
 * `message` is for people and may change.
 *
 * Plugins installed in their own directory can carry their own copy of
 * `@parley/core`, so `instanceof` is not reliable across packages: use the
 * static `is` guards, which test a brand shared through `Symbol.for`.
 */
const PARLEY_ERROR = Symbol.for('parley.error');

export class ParleyError extends Error {
  readonly code: string;
  readonly [PARLEY_ERROR] = true;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  static isParleyError(value: unknown): value is ParleyError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PARLEY_ERROR] === true;
  }
}

/** Settings that do not match a plugin's option schema, or a config file that cannot be read. */
export class ConfigError extends ParleyError {
  readonly field: string | undefined;
  constructor(code: 'invalid-settings' | 'invalid-config' | 'unknown-account' | 'unknown-protocol' | 'duplicate-account', message: string, field?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.field = field;
  }
}

/** A plugin that cannot be loaded, is incompatible, or failed inside a hook. */
export class PluginError extends ParleyError {
  readonly plugin: string;
  constructor(
    code: 'plugin-incompatible' | 'plugin-load-failed' | 'plugin-invalid-manifest' | 'plugin-hook-failed' | 'plugin-crashed' | 'plugin-disabled' | 'plugin-not-found',
    plugin: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.plugin = plugin;
  }
}

/** History database problems: corrupt file, locked by another process, failed write. */
export class HistoryError extends ParleyError {
  constructor(code: 'history-corrupt' | 'history-locked' | 'history-write-failed' | 'history-invalid-query', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Secret store problems: wrong passphrase, unreadable store, no passphrase available. */
export class SecretStoreError extends ParleyError {
  constructor(code: 'wrong-passphrase' | 'secret-store-corrupt' | 'passphrase-required' | 'secret-store-unavailable', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A message that could not be delivered. */
export class MessageError extends ParleyError {
  constructor(code: 'send-failed' | 'send-timeout' | 'not-supported' | 'no-route', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
