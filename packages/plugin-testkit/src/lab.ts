import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParley, type AccountStatus, type ConversationInfo, type LogRecord, type Message, type Parley, type ProtocolPlugin } from '@parley/core';
import type { AccountRole, ConformanceAccount, ConformanceHarness } from './harness.js';
import { record } from './wait.js';

/** Retry quickly so reconnects happen within a test, but not so fast that a loop would go unnoticed. */
export const SUITE_RECONNECT = { initialDelayMs: 200, maxDelayMs: 1_000, factor: 2, jitter: 0 };

/** One account in its own Parley, as a separate user on a separate machine would have it. */
export interface Client {
  readonly parley: Parley;
  readonly account: ConformanceAccount;
  readonly accountId: string;
  readonly home: string;
  /** Every status change of the account since the client was made. */
  readonly statuses: AccountStatus[];
  readonly received: Array<[Message, ConversationInfo]>;
  /** How peers name this account. */
  readonly address: string;
  connect(): Promise<void>;
}

/**
 * What the tests of one suite share: the plugin, the harness, every log
 * record written by any Parley the suite made, and every secret handed out,
 * so the last test can look for secrets in the logs of all the others.
 */
export class Lab {
  readonly logs: LogRecord[] = [];
  readonly secrets = new Set<string>();
  private readonly homes: string[] = [];
  private clients: Client[] = [];

  constructor(
    readonly plugin: ProtocolPlugin,
    readonly harness: ConformanceHarness,
    /** The plugin's built module: the plugin then runs in a worker thread. */
    readonly module?: string,
  ) {}

  get timeout(): number {
    return this.harness.timeoutMs ?? 15_000;
  }

  async account(role: AccountRole): Promise<ConformanceAccount> {
    const account = await this.harness.account(role);
    for (const value of Object.values(account.secrets ?? {})) if (value !== '') this.secrets.add(value);
    return account;
  }

  /** A new Parley with the plugin and one account for `role` (not connected yet). */
  async client(role: AccountRole | ConformanceAccount): Promise<Client> {
    const account = typeof role === 'string' ? await this.account(role) : role;
    const home = mkdtempSync(join(tmpdir(), 'parley-conformance-'));
    this.homes.push(home);
    const extra = this.harness.parleyOptions?.() ?? {};
    const parley = await createParley({
      passphrase: 'conformance suite passphrase',
      secretStore: 'file',
      discover: false,
      ...extra,
      home,
      // Received files stay in the client's home, removed with it.
      transfers: { downloadDir: join(home, 'Downloads'), ...extra.transfers },
      ...(this.module === undefined
        ? { plugins: [this.plugin, ...(extra.plugins ?? [])] }
        : { plugins: [...(extra.plugins ?? [])], pluginModules: [this.module, ...(extra.pluginModules ?? [])], isolation: 'worker' as const }),
      reconnect: { ...SUITE_RECONNECT, ...extra.reconnect },
      // Every record, debug included: the secrets test reads them all.
      log: (entry) => {
        this.logs.push(entry);
        extra.log?.(entry);
      },
    });
    const statuses: AccountStatus[] = [];
    const added = await parley.accounts.add({
      protocol: this.plugin.id,
      username: account.username,
      ...(account.settings === undefined ? {} : { settings: account.settings }),
      ...(account.secrets === undefined ? {} : { secrets: account.secrets }),
    });
    parley.events.on('accountStatusChanged', (acc, status) => {
      if (acc.id === added.id) statuses.push({ ...status });
    });
    const client: Client = {
      parley,
      account,
      accountId: added.id,
      home,
      statuses,
      received: record(parley.events, 'messageReceived'),
      address: account.address ?? account.username,
      connect: () => parley.accounts.connect(added.id),
    };
    this.clients.push(client);
    return client;
  }

  /** Signs every client of the last test off and removes their files. */
  async cleanup(): Promise<void> {
    const clients = this.clients;
    this.clients = [];
    await Promise.all(clients.map((c) => c.parley.shutdown().catch(() => undefined)));
  }

  /** After the suite: the homes too (kept until then for the secrets scan). */
  removeHomes(): void {
    for (const home of this.homes.splice(0)) rmSync(home, { recursive: true, force: true });
  }

  allHomes(): readonly string[] {
    return this.homes;
  }
}

/** Names compare without case: most protocols fold them. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
