/**
 * Rebuilds an error that crossed a boundary as plain data (a worker thread's
 * message port, the remote socket). The core's own classes come back as
 * themselves when the code belongs to the class; any other Parley error (a
 * plugin's IrcError, a class this side does not know) comes back as a
 * ParleyError with the same name, code and plain-data fields, so
 * `isParleyError(e, code)` and `e.name` hold on both sides.
 */
import { CommandError } from '../commands/registry.js';
import { ConversationError } from '../conversations/errors.js';
import { RemoteError } from '../remote/errors.js';
import { TransferError } from '../transfers/errors.js';
import { IconError } from '../buddies/icons.js';
import { CORE_ERROR_CODES, type CoreErrorCode } from './codes.js';
import { CONNECTION_REASONS, ConnectionError, type ConnectionErrorReason } from './ConnectionError.js';
import { ConfigError, HistoryError, MessageError, ParleyError, PluginError, SecretStoreError, type ErrorFieldValue } from './ParleyError.js';

type Options = { cause?: unknown } | undefined;
type Fields = Readonly<Record<string, unknown>>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Fields that are the error's identity, never copied from the wire onto it. */
const RESERVED = new Set(['name', 'code', 'message', 'stack', 'cause', 'constructor', '__proto__', 'prototype', 'kind']);

const BUILDERS: Record<string, (code: never, message: string, fields: Fields, options: Options) => ParleyError> = {
  ConfigError: (code, message, fields, options) => new ConfigError(code, message, str(fields.field), options),
  PluginError: (code, message, fields, options) => new PluginError(code, str(fields.plugin) ?? 'unknown', message, options),
  HistoryError: (code, message, _fields, options) => new HistoryError(code, message, options),
  SecretStoreError: (code, message, _fields, options) => new SecretStoreError(code, message, options),
  MessageError: (code, message, _fields, options) => new MessageError(code, message, options),
  CommandError: (code, message, _fields, options) => new CommandError(code, message, options),
  ConversationError: (code, message, _fields, options) => new ConversationError(code, message, options),
  // The class's name before it was renamed, as an older worker or owner may still send it.
  ConversationManagerError: (code, message, _fields, options) => new ConversationError(code, message, options),
  RemoteError: (code, message, _fields, options) => new RemoteError(code, message, options),
  TransferError: (code, message, _fields, options) => new TransferError(code, message, options),
  IconError: (code, message, _fields, options) => new IconError(code, message, options),
};

function classOwnsCode(name: string, code: string): boolean {
  if (!Object.hasOwn(CORE_ERROR_CODES, code)) return false;
  const owner = CORE_ERROR_CODES[code as CoreErrorCode].class;
  const canonical = name === 'ConversationManagerError' ? 'ConversationError' : name;
  return typeof owner === 'string' ? owner === canonical : owner.includes(canonical);
}

function reviveConnectionError(reason: ConnectionErrorReason, message: string, fields: Fields, options: Options): ConnectionError {
  const details: ConstructorParameters<typeof ConnectionError>[2] = { ...options };
  if (typeof fields.fatal === 'boolean') details.fatal = fields.fatal;
  if (typeof fields.serverText === 'string') details.serverText = fields.serverText;
  if (typeof fields.hint === 'string') details.hint = fields.hint;
  if (typeof fields.protocolDetail === 'string' || typeof fields.protocolDetail === 'number') details.protocolDetail = fields.protocolDetail;
  return new ConnectionError(reason, message, details);
}

/** A Parley error of a class this side does not have: same name, code and plain fields. */
function genericParleyError(name: string, code: string, message: string, fields: Fields, options: Options): ParleyError {
  const error = new ParleyError(code, message, options);
  copyErrorFields(error, fields);
  // The class it had on the other side, so logs and UIs still name it.
  Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  return error;
}

/** Copies plain-data fields from the wire onto an error, never over its own identity or fields. */
export function copyErrorFields(error: ParleyError, fields: Fields): void {
  for (const [key, value] of Object.entries(fields)) {
    if (RESERVED.has(key) || key in error) continue;
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      Object.defineProperty(error, key, { value: value as ErrorFieldValue, enumerable: true, writable: false, configurable: true });
    }
  }
}

/**
 * The error `name`/`code`/`message`/fields describe. Never throws and never
 * yields a class that does not own the code: a ConnectionError needs a
 * `connection-` code, a PluginError a plugin code; anything else is generic.
 */
export function reviveParleyError(name: string, code: string, message: string, fields: Fields, options?: Options): ParleyError {
  const reason = code.startsWith('connection-') ? code.slice('connection-'.length) : '';
  if (name === 'ConnectionError' && Object.hasOwn(CONNECTION_REASONS, reason)) return reviveConnectionError(reason as ConnectionErrorReason, message, fields, options);
  const build = Object.hasOwn(BUILDERS, name) ? BUILDERS[name] : undefined;
  if (build !== undefined && classOwnsCode(name, code)) {
    const error = build(code as never, message, fields, options);
    copyErrorFields(error, fields);
    return error;
  }
  return genericParleyError(name, code, message, fields, options);
}
