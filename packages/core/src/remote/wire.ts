/**
 * Plain data across the socket: what JSON cannot carry is tagged. A Map
 * becomes `{ "$map": [[key, value], …] }`; an error becomes
 * `{ "$error": { name, code, message, …its fields } }` and is rebuilt on the
 * other side as a ParleyError of the same code (a ConnectionError with its
 * reason, fatality, server text and hint), so programs still tell errors
 * apart by `code`. Stack traces and causes never cross.
 */
import { ConnectionError, CONNECTION_REASONS, type ConnectionErrorReason } from '../errors/ConnectionError.js';
import { ParleyError } from '../errors/ParleyError.js';

export interface WireError {
  name: string;
  code: string;
  message: string;
  [field: string]: unknown;
}

/** Fields of Parley's error classes that are plain data worth carrying. */
const ERROR_FIELDS = ['reason', 'fatal', 'serverText', 'hint', 'protocolDetail', 'field', 'plugin'] as const;

export function errorToWire(error: unknown): WireError {
  if (ParleyError.isParleyError(error)) {
    const wire: WireError = { name: error.name, code: error.code, message: error.message };
    const fields = error as unknown as Record<string, unknown>;
    for (const key of ERROR_FIELDS) {
      const value = fields[key];
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') wire[key] = value;
    }
    return wire;
  }
  // Anything else is an internal failure: its text may say too much, its class nothing useful.
  return { name: 'Error', code: 'internal-error', message: error instanceof Error ? error.message : String(error) };
}

/** A ParleyError received from the other side; `name` is the class it had there. */
export class RemoteParleyError extends ParleyError {
  readonly remoteName: string;
  readonly field: string | undefined;
  readonly plugin: string | undefined;
  constructor(wire: WireError) {
    super(wire.code, wire.message);
    this.remoteName = wire.name;
    this.field = typeof wire.field === 'string' ? wire.field : undefined;
    this.plugin = typeof wire.plugin === 'string' ? wire.plugin : undefined;
  }
}

export function errorFromWire(wire: WireError): ParleyError {
  if (typeof wire.reason === 'string' && wire.reason in CONNECTION_REASONS && wire.code === `connection-${wire.reason}`) {
    return new ConnectionError(wire.reason as ConnectionErrorReason, wire.message, {
      ...(typeof wire.serverText === 'string' ? { serverText: wire.serverText } : {}),
      ...(typeof wire.hint === 'string' ? { hint: wire.hint } : {}),
      ...(typeof wire.protocolDetail === 'string' || typeof wire.protocolDetail === 'number' ? { protocolDetail: wire.protocolDetail } : {}),
      ...(typeof wire.fatal === 'boolean' ? { fatal: wire.fatal } : {}),
    });
  }
  return new RemoteParleyError(wire);
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
