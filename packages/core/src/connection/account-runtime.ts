import { ConnectionError } from '../errors/ConnectionError.js';
import type { AccountInfo, AccountStatus, ConnectionState } from '../accounts/account.js';
import type { ProtocolConnection, ProtocolPlugin } from '../plugins/contract.js';
import type { ReconnectPolicy } from './reconnect-policy.js';

/** How long a plugin gets to sign off politely before the core stops waiting. */
export const DISCONNECT_TIMEOUT_MS = 5_000;
/** How long one sign-in attempt may take in all (discovery, TLS, authentication). */
export const CONNECT_TIMEOUT_MS = 90_000;

export interface RuntimeDriver {
  /** Builds a connection for one attempt; `generation` tells stale callbacks apart. */
  open(plugin: ProtocolPlugin, generation: number, signal: AbortSignal): ProtocolConnection;
  loadPlugin(): Promise<ProtocolPlugin>;
  beforeConnect(): Promise<void>;
  online(connection: ProtocolConnection): Promise<void>;
  offline(error: ConnectionError | undefined, willRetry: boolean): void;
  statusChanged(status: AccountStatus): void;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One account's connection lifecycle: offline → connecting → online →
 * disconnecting, with reconnect on non-fatal errors. Every attempt has a
 * generation number; anything a previous attempt's plugin code reports
 * afterwards is ignored.
 */
export class AccountRuntime {
  private status: AccountStatus = { state: 'offline' };
  private generation = 0;
  private connection: ProtocolConnection | undefined;
  private abort: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private connecting: Promise<void> | undefined;

  constructor(
    readonly account: () => AccountInfo,
    private readonly policy: ReconnectPolicy,
    private readonly driver: RuntimeDriver,
    private readonly connectTimeoutMs = CONNECT_TIMEOUT_MS,
  ) {}

  get state(): ConnectionState {
    return this.status.state;
  }

  snapshot(): AccountStatus {
    return { ...this.status };
  }

  current(): ProtocolConnection | undefined {
    return this.status.state === 'online' ? this.connection : undefined;
  }

  isCurrent(generation: number): boolean {
    return generation === this.generation;
  }

  private setStatus(status: AccountStatus): void {
    this.status = status;
    this.driver.statusChanged({ ...status });
  }

  progress(generation: number, text: string, step?: number, steps?: number): void {
    if (!this.isCurrent(generation) || this.status.state !== 'connecting') return;
    const progress: AccountStatus['progress'] = { text };
    if (step !== undefined) progress.step = step;
    if (steps !== undefined) progress.steps = steps;
    this.setStatus({ ...this.status, progress });
  }

  /** What the plugin said of how this attempt connected, shown once online. */
  private detail: string | undefined;

  sessionDetail(generation: number, text: string): void {
    if (!this.isCurrent(generation) || this.status.state !== 'connecting') return;
    // One short line: it is shown after "online".
    this.detail = text.replace(/[\r\n\t]+/g, ' ').slice(0, 120);
  }

  /** Connects (or waits for the attempt in progress); rejects with the attempt's ConnectionError. */
  connect(): Promise<void> {
    if (this.status.state === 'online') return Promise.resolve();
    if (this.connecting !== undefined) return this.connecting;
    this.clearRetry();
    this.attempt = 0;
    return this.tryConnect();
  }

  private tryConnect(): Promise<void> {
    const attempt = this.run().finally(() => {
      if (this.connecting === attempt) this.connecting = undefined;
    });
    this.connecting = attempt;
    return attempt;
  }

  private async run(): Promise<void> {
    const generation = ++this.generation;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.attempt++;
    this.detail = undefined;
    this.setStatus({ state: 'connecting', attempt: this.attempt, progress: { text: 'Connecting' } });
    let connection: ProtocolConnection | undefined;
    try {
      const plugin = await this.driver.loadPlugin();
      await this.driver.beforeConnect();
      if (!this.isCurrent(generation)) throw ConnectionError.other('Connection attempt was cancelled');
      connection = this.driver.open(plugin, generation, abort.signal);
      this.connection = connection;
      const opened = connection;
      // A plugin should bound its own waits; this is the backstop against one that does not.
      await withTimeout(opened.connect(), this.connectTimeoutMs, () => {
        throw ConnectionError.network('Signing in took too long: the server did not finish the handshake');
      });
      if (!this.isCurrent(generation)) throw ConnectionError.other('Connection attempt was cancelled');
    } catch (raw) {
      const error = ConnectionError.from(raw);
      if (!this.isCurrent(generation)) throw error;
      abort.abort();
      if (connection !== undefined) void this.closeQuietly(connection);
      this.connection = undefined;
      this.failed(error);
      throw error;
    }
    this.attempt = 0;
    this.setStatus(this.detail !== undefined ? { state: 'online', detail: this.detail } : { state: 'online' });
    await this.driver.online(connection);
  }

  private failed(error: ConnectionError): void {
    const delay = this.policy.delay(error, this.attempt);
    if (delay === undefined) {
      this.setStatus({ state: 'error', error });
      this.driver.offline(error, false);
      return;
    }
    const nextAttemptAt = Date.now() + delay;
    this.setStatus({ state: 'reconnecting', error, nextAttemptAt, attempt: this.attempt });
    this.driver.offline(error, true);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // The outcome is reported through status and events; nobody awaits a retry.
      this.tryConnect().catch(() => {});
    }, delay);
  }

  /** The core refuses to try (settings missing, secrets locked): the account shows the error. */
  refuse(error: ConnectionError): void {
    if (this.status.state === 'online' || this.connecting !== undefined) return;
    this.clearRetry();
    this.setStatus({ state: 'error', error });
    this.driver.offline(error, false);
  }

  /** The plugin says an online connection dropped. */
  lost(generation: number, error: ConnectionError): void {
    if (!this.isCurrent(generation)) return;
    if (this.status.state !== 'online' && this.status.state !== 'connecting') return;
    if (this.status.state === 'connecting') {
      // During connect() the rejection carries the error; the plugin should reject, but some report both.
      return;
    }
    this.generation++;
    this.abort?.abort();
    const connection = this.connection;
    this.connection = undefined;
    if (connection !== undefined) void this.closeQuietly(connection);
    // No attempt has failed yet: the policy's quick first retry after a drop.
    this.attempt = 0;
    this.failed(error);
  }

  /** Signs off; cancels a pending reconnect. */
  async disconnect(): Promise<void> {
    this.clearRetry();
    const wasActive = this.status.state !== 'offline' && this.status.state !== 'error' && this.status.state !== 'reconnecting';
    this.generation++;
    const connection = this.connection;
    this.connection = undefined;
    const online = this.status.state === 'online';
    // A connection attempt in progress is cancelled at once; an online one signs off politely first.
    if (!online) this.abort?.abort();
    if (connection !== undefined && wasActive) {
      this.setStatus({ state: 'disconnecting' });
      await this.closeQuietly(connection);
    }
    this.abort?.abort();
    this.setStatus({ state: 'offline' });
    this.driver.offline(undefined, false);
  }

  private async closeQuietly(connection: ProtocolConnection): Promise<void> {
    try {
      await withTimeout(
        Promise.resolve().then(() => connection.disconnect()),
        DISCONNECT_TIMEOUT_MS,
        () => undefined,
      );
    } catch {
      // The connection is gone either way.
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
