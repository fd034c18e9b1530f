import { CommandError } from '../commands/registry.js';
import { ConversationManagerError } from '../conversations/errors.js';
import { CONNECTION_REASONS, ConnectionError, type ConnectionErrorReason } from '../errors/ConnectionError.js';
import { ConfigError, HistoryError, MessageError, ParleyError, PluginError, SecretStoreError } from '../errors/ParleyError.js';

/**
 * An error as it crosses a thread boundary. Structured clone keeps neither
 * the class nor the `Symbol.for` brand, so an error travels as its class
 * name, code and fields, and is rebuilt as the same typed error on the other
 * side: a ConnectionError thrown in a plugin's worker is a ConnectionError
 * with the same reason in the core.
 */
export interface WireError {
  /** The ParleyError subclass, or "Error" for anything else. */
  kind: string;
  code?: string;
  message: string;
  stack?: string;
  reason?: string;
  fatal?: boolean;
  serverText?: string;
  hint?: string;
  protocolDetail?: string | number;
  plugin?: string;
  field?: string;
  cause?: WireError;
}

const MAX_CAUSE_DEPTH = 4;

export function toWireError(value: unknown, depth = 0): WireError {
  if (!(value instanceof Error) && !ParleyError.isParleyError(value)) return { kind: 'Error', message: String(value) };
  const error = value as Error & Partial<Record<'code' | 'reason' | 'serverText' | 'hint' | 'protocolDetail' | 'plugin' | 'field', unknown>> & { fatal?: unknown };
  const wire: WireError = { kind: ParleyError.isParleyError(value) ? error.name : 'Error', message: String(error.message) };
  if (typeof error.stack === 'string') wire.stack = error.stack;
  if (typeof error.code === 'string') wire.code = error.code;
  if (ConnectionError.is(value)) {
    wire.kind = 'ConnectionError';
    wire.reason = value.reason;
    wire.fatal = value.fatal;
    if (value.serverText !== undefined) wire.serverText = value.serverText;
    if (value.hint !== undefined) wire.hint = value.hint;
    if (value.protocolDetail !== undefined) wire.protocolDetail = value.protocolDetail;
  }
  if (typeof error.plugin === 'string') wire.plugin = error.plugin;
  if (typeof error.field === 'string') wire.field = error.field;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) wire.cause = toWireError(error.cause, depth + 1);
  return wire;
}

type Code<C extends abstract new (...args: never[]) => unknown> = ConstructorParameters<C>[0];

/** Rebuilds the typed error; an unknown kind or code becomes a plain Error with the same message, never a wrong type. */
export function fromWireError(wire: WireError): Error {
  const options = wire.cause === undefined ? undefined : { cause: fromWireError(wire.cause) };
  const code = wire.code ?? '';
  let error: Error;
  switch (wire.kind) {
    case 'ConnectionError': {
      const reason = (Object.hasOwn(CONNECTION_REASONS, wire.reason ?? '') ? wire.reason : 'other') as ConnectionErrorReason;
      const details: ConstructorParameters<typeof ConnectionError>[2] = { ...options };
      if (typeof wire.fatal === 'boolean') details.fatal = wire.fatal;
      if (wire.serverText !== undefined) details.serverText = wire.serverText;
      if (wire.hint !== undefined) details.hint = wire.hint;
      if (wire.protocolDetail !== undefined) details.protocolDetail = wire.protocolDetail;
      error = new ConnectionError(reason, wire.message, details);
      break;
    }
    case 'PluginError':
      error = new PluginError(code as Code<typeof PluginError>, wire.plugin ?? 'unknown', wire.message, options);
      break;
    case 'ConfigError':
      error = new ConfigError(code as Code<typeof ConfigError>, wire.message, wire.field, options);
      break;
    case 'MessageError':
      error = new MessageError(code as Code<typeof MessageError>, wire.message, options);
      break;
    case 'SecretStoreError':
      error = new SecretStoreError(code as Code<typeof SecretStoreError>, wire.message, options);
      break;
    case 'HistoryError':
      error = new HistoryError(code as Code<typeof HistoryError>, wire.message, options);
      break;
    case 'CommandError':
      error = new CommandError(code as Code<typeof CommandError>, wire.message, options);
      break;
    case 'ConversationManagerError':
      error = new ConversationManagerError(code as Code<typeof ConversationManagerError>, wire.message);
      break;
    default:
      // A ParleyError subclass this side does not know keeps its code; anything else is a plain Error.
      error = wire.code !== undefined && wire.kind !== 'Error' ? new ParleyError(wire.code, wire.message, options) : new Error(wire.message, options);
  }
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
