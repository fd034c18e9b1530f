import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { CancellationTokenSource, createMessageConnection, ParameterStructures, ResponseError, SocketMessageWriter, type Message, type MessageConnection } from 'vscode-jsonrpc/node.js';
import type { Parley } from '../parley.js';
import type { Logger } from '../util/logger.js';
import { isStatusPrimitive, STATUS_PRIMITIVES } from '../presence/presence.js';
import type { UiRequest } from '../ui/ui-ops.js';
import { BoundedMessageReader, type Rejection } from './bounded-reader.js';
import {
  CONTROL_METHODS,
  EVENT_NAMES,
  MAX_MESSAGE_BYTES,
  NOTIFICATIONS,
  REMOTE_API,
  checkParams,
  type ParamKind,
  REMOTE_PROTOCOL_VERSION,
  RPC_ERRORS,
  UI_REQUEST_METHOD,
  isMajorCompatible,
  type OwnerInfo,
  type OwnerStatus,
  type RemoteNamespace,
} from './protocol.js';
import type { RunFiles } from './run-directory.js';
import { snapshotOf } from './snapshot.js';
import type { UiRelay } from './ui-relay.js';
import { errorToWire, toWire } from './wire.js';

export interface ServeOptions {
  files: RunFiles;
  info: OwnerInfo;
  /** Forwards the core's questions to clients attached as UIs. */
  relay?: UiRelay;
  /** Called when a client asks the owner to stop (`parley daemon stop`). */
  onStopRequested?: () => void;
  log?: Logger;
}

interface Client {
  connection: MessageConnection;
  socket: Socket;
  greeted: boolean;
  events: Set<string>;
  detachUi: (() => void) | undefined;
}

const MAX_PARAMS = 8;

/**
 * Serves one core on the owner's Unix socket: each client's requests run
 * against the in-process API (only the methods declared in REMOTE_METHODS),
 * and the core's events go out to the clients that subscribed to them.
 */
export class ParleyServer {
  private readonly clients = new Set<Client>();
  private readonly unfollow: Array<() => void> = [];
  private server: Server | undefined;
  private closed = false;

  constructor(
    private readonly parley: Parley,
    private readonly options: ServeOptions,
  ) {}

  /** Clients attached right now, UIs and one-shot commands alike. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Listens on the socket. The caller holds the owner lock, so a file left there is a dead owner's. */
  async listen(): Promise<void> {
    removeSocket(this.options.files.socket);
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.files.socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The directory is 0700 already; the socket is closed to others as well, in case it is ever moved.
    chmodSync(this.options.files.socket, 0o600);
    for (const name of EVENT_NAMES) {
      const listener = (...args: unknown[]) => this.broadcast(name, args);
      this.parley.events.on(name, listener as never);
      this.unfollow.push(() => this.parley.events.off(name, listener as never));
    }
  }

  /** Tells every client the owner is stopping, closes their connections and the socket. */
  async close(reason = 'stopped'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unfollow.splice(0)) off();
    const server = this.server;
    const closing = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    for (const client of [...this.clients]) {
      await client.connection.sendNotification(NOTIFICATIONS.stopping, { reason }).catch(() => undefined);
      client.socket.end();
    }
    for (const client of [...this.clients]) client.socket.destroy();
    await closing;
    removeSocket(this.options.files.socket);
  }

  /** What `parley daemon status` shows: the owner, its uptime, its clients and each account's state. */
  status(): OwnerStatus {
    return {
      ...this.options.info,
      uptimeMs: Date.now() - this.options.info.startedAt,
      clients: this.clients.size,
      accounts: this.parley.accounts.list().map((a) => {
        const status = this.parley.accounts.status(a.id);
        return {
          id: a.id,
          protocol: a.protocol,
          username: a.username,
          enabled: a.enabled,
          state: status.state,
          ...(status.error === undefined ? {} : { error: { code: status.error.code, message: status.error.message } }),
        };
      }),
    };
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const writer = new ClosingWriter(socket);
    const refuse = (rejection: Rejection) => {
      void writer.write({ jsonrpc: '2.0', id: rejection.id, error: { code: rejection.code, message: rejection.message } } as never).finally(() => {
        if (rejection.fatal) socket.end();
      });
    };
    const reader = new BoundedMessageReader(socket, MAX_MESSAGE_BYTES, refuse);
    const connection = createMessageConnection(reader, writer);
    const client: Client = { connection, socket, greeted: false, events: new Set(), detachUi: undefined };
    this.clients.add(client);
    const forget = () => {
      if (!this.clients.delete(client)) return;
      client.detachUi?.();
      connection.dispose();
    };
    socket.on('close', forget);
    socket.on('error', () => socket.destroy());
    connection.onClose(forget);
    connection.onRequest((method, params) => this.handle(client, method, params));
    connection.onNotification(() => {
      // Clients send no notifications the owner acts on.
    });
    connection.listen();
  }

  private broadcast(name: string, args: unknown[]): void {
    let payload: unknown;
    for (const client of this.clients) {
      if (!client.greeted || !client.events.has(name)) continue;
      payload ??= { name, args: toWire(args) };
      client.connection.sendNotification(NOTIFICATIONS.event, payload).catch(() => client.socket.destroy());
    }
  }

  private async handle(client: Client, method: string, params: unknown): Promise<unknown> {
    if (params !== undefined && (!Array.isArray(params) || params.length > MAX_PARAMS)) throw new ResponseError(RPC_ERRORS.invalidParams, `params must be an array of at most ${MAX_PARAMS} arguments`);
    // JSON has no undefined: a null argument stands for one left out (an optional account, say).
    const args = ((params ?? []) as unknown[]).map((a) => (a === null ? undefined : a));
    if (method === CONTROL_METHODS.hello) return this.hello(client, args[0]);
    if (!client.greeted) throw new ResponseError(RPC_ERRORS.handshake, `Call ${CONTROL_METHODS.hello} first`, { code: 'handshake-required', name: 'RemoteError', message: 'handshake required' });
    try {
      return toWire(await this.run(client, method, args));
    } catch (error) {
      if (error instanceof ResponseError) throw error;
      const wire = errorToWire(error);
      if (wire.code === 'internal-error') this.options.log?.warn('a remote request failed', { method, error: wire.message });
      throw new ResponseError(RPC_ERRORS.parleyError, wire.message, wire);
    }
  }

  private hello(client: Client, params: unknown): OwnerInfo {
    const version = (params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (!isMajorCompatible(version)) {
      // Answered, then the connection closes (see ClosingWriter): nothing else can be understood.
      throw new ResponseError(RPC_ERRORS.handshake, `This Parley core speaks protocol ${REMOTE_PROTOCOL_VERSION}; the client speaks ${String(version)}`, {
        code: 'protocol-mismatch',
        name: 'RemoteError',
        message: 'protocol version mismatch',
        serverVersion: REMOTE_PROTOCOL_VERSION,
      });
    }
    client.greeted = true;
    return this.options.info;
  }

  private async run(client: Client, method: string, args: unknown[]): Promise<unknown> {
    switch (method) {
      case CONTROL_METHODS.subscribe: {
        const wanted = (args[0] as { events?: unknown } | undefined)?.events;
        const names = wanted === undefined ? EVENT_NAMES : Array.isArray(wanted) ? wanted.filter((n): n is string => typeof n === 'string') : [];
        client.events = new Set(names.filter((n) => (EVENT_NAMES as readonly string[]).includes(n)));
        return [...client.events];
      }
      case CONTROL_METHODS.attachUi:
        client.detachUi?.();
        client.detachUi = undefined;
        if ((args[0] as { ui?: unknown } | undefined)?.ui === true && this.options.relay !== undefined) {
          client.detachUi = this.options.relay.attach({
            request: (request: UiRequest, context, signal) => {
              const source = new CancellationTokenSource();
              signal?.addEventListener('abort', () => source.cancel(), { once: true });
              return client.connection.sendRequest(UI_REQUEST_METHOD, ParameterStructures.byPosition, request, context, source.token).finally(() => source.dispose());
            },
            notify: (level, title, message, accountId) => {
              client.connection.sendNotification(NOTIFICATIONS.notify, { level, title, ...(message === undefined ? {} : { message }), ...(accountId === undefined ? {} : { accountId }) }).catch(() => undefined);
            },
          });
          return true;
        }
        return false;
      case CONTROL_METHODS.status:
        return this.status();
      case CONTROL_METHODS.stop:
        setImmediate(() => this.options.onStopRequested?.());
        return true;
    }
    const dot = method.indexOf('.');
    const namespace = method.slice(0, dot) as RemoteNamespace;
    const name = method.slice(dot + 1);
    const methods = dot > 0 && Object.hasOwn(REMOTE_API, namespace) ? (REMOTE_API[namespace] as Record<string, readonly ParamKind[]>) : undefined;
    const kinds = methods !== undefined && Object.hasOwn(methods, name) ? methods[name] : undefined;
    if (kinds === undefined) throw new ResponseError(RPC_ERRORS.methodNotFound, `Unknown method ${method}`);
    const problem = checkParams(kinds, args);
    if (problem !== undefined) throw new ResponseError(RPC_ERRORS.invalidParams, `${method} ${problem}`);
    const parley = this.parley;
    if (namespace === 'history') {
      if (name === 'flush') return parley.flushHistory();
      if (name === 'older') return parley.history.older(args[0] as string, (args[1] ?? {}) as { before?: number; limit?: number });
      return parley.searchHistory(args[0] as Parameters<Parley['searchHistory']>[0]);
    }
    if (namespace === 'state') return snapshotOf(parley);
    if (namespace === 'commands') return parley.runCommand(args[0] as string, (args[1] ?? {}) as { conversationId?: string });
    if (method === 'presence.set' && !isStatusPrimitive((args[0] as { status?: unknown }).status)) {
      throw new ResponseError(RPC_ERRORS.invalidParams, `presence.set needs a status: one of ${STATUS_PRIMITIVES.join(', ')}`);
    }
    const target = parley[namespace] as unknown as Record<string, (...a: unknown[]) => unknown>;
    return target[name]!(...args);
  }
}

/**
 * unlink, not rm: Node 20's fs.rmSync on this path was seen to leave the ESM
 * loader resolving later imports under the same home without following
 * symbolic links (a plugin's `@parley/core` link then failed to load).
 */
function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Ends the connection once a refused handshake's answer is written. */
class ClosingWriter extends SocketMessageWriter {
  constructor(private readonly connectionSocket: Socket) {
    super(connectionSocket);
  }

  override async write(message: Message): Promise<void> {
    await super.write(message);
    const error = (message as { error?: { data?: { code?: unknown } } }).error;
    if (error?.data?.code === 'protocol-mismatch') this.connectionSocket.end();
  }
}

