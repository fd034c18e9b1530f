import { isParleyError } from '../errors/ParleyError.js';
import { reviveParleyError } from '../errors/revive.js';

/**
 * An error as it crosses a thread boundary. Structured clone keeps neither
 * the class nor the `Symbol.for` brand, so a Parley error travels as its
 * `toJSON()` (class name, code, plain-data fields) and is rebuilt on the
 * other side: a ConnectionError thrown in a plugin's worker is a
 * ConnectionError with the same reason in the core; a plugin's own class
 * (IrcError) arrives as a ParleyError with the same name, code and fields.
 */
export interface WireError {
  /** The ParleyError subclass, or "Error" for anything else. */
  kind: string;
  code?: string;
  message: string;
  stack?: string;
  cause?: WireError;
  /** The error's plain-data fields (reason, fatal, serverText, plugin, numeric…). */
  [field: string]: unknown;
}

const MAX_CAUSE_DEPTH = 4;

export function toWireError(value: unknown, depth = 0): WireError {
  let wire: WireError;
  if (isParleyError(value)) {
    const { name, ...fields } = value.toJSON();
    wire = { ...fields, kind: name, code: value.code, message: value.message };
  } else if (value instanceof Error) {
    wire = { kind: 'Error', message: String(value.message) };
  } else {
    return { kind: 'Error', message: String(value) };
  }
  const error = value as Error;
  if (typeof error.stack === 'string') wire.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) wire.cause = toWireError(error.cause, depth + 1);
  return wire;
}

/** Rebuilds the typed error; data that names no Parley error becomes a plain Error with the same message, never a wrong type. */
export function fromWireError(wire: WireError): Error {
  const options = wire.cause === undefined || typeof wire.cause !== 'object' || wire.cause === null ? undefined : { cause: fromWireError(wire.cause) };
  const message = String(wire.message);
  const error =
    typeof wire.code === 'string' && typeof wire.kind === 'string' && wire.kind !== 'Error'
      ? reviveParleyError(wire.kind, wire.code, message, wire, options)
      : new Error(message, options);
  if (typeof wire.stack === 'string') error.stack = wire.stack;
  return error;
}
