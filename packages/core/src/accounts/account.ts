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
  /** Stable id the core gave the account; every API takes it. */
  readonly id: string;
  /** The protocol plugin's id ("xmpp", "irc"). */
  readonly protocol: string;
  /** The account's user name on its protocol (a JID, a nick, a sign-in address). */
  readonly username: string;
  /** The name the user gave the account, for display. */
  readonly alias: string | undefined;
  /** Enabled accounts sign in at start (`connectEnabled`); a disabled one only when asked. */
  readonly enabled: boolean;
}

/**
 * Where an account's connection stands. `error`: it failed in a way that
 * needs the user (a fatal ConnectionError); `reconnecting`: the core waits to
 * try again by itself.
 */
export type ConnectionState = 'offline' | 'connecting' | 'online' | 'disconnecting' | 'reconnecting' | 'error';

/** An account's connection state with what goes with it; `accountStatusChanged` sends each change. */
export interface AccountStatus {
  /** Where the connection stands. */
  state: ConnectionState;
  /** While connecting: what the plugin is doing. */
  progress?: {
    /** The step, for people ("Authenticating"). */
    text: string;
    /** Which step this is, from 1, when the plugin counts them. */
    step?: number;
    /** How many steps there are, when the plugin counts them. */
    steps?: number;
  };
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
