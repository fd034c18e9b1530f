import type { Settings } from '../options/schema.js';

/** An account as stored: everything but its secrets. */
export interface AccountRecord {
  id: string;
  protocol: string;
  username: string;
  alias?: string;
  enabled: boolean;
  settings: Settings;
}

/** What plugins, hooks and UIs see of an account. */
export interface AccountInfo {
  readonly id: string;
  readonly protocol: string;
  readonly username: string;
  readonly alias: string | undefined;
  readonly enabled: boolean;
}

export type ConnectionState = 'offline' | 'connecting' | 'online' | 'disconnecting' | 'reconnecting' | 'error';

export interface AccountStatus {
  state: ConnectionState;
  /** While connecting: what the plugin is doing. */
  progress?: { text: string; step?: number; steps?: number };
  /** The last error; stays set in `error` state until the user acts. */
  error?: import('../errors/ConnectionError.js').ConnectionError;
  /** When `online`: how the plugin connected, when it said ("Kerberos, TLS"). */
  detail?: string;
  /** When `reconnecting`: the epoch ms of the next attempt. */
  nextAttemptAt?: number;
  /** While connecting: which attempt this is; when reconnecting: how many failed in a row (0 right after a drop). */
  attempt?: number;
}

export function accountInfo(record: AccountRecord): AccountInfo {
  return Object.freeze({
    id: record.id,
    protocol: record.protocol,
    username: record.username,
    alias: record.alias,
    enabled: record.enabled,
  });
}

/** "xmpp:alice@example.com" → parts; also accepts a bare id. */
export function parseAccountRef(ref: string): { protocol: string; username: string } | undefined {
  const colon = ref.indexOf(':');
  if (colon <= 0) return undefined;
  return { protocol: ref.slice(0, colon), username: ref.slice(colon + 1) };
}
