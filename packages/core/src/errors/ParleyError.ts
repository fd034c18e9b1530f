/**
 * Base of every error Parley raises. `code` is stable and meant for programs;
 * `message` is for people and may change.
 *
 * Plugins installed in their own directory can carry their own copy of
 * `@parley/core`, and errors cross worker threads and sockets, so
 * `instanceof` is not reliable: use `isParleyError(e, code)`, which tests a
 * brand shared through `Symbol.for` and the code.
 */
import type {
  CommandErrorCode,
  ConfigErrorCode,
  ConnectionErrorCode,
  ConversationErrorCode,
  CoreErrorCode,
  HistoryErrorCode,
  MessageErrorCode,
  PluginErrorCode,
  RemoteErrorCode,
  SecretStoreErrorCode,
  TransferErrorCode,
} from './codes.js';

const PARLEY_ERROR = Symbol.for('parley.error');

/** A field an error carries as plain data (JSON and structured clone keep it). */
export type ErrorFieldValue = string | number | boolean;

/** An error as plain data: what `toJSON` returns and what crosses worker and socket boundaries. */
export interface ParleyErrorJSON {
  /** The class it was raised as ("ConnectionError", "IrcError"). */
  name: string;
  /** The stable code (see the package's *_ERROR_CODES list); what programs branch on. */
  code: string;
  /** The human-readable text; not stable, not to be parsed. */
  message: string;
  /** The class's own plain-data fields: a ConnectionError's reason, a PluginError's plugin. */
  [field: string]: unknown;
}

/**
 * The base of every error Parley and its plugins surface: a stable `code`
 * from a documented list (`CORE_ERROR_CODES`, a plugin's own list) that a
 * program can branch on, and a message for people. Check for one with
 * `isParleyError(e, code?)`, which also recognizes errors that crossed a
 * worker or socket boundary.
 */
export class ParleyError extends Error {
  /** The stable code, e.g. `connection-network`, `wrong-passphrase`. */
  readonly code: string;
  /** Marks Parley errors across copies of the core (see `isParleyError`). */
  readonly [PARLEY_ERROR] = true;

  /** `cause`: the underlying error, kept for logs and debugging but never serialized. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** @deprecated Use the function `isParleyError(value, code?)`. */
  static isParleyError(value: unknown): value is ParleyError {
    return isParleyError(value);
  }

  /**
   * Plain data: name, code, message and every field holding a string, number
   * or boolean. Stack and cause stay behind (they may say too much).
   */
  toJSON(): ParleyErrorJSON {
    const json: ParleyErrorJSON = { name: this.name, code: this.code, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (key in json || key === 'stack') continue;
      if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) json[key] = value;
    }
    return json;
  }
}

/** Settings that do not match a plugin's option schema, or a config file that cannot be read. */
export class ConfigError extends ParleyError {
  declare readonly code: ConfigErrorCode;
  /** The option or config key at fault ("port"), so a form can mark it; undefined when the whole file or set is. */
  readonly field: string | undefined;
  constructor(code: ConfigErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.field = field;
  }
}

/** A plugin that cannot be loaded, is incompatible, or failed inside a hook. */
export class PluginError extends ParleyError {
  declare readonly code: PluginErrorCode;
  /** The plugin's id or package name, as the user would find it in `parley plugins`. */
  readonly plugin: string;
  constructor(code: PluginErrorCode, plugin: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.plugin = plugin;
  }
}

/** History database problems: corrupt file, locked by another process, failed write. */
export class HistoryError extends ParleyError {
  declare readonly code: HistoryErrorCode;
  constructor(code: HistoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Secret store problems: wrong passphrase, unreadable store, no passphrase available. */
export class SecretStoreError extends ParleyError {
  declare readonly code: SecretStoreErrorCode;
  constructor(code: SecretStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A message that could not be delivered. */
export class MessageError extends ParleyError {
  declare readonly code: MessageErrorCode;
  constructor(code: MessageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The core's classes by code, so `isParleyError(e, 'plugin-crashed')` narrows
 * `e` to a PluginError. Any other code narrows to a ParleyError with that code.
 */
interface CoreErrorClasses {
  connection: [ConnectionErrorCode, import('./ConnectionError.js').ConnectionError];
  config: [ConfigErrorCode, ConfigError];
  plugin: [PluginErrorCode, PluginError];
  history: [HistoryErrorCode, HistoryError];
  secrets: [SecretStoreErrorCode, SecretStoreError];
  message: [MessageErrorCode, MessageError];
  command: [CommandErrorCode, import('../commands/registry.js').CommandError];
  conversation: [ConversationErrorCode, import('../conversations/errors.js').ConversationError];
  remote: [RemoteErrorCode, import('../remote/errors.js').RemoteError];
  transfer: [TransferErrorCode, import('../transfers/errors.js').TransferError];
}

/** The error type `isParleyError(value, code)` narrows to. */
export type ParleyErrorFor<C extends string> = C extends CoreErrorCode
  ?
      | { [K in keyof CoreErrorClasses]: C extends CoreErrorClasses[K][0] ? CoreErrorClasses[K][1] : never }[keyof CoreErrorClasses]
      | (C extends 'internal-error'
          ? ParleyError & {
              /** The code asked for. */
              readonly code: C;
            }
          : never)
  : ParleyError & {
      /** The code asked for: a plugin's own, narrowed to the literal. */
      readonly code: C;
    };

/**
 * The one check for Parley's errors: `isParleyError(e)` is any of them,
 * `isParleyError(e, 'connection-network')` one code, and
 * `isParleyError(e, ['plugin-crashed', 'plugin-disabled'])` any of several.
 * Works across copies of the core, worker threads and remote clients.
 */
export function isParleyError<C extends string = string>(value: unknown, code?: C | readonly C[]): value is ParleyErrorFor<C> {
  if (typeof value !== 'object' || value === null || (value as Record<symbol, unknown>)[PARLEY_ERROR] !== true) return false;
  if (code === undefined) return true;
  const actual = (value as { code?: unknown }).code;
  return typeof code === 'string' ? actual === code : (code as readonly string[]).includes(actual as string);
}
