import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { ConnectionContext, ProtocolConnection, ProtocolPlugin, Target } from '../plugins/contract.js';
import { CONNECTION_ERROR_CODES, ConnectionError } from '../errors/ConnectionError.js';
import { isParleyError, PluginError } from '../errors/ParleyError.js';
import type { Logger } from '../util/logger.js';
import type { IncomingMessage } from '../conversations/message.js';
import { CONNECTION_METHODS, WORKER_PROTOCOL_VERSION, type ConnectionMethod, type ConnectionSnapshot, type ContextNotice, type FromWorker, type ToWorker, type WorkerStart } from './worker-protocol.js';
import { concatPacked, isPackedRoster, packRoster, samePackedRoster, unpackRoster, type PackedRoster } from './packed-roster.js';
import { ConversationTable, readTape, type TapeReader, type WorkerTape } from './worker-tape.js';
import { fromWireError, toWireError } from './wire-error.js';
import { CrashBudget } from './crash-budget.js';

/** How a worker is watched. */
export interface WorkerLimits {
  /** How often the core pings each worker (default 1 s). */
  heartbeatIntervalMs: number;
  /** A worker that has not answered for this long is stuck (an endless loop) and is ended (default 10 s). */
  heartbeatTimeoutMs: number;
  /** Node's limits for the worker's heap and stack; exceeding them ends the worker, not the process. */
  resourceLimits: ResourceLimits;
  /** Crashes within `crashWindowMs` after which the plugin is disabled (default 5 in 10 minutes). */
  maxCrashes: number;
  /** The sliding window `maxCrashes` is counted in; older crashes are forgotten. */
  crashWindowMs: number;
}

/** The limits a worker gets unless `createParley({ workerLimits })` overrides some. */
export const DEFAULT_WORKER_LIMITS: WorkerLimits = {
  heartbeatIntervalMs: 1_000,
  heartbeatTimeoutMs: 10_000,
  resourceLimits: { maxOldGenerationSizeMb: 512 },
  maxCrashes: 5,
  crashWindowMs: 10 * 60_000,
};

/** What the core sends when a connection opens in a worker, less the buddy list (read at that moment). */
export type WorkerSnapshotBase = Omit<ConnectionSnapshot, 'buddies'>;

/** Keeps a plugin's state value as the worker sends it: JSON text (undefined: removed), or a string value itself. */
export type StoreState = (key: string, value: string | undefined, isString: boolean) => void;

function workerScript(): URL {
  const sibling = new URL('./plugin-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  // Running from TypeScript sources (tests): the built worker.
  return new URL('../../dist/isolation/plugin-worker.js', import.meta.url);
}

/** What the pool tells the core about a plugin's worker. */
export interface PoolEvents {
  /** The worker ended on its own or was ended; its connections are already told. */
  crashed(plugin: ProtocolPlugin, error: PluginError): void;
  /** Too many crashes: the plugin stays off until the core restarts. */
  disabled(plugin: ProtocolPlugin, error: PluginError): void;
}

/**
 * One worker thread per protocol plugin package, holding all its accounts'
 * connections. A worker that dies (exception, unhandled rejection, exit,
 * memory limit) or stops answering the heartbeat takes only its own
 * connections down: each is reported lost with a non-fatal error naming the
 * plugin and the cause, so the normal reconnect policy brings it back on a
 * fresh worker.
 */
export class PluginWorkerPool {
  private readonly workers = new Map<string, PluginWorker>();
  private readonly budget: CrashBudget;
  private readonly disabledPlugins = new Map<string, PluginError>();
  private closed = false;

  constructor(
    private readonly limits: WorkerLimits,
    private readonly log: Logger,
    private readonly events: PoolEvents,
  ) {
    this.budget = new CrashBudget(limits.maxCrashes, limits.crashWindowMs);
  }

  /**
   * A connection of `plugin` living in its worker; the worker starts on first use. The snapshot's
   * buddy list is read from `context` when the connection opens in the worker; `storeState` keeps
   * the plugin's state as the worker sends it, JSON text (undefined: removed).
   */
  createConnection(plugin: ProtocolPlugin, module: string, context: ConnectionContext, snapshot: () => Promise<WorkerSnapshotBase>, storeState: StoreState): RemoteConnection {
    const disabled = this.disabledPlugins.get(plugin.id);
    if (disabled !== undefined) throw disabled;
    let worker = this.workers.get(plugin.id);
    if (worker === undefined || worker.ended) {
      worker = new PluginWorker(plugin, { module, protocol: plugin.id }, this.limits, this.log, (error) => this.onCrash(plugin, error));
      this.workers.set(plugin.id, worker);
    }
    return worker.connection(context, snapshot, storeState);
  }

  /** Every open worker connection, for pushes from the core (buddy list changes). */
  *connections(): Iterable<RemoteConnection> {
    for (const worker of this.workers.values()) yield* worker.open();
  }

  /** The account stopped for good: the workers drop what its connections carried over between attempts, as the core does in process. */
  forget(accountId: string): void {
    for (const worker of this.workers.values()) worker.post({ t: 'forget', account: accountId });
  }

  /** Per worker: the plugin, its thread id and heap use (after a full collection when `collect` and the process exposes one). */
  async memory(collect = false): Promise<Array<{ protocol: string; threadId: number; heapUsed: number }>> {
    return Promise.all([...this.workers.values()].filter((w) => !w.ended).map(async (w) => ({ protocol: w.plugin.id, threadId: w.threadId, heapUsed: await w.heapUsed(collect) })));
  }

  private onCrash(plugin: ProtocolPlugin, error: PluginError): void {
    if (this.closed) return;
    this.log.error(error.message, { plugin: plugin.name });
    if (this.budget.exhausted(plugin.id)) {
      const disabled = new PluginError('plugin-disabled', plugin.name, `Plugin ${plugin.name} was disabled after ${this.budget.describe()}; the last: ${error.message}`, { cause: error });
      this.disabledPlugins.set(plugin.id, disabled);
      this.events.disabled(plugin, disabled);
      return;
    }
    this.events.crashed(plugin, error);
  }

  /** Ends every worker (after the core has signed its accounts off). */
  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.workers.values()].map((w) => w.terminate()));
    this.workers.clear();
  }

  isDisabled(protocol: string): PluginError | undefined {
    return this.disabledPlugins.get(protocol);
  }
}

/** One plugin's worker thread and the connections in it. */
class PluginWorker {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private handshake: ((message: FromWorker) => void) | undefined;
  private readonly conns = new Map<number, RemoteConnection>();
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void; conn: number }>();
  private nextConn = 1;
  private nextCall = 1;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastPong = Date.now();
  private lastBeat = Date.now();
  private pingSerial = 0;
  private cause: string | undefined;
  ended = false;

  constructor(
    readonly plugin: ProtocolPlugin,
    start: WorkerStart,
    private readonly limits: WorkerLimits,
    private readonly log: Logger,
    private readonly onCrash: (error: PluginError) => void,
  ) {
    // The thread gets no flags of ours: `--input-type` or `--eval` would stop it loading its file.
    this.worker = new Worker(workerScript(), { workerData: start, execArgv: [], resourceLimits: limits.resourceLimits, name: `parley-plugin-${plugin.id}` });
    this.worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      // Heartbeat answers may come first: wait for the handshake.
      this.handshake = (message: FromWorker) => {
        if (message.t !== 'ready' && message.t !== 'failed') return;
        this.handshake = undefined;
        if (message.t === 'failed') reject(new PluginError('plugin-load-failed', plugin.name, `Plugin ${plugin.name} failed to load in its worker: ${message.error.message}`, { cause: fromWireError(message.error) }));
        else if (message.version !== WORKER_PROTOCOL_VERSION) reject(new PluginError('plugin-load-failed', plugin.name, `The worker speaks protocol ${message.version}, the core ${WORKER_PROTOCOL_VERSION}`));
        else resolve();
      };
      // A worker that dies while loading crashed like any other: not fatal, counted.
      this.worker.once('exit', () => reject(this.crashError()));
    });
    // Nobody may be waiting yet; the rejection is delivered to each connection that does.
    this.ready.catch(() => {});
    this.worker.on('message', (tape: WorkerTape) => this.received(tape));
    this.worker.on('error', (error) => {
      this.cause ??= describeFault(error);
    });
    this.worker.on('exit', (code) => this.exited(code));
    this.heartbeat = setInterval(() => this.beat(), limits.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  async heapUsed(collect: boolean): Promise<number> {
    return (await this.request(0, (id) => ({ t: 'memory', id, collect }))) as number;
  }

  open(): Iterable<RemoteConnection> {
    return this.conns.values();
  }

  connection(context: ConnectionContext, snapshot: () => Promise<WorkerSnapshotBase>, storeState: StoreState): RemoteConnection {
    const conn = this.nextConn++;
    const remote = new RemoteConnection(this, conn, context, snapshot, storeState);
    this.conns.set(conn, remote);
    return remote;
  }

  /**
   * Waits for the plugin to load, then opens `conn` in the worker with the snapshot made at that
   * moment. Resolves once the open is sent, with the methods the worker will say the connection has.
   */
  async openConnection(conn: number, snapshot: () => ConnectionSnapshot): Promise<{ methods: Promise<ConnectionMethod[]> }> {
    await this.ready;
    if (this.ended) throw this.crashError();
    const methods = new Promise<ConnectionMethod[]>((resolve, reject) => this.waitOpened.set(conn, { resolve, reject }));
    this.post({ t: 'open', conn, snapshot: snapshot() });
    return { methods };
  }

  private readonly waitOpened = new Map<number, { resolve(methods: ConnectionMethod[]): void; reject(error: unknown): void }>();

  call(conn: number, method: ConnectionMethod, args: unknown[]): Promise<unknown> {
    return this.request(conn, (id) => ({ t: 'call', id, conn, method, args }));
  }

  command(conn: number, name: string, args: string, target: Target | undefined): Promise<unknown> {
    return this.request(conn, (id) => (target === undefined ? { t: 'command', id, conn, name, args } : { t: 'command', id, conn, name, args, target }));
  }

  private request(conn: number, build: (id: number) => ToWorker): Promise<unknown> {
    if (this.ended) return Promise.reject(this.crashError());
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, conn });
      this.post(build(id));
    });
  }

  post(message: ToWorker): void {
    if (!this.ended) this.worker.postMessage(message);
  }

  forget(conn: number): void {
    this.conns.delete(conn);
    this.post({ t: 'close', conn });
  }

  /** What the worker sent in one turn, handled in order. */
  private received(tape: WorkerTape): void {
    // Any message shows the worker's loop turning; under a flood a pong waits behind the others.
    this.lastPong = Date.now();
    if (Array.isArray(tape)) readTape(tape, this.reader, this.conversations);
  }

  /** The conversations the worker's messages name by number. */
  private readonly conversations = new ConversationTable();

  private readonly reader: TapeReader = {
    notice: (conn, call) => this.conns.get(conn)?.notice(call),
    message: (conn, message) => this.conns.get(conn)?.receive(message),
    other: (message) => this.handle(message),
    // One record that cannot be handled (a plugin's bad input the core did not expect) costs that record, not the rest.
    failed: (error) => this.log.error(`A message from plugin ${this.plugin.name}'s worker could not be handled`, { plugin: this.plugin.name, error: error instanceof Error ? error.message : String(error) }),
  };

  private handle(message: FromWorker): void {
    if (this.handshake !== undefined) this.handshake(message);
    switch (message.t) {
      case 'pong':
        return;
      case 'opened': {
        const waiter = this.waitOpened.get(message.conn);
        this.waitOpened.delete(message.conn);
        waiter?.resolve(message.methods.filter((m) => (CONNECTION_METHODS as readonly string[]).includes(m)));
        return;
      }
      case 'result': {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) pending?.reject(fromWireError(message.error));
        else pending?.resolve(message.value);
        return;
      }
      case 'request':
      case 'log':
        this.conns.get(message.conn)?.fromWorker(message);
        return;
      default:
        return;
    }
  }

  private beat(): void {
    if (this.ended) return;
    const now = Date.now();
    // A late beat means this thread was busy, not the worker: its answers may be waiting unread.
    if (now - this.lastBeat > this.limits.heartbeatIntervalMs * 3) this.lastPong = now;
    this.lastBeat = now;
    if (now - this.lastPong > this.limits.heartbeatTimeoutMs) {
      this.cause ??= `it stopped answering for ${Math.round(this.limits.heartbeatTimeoutMs / 1000)} s (an endless loop?)`;
      void this.worker.terminate();
      return;
    }
    this.post({ t: 'ping', n: ++this.pingSerial });
  }

  crashError(): ConnectionError {
    const fault = new PluginError('plugin-crashed', this.plugin.name, `Plugin ${this.plugin.name} crashed: ${this.cause ?? 'its worker stopped'}`);
    return new ConnectionError('plugin-crashed', fault.message, { cause: fault, hint: 'Parley restarts the plugin and reconnects' });
  }

  private exited(code: number): void {
    if (this.ended) return;
    this.ended = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.cause ??= code === 0 ? 'its worker exited' : `its worker exited with code ${code}`;
    if (this.terminating) return;
    const error = this.crashError();
    for (const waiter of this.waitOpened.values()) waiter.reject(error);
    this.waitOpened.clear();
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    const conns = [...this.conns.values()];
    this.conns.clear();
    this.onCrash(error.cause as PluginError);
    for (const remote of conns) remote.workerLost(error);
  }

  private terminating = false;

  async terminate(): Promise<void> {
    this.terminating = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    await this.worker.terminate();
  }
}

function describeFault(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return 'it ran out of memory (the worker\'s memory limit)';
  return `${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
}

/**
 * The core's stand-in for a connection that lives in a plugin's worker.
 * Optional methods appear once the worker has created the connection and
 * said which it has, which is before `connect()` resolves.
 */
export class RemoteConnection implements ProtocolConnection {
  private opened: Promise<void> | undefined;
  private closed = false;
  /** The buddy list the worker holds for this connection (sent with the open, then pushed or synced by the plugin); undefined before the open is sent. */
  private pushed: PackedRoster | undefined;
  /** Buddy lists pushed to the worker since the open. */
  private pushes = 0;
  /** A roster the plugin is handing over in parts: the core's handle, and the parts as they came (what the worker will hold). */
  private parts: { handle: ReturnType<NonNullable<ConnectionContext['buddies']['syncInParts']>>; received: PackedRoster[] } | undefined;

  constructor(
    private readonly worker: PluginWorker,
    private readonly conn: number,
    private readonly context: ConnectionContext,
    private readonly snapshot: () => Promise<WorkerSnapshotBase>,
    private readonly storeState: StoreState,
  ) {
    context.signal.addEventListener('abort', () => worker.post({ t: 'abort', conn }), { once: true });
  }

  get plugin(): ProtocolPlugin {
    return this.worker.plugin;
  }

  /** Sends the open to the worker (once); resolves when it is sent. */
  private send(): Promise<{ methods: Promise<ConnectionMethod[]> }> {
    this.sending ??= this.snapshot().then((base) =>
      this.worker.openConnection(this.conn, () => {
        this.pushed = packRoster(this.context.buddies.list());
        return { ...base, buddies: this.pushed };
      }),
    );
    return this.sending;
  }

  private sending: Promise<{ methods: Promise<ConnectionMethod[]> }> | undefined;

  /** Opens the connection in the worker; resolves once the worker has said which methods it has. */
  private open(): Promise<void> {
    this.opened ??= this.send()
      .then((sent) => sent.methods)
      .then((methods) => {
        const self = this as unknown as Record<string, unknown>;
        for (const method of methods) if (!(method in RemoteConnection.prototype)) self[method] = (...args: unknown[]) => this.worker.call(this.conn, method, args);
      });
    return this.opened;
  }

  async connect(): Promise<void> {
    // Started at once, as a disconnect that comes meanwhile expects.
    const opening = this.open();
    // Its failure is the sending's, thrown below.
    opening.catch(() => {});
    let connecting: Promise<unknown> | undefined;
    try {
      await this.send();
      // Right behind the open, which the worker handles first: no wait for its answer in between.
      connecting = this.worker.call(this.conn, 'connect', []);
      await opening;
    } catch (error) {
      // The worker failed: the connect call fails the same way, and is not waited for.
      connecting?.catch(() => {});
      throw isParleyError(error, CONNECTION_ERROR_CODES) ? error : ConnectionError.other(error instanceof Error ? error.message : String(error), { fatal: true, cause: error });
    }
    await connecting;
  }

  async disconnect(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.opened !== undefined && !this.worker.ended) {
        await this.opened;
        await this.worker.call(this.conn, 'disconnect', []);
      }
    } finally {
      this.closed = true;
      this.worker.forget(this.conn);
    }
  }

  async sendMessage(target: Target, message: import('../conversations/message.js').OutgoingMessage): Promise<{ protocolId?: string } | void> {
    return (await this.worker.call(this.conn, 'sendMessage', [target, message])) as { protocolId?: string } | void;
  }

  /** Runs one of the plugin's commands in the worker, against this connection. */
  runCommand(name: string, args: string, target: Target | undefined): Promise<string | void> {
    return this.worker.command(this.conn, name, args, target) as Promise<string | void>;
  }

  /**
   * The core's buddy list changed: the worker's copy for this account follows, if this account's
   * list is not what it holds. `holds` answers that without copying the list, which every change
   * of any account's list asks of every connection.
   */
  pushBuddies(holds: (accountId: string, buddies: PackedRoster) => boolean): void {
    if (this.closed || this.pushed === undefined) return;
    if (holds(this.context.account.id, this.pushed)) return;
    const buddies = packRoster(this.context.buddies.list());
    if (samePackedRoster(buddies, this.pushed)) return;
    this.pushed = buddies;
    this.pushes++;
    this.worker.post({ t: 'buddies', conn: this.conn, buddies });
  }

  /** The worker is gone: the core sees this connection drop. */
  workerLost(error: ConnectionError): void {
    this.closed = true;
    this.context.connectionLost(error);
  }

  /** A context call from the plugin that is answered, or a log record. */
  fromWorker(message: Extract<FromWorker, { t: 'request' | 'log' }>): void {
    const { context } = this;
    if (message.t === 'log') {
      context.log[message.level](message.message, message.fields);
      return;
    }
    if (message.t === 'request') {
      const answer = (work: () => Promise<unknown>) =>
        work().then(
          (value) => this.worker.post({ t: 'answer', id: message.id, value }),
          (error: unknown) => this.worker.post({ t: 'answer', id: message.id, error: toWireError(error) }),
        );
      switch (message.method) {
        case 'getSecret':
          void answer(() => context.getSecret(...message.args));
          return;
        case 'setSecret':
          void answer(() => context.setSecret(...message.args));
          return;
        case 'trustCertificate':
          void answer(() => context.trustCertificate(...message.args));
          return;
        case 'ui.request':
          void answer(() => context.ui.request(message.args[0], message.args[1]));
          return;
        case 'buddies.authorizationRequest':
          void answer(() => context.buddies.authorizationRequest(...message.args));
          return;
      }
    }
  }

  /** A message the plugin received (receiveMessage). */
  receive(message: IncomingMessage): void {
    this.context.receiveMessage(message);
  }

  /** A context call from the plugin that is not answered. */
  notice(message: ContextNotice): void {
    const { context } = this;
    const a = message.args as unknown as never[];
    switch (message.method) {
      case 'setState':
        this.storeState(message.args[0], message.args[1], message.args[2] === true && typeof message.args[1] === 'string');
        return;
      case 'connectionLost':
        context.connectionLost(fromWireError(message.args[0]) as ConnectionError);
        return;
      case 'progress':
        context.progress(...message.args);
        return;
      case 'sessionDetail':
        context.sessionDetail?.(...message.args);
        return;
      case 'receiveMessage':
        context.receiveMessage(...message.args);
        return;
      case 'messageDelivered':
        context.messageDelivered(...message.args);
        return;
      case 'messageNotDelivered':
        context.messageNotDelivered?.(...message.args);
        return;
      case 'typing':
        context.typing(...message.args);
        return;
      case 'notice':
        context.notice(...message.args);
        return;
      case 'accountInfo':
        context.accountInfo(...message.args);
        return;
      case 'transfers.offered':
        context.transfers?.offered(...message.args);
        return;
      case 'transfers.accepted':
        context.transfers?.accepted(...message.args);
        return;
      case 'transfers.progress':
        context.transfers?.progress(...message.args);
        return;
      case 'transfers.completed':
        context.transfers?.completed(...message.args);
        return;
      case 'transfers.failed':
        context.transfers?.failed(message.args[0], fromWireError(message.args[1]));
        return;
      case 'transfers.cancelled':
        context.transfers?.cancelled(...message.args);
        return;
      case 'buddies.sync': {
        const [entries, pushesSeen] = message.args;
        context.buddies.sync(unpackRoster(entries));
        // The worker holds what its plugin synced, unless a push of ours was on its way to it then:
        // that push lands after the sync and is what it holds.
        if (pushesSeen === this.pushes && isPackedRoster(entries)) this.pushed = entries;
        return;
      }
      case 'buddies.syncPart': {
        const [entries] = message.args;
        if (!isPackedRoster(entries)) throw new Error('invalid roster part');
        if (this.parts === undefined) {
          const handle = context.buddies.syncInParts?.();
          if (handle === undefined) return;
          this.parts = { handle, received: [] };
        }
        this.parts.received.push(entries);
        for (const entry of unpackRoster(entries)) this.parts.handle.add(entry);
        return;
      }
      case 'buddies.syncEnd': {
        const [complete, pushesSeen] = message.args;
        const parts = this.parts;
        this.parts = undefined;
        // A roster with no entries ends as one: an empty list, when complete.
        (parts?.handle ?? context.buddies.syncInParts?.())?.end(complete !== false);
        // Complete, the worker holds every entry of the parts (as after a sync); otherwise what it
        // held, and the core's merged list follows as a push.
        if (complete !== false && pushesSeen === this.pushes) this.pushed = concatPacked(parts?.received ?? []);
        return;
      }
      default: {
        // buddies.* and chats.*: same names on the context, arguments checked there.
        const [group, name] = String(message.method).split('.') as ['buddies' | 'chats', string];
        if (group !== 'buddies' && group !== 'chats') throw new Error(`no context call ${String(message.method)}`);
        const calls = context[group] as unknown as Record<string, ((...args: never[]) => void) | undefined>;
        if (Object.hasOwn(calls, name)) calls[name]?.(...a);
      }
    }
  }
}
