import { randomBytes } from 'node:crypto';
import { ConfigError, ParleyError, SecretStoreError } from '../errors/ParleyError.js';
import { ConnectionError } from '../errors/ConnectionError.js';
import { validateSettings, missingRequired } from '../options/validate.js';
import { separateProxyPassword } from '../net/account-options.js';
import type { ParleyEvents } from '../events/events.js';
import type { ParleyHooks } from '../hooks/hooks.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { StateStore } from '../storage/state-store.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ProtocolConnection, ProtocolPlugin, Target } from '../plugins/contract.js';
import type { Redactor, Logger } from '../util/logger.js';
import { AccountRuntime } from '../connection/account-runtime.js';
import type { ReconnectPolicy } from '../connection/reconnect-policy.js';
import { accountInfo, parseAccountRef, type AccountInfo, type AccountRecord, type AccountStatus } from './account.js';
import type { AccountStore } from './account-store.js';
import type { SettingValue } from '../options/schema.js';
import type { OutgoingMessage, TypingState } from '../conversations/message.js';

/** What `parley.accounts.add` takes. */
export interface NewAccount {
  /** The protocol plugin's id ("xmpp"). */
  protocol: string;
  /** The user name on that protocol; the plugin's `validateUsername` checks it. */
  username: string;
  /** A name for the account, for display. */
  alias?: string;
  /** Signed in at start (`connectEnabled`); default true. */
  enabled?: boolean;
  /** Raw settings; validated against the protocol's option schema. Secret options may be given here too. */
  settings?: Readonly<Record<string, unknown>>;
  /** Secret options ("password") by key; they go to the secret store, never to the account file. */
  secrets?: Readonly<Record<string, string>>;
}

/** What `parley.accounts.update` takes; fields left out stay as they are. */
export interface AccountChanges {
  /** A new display name; `null` removes it. */
  alias?: string | null;
  /** Turns signing in at start on or off; false also signs the account off now. */
  enabled?: boolean;
  /** Merged into the current settings; `null` resets a setting to its default. */
  settings?: Readonly<Record<string, unknown>>;
  /** Secret options to set; `null` deletes one from the secret store. */
  secrets?: Readonly<Record<string, string | null>>;
}

/** Builds the per-attempt plugin context; lives in the Parley wiring, which knows every service. */
export type ContextFactory = (account: AccountRecord, runtime: AccountRuntime, generation: number, signal: AbortSignal, plugin: ProtocolPlugin) => ProtocolConnection;

export interface AccountManagerDeps {
  store: AccountStore;
  secrets: SecretStore;
  state: StateStore;
  registry: PluginRegistry;
  hooks: ParleyHooks;
  events: ParleyEvents;
  policy: ReconnectPolicy;
  redactor: Redactor;
  log: Logger;
  openConnection: ContextFactory;
  whenOnline(account: AccountInfo, connection: ProtocolConnection): Promise<void>;
  whenOffline(account: AccountInfo, error: ConnectionError | undefined, willRetry: boolean): void;
}

/**
 * Accounts: their records, secrets and one runtime each. Several accounts of
 * one protocol share nothing but the plugin's code.
 */
export class AccountManager {
  private readonly runtimes = new Map<string, AccountRuntime>();

  constructor(private readonly deps: AccountManagerDeps) {}

  list(): AccountInfo[] {
    return this.deps.store.all().map(accountInfo);
  }

  /** By id, or `protocol:username`. */
  resolve(ref: string): AccountRecord {
    const byId = this.deps.store.get(ref);
    if (byId !== undefined) return byId;
    const parts = parseAccountRef(ref);
    const found = parts === undefined ? undefined : this.deps.store.all().find((r) => r.protocol === parts.protocol && r.username.toLowerCase() === parts.username.toLowerCase());
    if (found === undefined) throw new ConfigError('unknown-account', `No account "${ref}"`);
    return found;
  }

  get(ref: string): AccountInfo {
    return accountInfo(this.resolve(ref));
  }

  settings(ref: string): Readonly<Record<string, SettingValue>> {
    return this.resolve(ref).settings;
  }

  private schemaOf(protocol: string) {
    const descriptor = this.deps.registry.protocol(protocol);
    if (descriptor === undefined) {
      const refusal = this.deps.registry.refusal(protocol);
      if (refusal !== undefined) throw new ConfigError('unknown-protocol', refusal.message);
      throw new ConfigError('unknown-protocol', `Unknown protocol "${protocol}": no installed plugin provides it (installed: ${this.deps.registry.protocols().map((p) => p.id).join(', ') || 'none'})`);
    }
    return descriptor.options;
  }

  async add(input: NewAccount): Promise<AccountInfo> {
    const schema = this.schemaOf(input.protocol);
    if (typeof input.username !== 'string' || input.username.trim() === '' || /[\u0000-\u001f\u007f]/.test(input.username) || input.username.length > 1024) {
      throw new ConfigError('invalid-settings', 'The username must be non-empty text without control characters', 'username');
    }
    const username = input.username.trim();
    if (this.deps.store.all().some((r) => r.protocol === input.protocol && r.username.toLowerCase() === username.toLowerCase())) {
      throw new ConfigError('duplicate-account', `There is already a ${input.protocol} account ${username}`);
    }
    await this.checkUsername(input.protocol, username);
    const { settings, secrets } = separateProxyPassword(validateSettings(schema, input.settings ?? {}));
    const allSecrets = { ...secrets, ...this.checkSecrets(schema, input.secrets ?? {}) };
    const record: AccountRecord = {
      id: `${input.protocol}-${randomBytes(4).toString('hex')}`,
      protocol: input.protocol,
      username,
      enabled: input.enabled ?? true,
      settings,
    };
    if (input.alias !== undefined && input.alias !== '') record.alias = input.alias;
    // Secrets first: an account on disk without its password would be half-made.
    for (const [key, value] of Object.entries(allSecrets)) {
      this.deps.redactor.add(value);
      await this.deps.secrets.set(record.id, key, value);
    }
    this.deps.store.put(record);
    const info = accountInfo(record);
    this.deps.events.emit('accountAdded', info);
    return info;
  }

  /**
   * Asks the plugin whether the username is valid. Adding an account is rare,
   * so loading the plugin's code for it is fine; a plugin that cannot load
   * is reported when the account connects instead.
   */
  private async checkUsername(protocol: string, username: string): Promise<void> {
    let plugin: ProtocolPlugin;
    try {
      plugin = await this.deps.registry.loadProtocol(protocol);
    } catch {
      return;
    }
    let problem: string | undefined;
    try {
      problem = plugin.validateUsername?.(username);
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (problem !== undefined) throw new ConfigError('invalid-settings', problem, 'username');
  }

  private checkSecrets(schema: Readonly<Record<string, { kind: string }>>, secrets: Readonly<Record<string, string | null>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(secrets)) {
      if (schema[key]?.kind !== 'secret') throw new ConfigError('invalid-settings', `"${key}" is not a secret option of this protocol`, key);
      if (value !== null) {
        if (typeof value !== 'string' || value.length > 65536) throw new ConfigError('invalid-settings', `Secret "${key}" must be text`, key);
        out[key] = value;
      }
    }
    return out;
  }

  async update(ref: string, changes: AccountChanges): Promise<AccountInfo> {
    const record = this.resolve(ref);
    const schema = this.schemaOf(record.protocol);
    const next: AccountRecord = { ...record };
    if (changes.settings !== undefined) {
      const merged: Record<string, unknown> = { ...record.settings };
      for (const [key, value] of Object.entries(changes.settings)) {
        if (value === null) delete merged[key];
        else merged[key] = value;
      }
      const { settings, secrets } = separateProxyPassword(validateSettings(schema, merged));
      next.settings = settings;
      for (const [key, value] of Object.entries(secrets)) {
        this.deps.redactor.add(value);
        await this.deps.secrets.set(record.id, key, value);
      }
    }
    if (changes.secrets !== undefined) {
      const toSet = this.checkSecrets(schema, changes.secrets);
      for (const [key, value] of Object.entries(toSet)) {
        this.deps.redactor.add(value);
        await this.deps.secrets.set(record.id, key, value);
      }
      for (const [key, value] of Object.entries(changes.secrets)) if (value === null) await this.deps.secrets.delete(record.id, key);
    }
    if (changes.alias !== undefined) {
      if (changes.alias === null || changes.alias === '') delete next.alias;
      else next.alias = changes.alias;
    }
    if (changes.enabled !== undefined) next.enabled = changes.enabled;
    this.deps.store.put(next);
    const info = accountInfo(next);
    this.deps.events.emit('accountUpdated', info);
    if (changes.enabled === false) await this.disconnect(record.id);
    return info;
  }

  async remove(ref: string): Promise<void> {
    const record = this.resolve(ref);
    await this.disconnect(record.id);
    this.runtimes.delete(record.id);
    await this.deps.secrets.delete(record.id);
    this.deps.state.deleteScope(record.id);
    this.deps.store.delete(record.id);
    this.deps.events.emit('accountRemoved', accountInfo(record));
  }

  async getSecret(accountId: string, key: string): Promise<string | undefined> {
    const value = await this.deps.secrets.get(accountId, key);
    if (value !== undefined) this.deps.redactor.add(value);
    return value;
  }

  async setSecret(accountId: string, key: string, value: string): Promise<void> {
    this.deps.redactor.add(value);
    await this.deps.secrets.set(accountId, key, value);
  }

  async missingRequired(ref: string): Promise<string[]> {
    const record = this.resolve(ref);
    const keys = new Set(await this.deps.secrets.keys(record.id));
    return missingRequired(this.schemaOf(record.protocol), record.settings, keys);
  }

  runtime(accountId: string): AccountRuntime {
    let runtime = this.runtimes.get(accountId);
    if (runtime !== undefined) return runtime;
    const id = accountId;
    const account = () => accountInfo(this.resolve(id));
    runtime = new AccountRuntime(account, this.deps.policy, {
      loadPlugin: async () => {
        const record = this.resolve(id);
        try {
          return await this.deps.registry.loadProtocol(record.protocol);
        } catch (error) {
          const message = error instanceof ParleyError ? error.message : String(error);
          throw ConnectionError.other(message, { fatal: true, cause: error });
        }
      },
      beforeConnect: () => this.deps.hooks.accountConnecting.promise(account()),
      open: (plugin, generation, signal) => {
        try {
          return this.deps.openConnection(this.resolve(id), runtime!, generation, signal, plugin);
        } catch (error) {
          throw ConnectionError.other(`Plugin ${plugin.name} failed to create a connection: ${error instanceof Error ? error.message : String(error)}`, { fatal: true, cause: error });
        }
      },
      online: async (connection) => {
        const info = account();
        this.deps.log.info('signed in', { account: info.id });
        this.deps.hooks.accountConnected.call(info);
        this.deps.events.emit('accountConnected', info);
        await this.deps.whenOnline(info, connection);
      },
      offline: (error, willRetry) => {
        const info = account();
        this.deps.hooks.accountDisconnected.call(info, error);
        this.deps.events.emit('accountDisconnected', info, error);
        this.deps.whenOffline(info, error, willRetry);
      },
      statusChanged: (status) => this.deps.events.emit('accountStatusChanged', account(), status),
    });
    this.runtimes.set(accountId, runtime);
    return runtime;
  }

  status(ref: string): AccountStatus {
    const record = this.resolve(ref);
    return this.runtimes.get(record.id)?.snapshot() ?? { state: 'offline' };
  }

  /** Goes online; resolves when signed in, rejects with the ConnectionError of this attempt. */
  async connect(ref: string): Promise<void> {
    const record = this.resolve(ref);
    if (!record.enabled) await this.update(record.id, { enabled: true });
    const runtime = this.runtime(record.id);
    let missing: string[];
    try {
      missing = await this.missingRequired(record.id);
    } catch (error) {
      // A secret store that will not open needs the user (a passphrase), not a retry.
      if (!(error instanceof SecretStoreError)) throw error;
      const failure = ConnectionError.authenticationImpossible(error.message, { cause: error });
      runtime.refuse(failure);
      throw failure;
    }
    if (missing.length > 0) {
      const failure = ConnectionError.invalidSettings(`Missing required setting${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
      runtime.refuse(failure);
      throw failure;
    }
    await runtime.connect();
  }

  async disconnect(ref: string): Promise<void> {
    const record = this.resolve(ref);
    const runtime = this.runtimes.get(record.id);
    if (runtime !== undefined) await runtime.disconnect();
  }

  connection(accountId: string): ProtocolConnection | undefined {
    return this.runtimes.get(accountId)?.current();
  }

  isOnline(accountId: string): boolean {
    return this.runtimes.get(accountId)?.state === 'online';
  }

  /** True while the account is expected back (connecting or waiting to reconnect). */
  canQueue(accountId: string): boolean {
    const record = this.deps.store.get(accountId);
    if (record === undefined || !record.enabled) return false;
    const state = this.runtimes.get(accountId)?.state ?? 'offline';
    return state === 'connecting' || state === 'reconnecting' || state === 'online' || state === 'offline';
  }

  async send(accountId: string, target: Target, message: OutgoingMessage): Promise<{ protocolId?: string } | void> {
    const connection = this.connection(accountId);
    if (connection === undefined) throw ConnectionError.network('The account is not online');
    return connection.sendMessage(target, message);
  }

  async setTyping(accountId: string, peer: string, state: TypingState): Promise<void> {
    const connection = this.connection(accountId);
    if (connection?.setTyping === undefined) return;
    try {
      await connection.setTyping(peer, state);
    } catch (error) {
      this.deps.log.debug('typing notification failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  async setChatTyping(accountId: string, room: string, state: TypingState): Promise<void> {
    const connection = this.connection(accountId);
    if (connection?.setChatTyping === undefined) return;
    try {
      await connection.setChatTyping(room, state);
    } catch (error) {
      this.deps.log.debug('typing notification failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  async closeConversation(accountId: string, target: Target): Promise<void> {
    const connection = this.connection(accountId);
    if (connection?.closeConversation === undefined) return;
    try {
      await connection.closeConversation(target);
    } catch (error) {
      this.deps.log.debug('closing a conversation failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((r) => r.disconnect().catch(() => {})));
  }
}
