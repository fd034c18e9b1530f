import type { ParleyOptions, Settings } from '@parley/core';

/** One account on the plugin's test server, as the suite should add it to a Parley. */
export interface ConformanceAccount {
  /** The account's user name, as `parley.accounts.add` takes it. */
  username: string;
  /** Its settings (server, port, TLS…), validated against the plugin's schema. */
  settings?: Settings;
  /** Secret options (e.g. `{ password }`): the suite checks that none of them reaches a log. */
  secrets?: Record<string, string>;
  /** How peers name this account: the sender of its IMs and the peer to write to. Default: `username`. */
  address?: string;
  /** Its name in a group chat (nick), where that differs from `address`. */
  chatName?: string;
}

/**
 * The roles the suite asks for: `main` and `peer` can write to each other
 * (and, with group chat, meet in `room()`); `wrongPassword` is an account the
 * server knows, with a wrong password.
 */
export type AccountRole = 'main' | 'peer' | 'wrongPassword';

/** What a plugin's own test setup tells the suite. */
export interface ConformanceHarness {
  /** Starts the plugin's test server (before the first test). */
  start(): Promise<void>;
  /** Stops it (after the last test). */
  stop(): Promise<void>;
  /**
   * An account for `role`. Called once per test, so a harness can hand out
   * fresh names (a nick still in use by the last test's connection) or
   * fresh tokens; the same description each time is fine too.
   */
  account(role: AccountRole): ConformanceAccount | Promise<ConformanceAccount>;
  /** More createParley options: the test CA (`tls.ca`), DNS servers. */
  parleyOptions?(): Partial<ParleyOptions>;
  /**
   * Cuts `account`'s connection from the server side (restart the server,
   * kill the connection, make the server drop a request) and resolves once
   * a new connection can succeed.
   */
  interrupt(account: ConformanceAccount): Promise<void>;
  /** A group chat both `main` and `peer` can join; needed when the plugin declares `groupChat`. */
  room?(): string | Promise<string>;
  /**
   * Sends malformed and hostile input to `account`'s connection from the
   * server side (bytes that are not the protocol, broken encodings, huge
   * fields, half messages). Resolves when it was sent; the suite then checks
   * the account is still online and `peer`'s next message still arrives.
   */
  injectBadInput?(account: ConformanceAccount, peer: ConformanceAccount): Promise<void>;
  /**
   * For protocols where peers see a status only on request (an IRC WHOIS):
   * asks the server whether `account` shows `status` now. Without it the
   * suite checks statuses through the peer's buddy list.
   */
  statusSeenByServer?(account: ConformanceAccount, status: string): Promise<boolean>;
  /** How long to wait for one thing to happen before a test fails (default 15 000 ms). */
  timeoutMs?: number;
}
