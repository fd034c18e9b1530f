/**
 * Plain data across the socket: what JSON cannot carry is tagged. A Map
 * becomes `{ "$map": [[key, value], …] }`; an error becomes
 * `{ "$error": { name, code, message, …its fields } }` and is rebuilt on the
 * other side as a ParleyError of the same code (a ConnectionError with its
 * reason, fatality, server text and hint), so programs still tell errors
 * apart by `code`. Stack traces and causes never cross.
 */
import { isParleyError, ParleyError } from '../errors/ParleyError.js';
import { copyErrorFields, reviveParleyError } from '../errors/revive.js';

/** A Parley error as it crosses the socket: its class name, code, message and plain-data fields. */
export interface WireError {
  /** The class name on the side that raised it ("ConnectionError", a plugin's own). */
  name: string;
  /** The error's code, as `isParleyError` checks it. */
  code: string;
  /** The text for the user. */
  message: string;
  [field: string]: unknown;
}

export function errorToWire(error: unknown): WireError {
  if (isParleyError(error)) return error.toJSON();
  // Anything else is an internal failure: its text may say too much, its class nothing useful.
  return { name: 'Error', code: 'internal-error', message: error instanceof Error ? error.message : String(error) };
}

/**
 * A Parley error received from the other side whose class this side does not
 * have (a plugin's own class): it keeps the name, code and plain-data fields
 * it had there; `remoteName` is that class's name.
 */
export class RemoteParleyError extends ParleyError {
  /** The class name the error had on the other side. */
  readonly remoteName: string;
  /** The option at fault, when the original error named one (as `ConfigError.field`). */
  readonly field: string | undefined;
  /** The plugin at fault, when the original error named one (as `PluginError.plugin`). */
  readonly plugin: string | undefined;
  constructor(wire: WireError) {
    super(wire.code, wire.message);
    this.remoteName = wire.name;
    this.field = typeof wire.field === 'string' ? wire.field : undefined;
    this.plugin = typeof wire.plugin === 'string' ? wire.plugin : undefined;
    copyErrorFields(this, wire);
    Object.defineProperty(this, 'name', { value: wire.name, writable: true, configurable: true, enumerable: false });
  }
}

/** The core's classes come back as themselves; any other as a RemoteParleyError. */
export function errorFromWire(wire: WireError): ParleyError {
  const error = reviveParleyError(wire.name, wire.code, wire.message, wire);
  return error.constructor === ParleyError ? new RemoteParleyError(wire) : error;
}

function isWireError(value: unknown): value is WireError {
  const v = value as Partial<WireError> | null;
  return typeof v === 'object' && v !== null && typeof v.code === 'string' && typeof v.message === 'string' && typeof v.name === 'string';
}

/** Converts a value for JSON: Maps and errors tagged, functions and undefined dropped. */
export function toWire(value: unknown, depth = 0): unknown {
  if (depth > 64) return null;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'undefined' || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return undefined;
  if (value instanceof Error) return { $error: errorToWire(value) };
  if (value instanceof Map) return { $map: [...value.entries()].map(([k, v]) => [toWire(k, depth + 1), toWire(v, depth + 1)]) };
  if (value instanceof Set) return [...value].map((v) => toWire(v, depth + 1));
  if (Array.isArray(value)) return value.map((v) => toWire(v, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const converted = toWire(v, depth + 1);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

/** The inverse of toWire: tagged Maps and errors rebuilt. */
export function fromWire(value: unknown, depth = 0): unknown {
  if (depth > 64 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => fromWire(v, depth + 1));
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === '$error' && isWireError(record.$error)) return errorFromWire(record.$error);
  if (keys.length === 1 && keys[0] === '$map' && Array.isArray(record.$map)) {
    return new Map(record.$map.filter((e): e is [unknown, unknown] => Array.isArray(e) && e.length === 2).map(([k, v]) => [fromWire(k, depth + 1), fromWire(v, depth + 1)]));
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = fromWire(record[key], depth + 1);
  return out;
}
