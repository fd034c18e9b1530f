import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import type { ParleyEventMap, ParleyEventsListenOnly } from '../events/events.js';
import { resolvePaths } from '../storage/paths.js';
import type { NotificationLevel, UiOps, UiRequest, UiRequestPurpose } from '../ui/ui-ops.js';
import type { ParleyClient } from './client-api.js';
import { RemoteError } from './errors.js';
import { CONTROL_METHODS, EVENT_NAMES, NOTIFICATIONS, REMOTE_METHODS, REMOTE_PROTOCOL_VERSION, RPC_ERRORS, UI_REQUEST_METHOD, type OwnerInfo, type OwnerStatus } from './protocol.js';
import { checkSocketOwner, runFiles } from './run-directory.js';
import { RpcPeer } from './rpc-peer.js';
import { errorFromWire, fromWire, RemoteParleyError, type WireError } from './wire.js';

/** Answers from the owner can be large (a long history search); requests to it cannot. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Which running core `connectToParley` attaches to, and how this client presents itself. */
export interface ConnectOptions {
  /** The Parley home (like PARLEY_HOME); default: PARLEY_HOME, else the XDG directories. */
  home?: string;
  /** The environment PARLEY_HOME and the XDG variables are read from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Answers the core's questions (certificates, authorization requests) and shows its notifications. */
  ui?: UiOps;
  /** A name for this client in the owner's logs. */
  clientName?: string;
}

/** How a remote client's connection ended, once `RemoteParley.disconnected` resolves. */
export interface Disconnection {
  /** True when this client closed the connection itself. */
  byClient: boolean;
  /** The owner said it was stopping before the connection closed. */
  ownerStopping: boolean;
}

/** A connection to the process that owns a Parley home. */
export interface RemoteParley extends ParleyClient {
  /** The owner: its pid, start time, protocol and core versions. */
  readonly owner: OwnerInfo;
  /** The owner's pid, uptime, clients and every account's state. */
  status(): Promise<OwnerStatus>;
  /** Asks the owner to stop cleanly (accounts signed off, history flushed). */
  stopOwner(): Promise<void>;
  /** Resolves once the connection is gone, whoever closed it. */
  readonly disconnected: Promise<Disconnection>;
  /** Closes this client's connection; the owner and its accounts keep running. */
  close(): Promise<void>;
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Turns an error answer back into the error the owner raised. */
function errorFromAnswer(code: number, message: string, data: unknown): Error {
  if (code === RPC_ERRORS.handshake) return new RemoteError('protocol-mismatch', message);
  const fields = data as Partial<WireError> | undefined;
  if (fields !== undefined && fields !== null && typeof fields.code === 'string' && typeof fields.message === 'string') return errorFromWire({ name: String(fields.name ?? 'ParleyError'), ...fields } as WireError);
  return new RemoteParleyError({ name: 'ResponseError', code: `rpc-${code}`, message });
}

/**
 * Connects to the process that owns a home's accounts (`parley daemon`, a
 * running `parley` or `parley watch`). Rejects with RemoteError
 * `owner-not-running` when none runs, `protocol-mismatch` when it speaks
 * another major version, `socket-insecure` when its socket is not this
 * user's own.
 */
export async function connectToParley(options: ConnectOptions = {}): Promise<RemoteParley> {
  const files = runFiles(resolvePaths(options.env ?? process.env, options.home));
  if (!existsSync(files.socket)) throw new RemoteError('owner-not-running', 'No Parley core is running for this home');
  checkSocketOwner(files);
  let socket: Socket;
  try {
    socket = await openSocket(files.socket);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET') throw new RemoteError('owner-not-running', 'No Parley core is running for this home (its socket is stale)', { cause: error });
    throw error;
  }
  return RemoteParleyClient.open(socket, options);
}

class RemoteParleyClient {
  private readonly emitter = new EventEmitter<ParleyEventMap>();
  private readonly subscribed = new Set<string>();
  private ownerStopping = false;
  private closedByClient = false;
  private gone = false;
  readonly disconnected: Promise<Disconnection>;

  private readonly peer: RpcPeer;

  private constructor(
    private readonly socket: Socket,
    ui: UiOps | undefined,
  ) {
    this.peer = new RpcPeer(socket, MAX_ANSWER_BYTES, {
      notification: (method, params) => this.notified(method, params, ui),
      answerError: errorFromAnswer,
      closedError: () => new RemoteError('core-stopped', 'The Parley core stopped'),
      requests: {
        [UI_REQUEST_METHOD]: async ([request, context], signal) => {
          if (ui === undefined || typeof request !== 'object' || request === null || typeof context !== 'object' || context === null) return null;
          const { purpose, accountId } = context as { purpose: UiRequestPurpose; accountId?: string };
          const answer = await ui.request(request as UiRequest, { purpose, ...(accountId === undefined ? {} : { accountId }), signal });
          return answer ?? null;
        },
      },
    });
    this.disconnected = new Promise((resolve) => {
      socket.once('close', () => {
        this.gone = true;
        resolve({ byClient: this.closedByClient, ownerStopping: this.ownerStopping });
      });
    });
    socket.on('error', () => socket.destroy());
  }

  static async open(socket: Socket, options: ConnectOptions): Promise<RemoteParley> {
    const client = new RemoteParleyClient(socket, options.ui);
    let owner: OwnerInfo;
    try {
      owner = (await client.call(CONTROL_METHODS.hello, [{ protocolVersion: REMOTE_PROTOCOL_VERSION, client: options.clientName ?? 'client' }])) as OwnerInfo;
    } catch (error) {
      socket.destroy();
      // A socket that accepts and then closes before the handshake is an owner
      // that was dying (killed, its listener not yet torn down): nobody owns the home.
      if (error instanceof RemoteError && error.code === 'core-stopped') {
        throw new RemoteError('owner-not-running', 'The Parley core that owned this home stopped before it answered');
      }
      throw error;
    }
    if (options.ui !== undefined) await client.call(CONTROL_METHODS.attachUi, [{ ui: true }]);
    return client.api(owner);
  }

  private notified(method: string, params: unknown, ui: UiOps | undefined): void {
    if (method === NOTIFICATIONS.stopping) {
      this.ownerStopping = true;
      return;
    }
    if (method === NOTIFICATIONS.notify) {
      const n = params as { level: NotificationLevel; title: string; message?: string; accountId?: string };
      ui?.notify(n.level, n.title, n.message, n.accountId);
      return;
    }
    if (method !== NOTIFICATIONS.event) return;
    const { name, args } = params as { name: keyof ParleyEventMap; args: unknown[] };
    if (!(EVENT_NAMES as readonly string[]).includes(name) || !Array.isArray(args)) return;
    (this.emitter.emit as (event: string, ...a: unknown[]) => boolean)(name, ...(fromWire(args) as unknown[]));
  }

  async call(method: string, args: readonly unknown[]): Promise<unknown> {
    // Trailing optional arguments left out stay left out (JSON-RPC would send them as null).
    if (this.gone) throw new RemoteError('core-stopped', 'The Parley core stopped');
    let end = args.length;
    while (end > 0 && args[end - 1] === undefined) end--;
    // The peer fails with the owner's own error (errorFromAnswer) or `core-stopped`.
    const result: unknown = await this.peer.request(method, args.slice(0, end));
    // JSON-RPC answers "nothing" with null; the in-process API says undefined.
    return result === null ? undefined : fromWire(result);
  }

  /** Asks the owner for an event the first time someone listens to it. */
  private want(event: string): void {
    if (this.subscribed.has(event)) return;
    this.subscribed.add(event);
    this.call(CONTROL_METHODS.subscribe, [{ events: [...this.subscribed] }]).catch(() => undefined);
  }

  private api(owner: OwnerInfo): RemoteParley {
    const events: ParleyEventsListenOnly = {
      on: ((event: keyof ParleyEventMap, fn: (...args: never[]) => void) => {
        this.want(event);
        this.emitter.on(event, fn as never);
        return events;
      }) as unknown as ParleyEventsListenOnly['on'],
      once: ((event: keyof ParleyEventMap, fn: (...args: never[]) => void) => {
        this.want(event);
        this.emitter.once(event, fn as never);
        return events;
      }) as unknown as ParleyEventsListenOnly['once'],
      off: ((event: keyof ParleyEventMap, fn?: (...args: never[]) => void) => {
        this.emitter.off(event, fn as never);
        return events;
      }) as unknown as ParleyEventsListenOnly['off'],
    };
    const namespace = (name: keyof typeof REMOTE_METHODS) =>
      Object.fromEntries(REMOTE_METHODS[name].map((method) => [method, (...args: unknown[]) => this.call(`${name}.${method}`, args)]));
    const api = {
      accounts: namespace('accounts'),
      conversations: namespace('conversations'),
      chats: namespace('chats'),
      buddies: namespace('buddies'),
      presence: namespace('presence'),
      plugins: namespace('plugins'),
      transfers: namespace('transfers'),
      settings: namespace('settings'),
      history: namespace('history'),
      events,
      searchHistory: (query: unknown) => this.call('history.search', [query]),
      flushHistory: async () => {
        await this.call('history.flush', []);
      },
      runCommand: (line: string, invocation?: unknown) => this.call('commands.run', [line, invocation]),
      snapshot: () => this.call('state.snapshot', []),
      remote: true,
      owner,
      status: () => this.call(CONTROL_METHODS.status, []),
      stopOwner: async () => {
        await this.call(CONTROL_METHODS.stop, []);
      },
      disconnected: this.disconnected,
      close: async () => {
        this.closedByClient = true;
        this.socket.end();
        await this.disconnected;
      },
    };
    return api as unknown as RemoteParley;
  }
}
