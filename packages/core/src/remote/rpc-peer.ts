import type { Socket } from 'node:net';
import { frame, FrameReader, type JsonRpcMessage } from './frame-reader.js';
import { RPC_ERRORS } from './protocol.js';

export interface RpcPeerHandlers {
  notification(method: string, params: unknown): void;
  /**
   * The requests from the other side this end answers, by method; `signal`
   * aborts when the other side cancels. Any other method is answered
   * "method not found".
   */
  requests: Readonly<Record<string, (params: unknown[], signal: AbortSignal) => Promise<unknown>>>;
  /** What a request fails with when the other side answers it with an error (JSON-RPC 2.0 §5.1). */
  answerError(code: number, message: string, data: unknown): Error;
  /** What waiting requests fail with when the connection closes or breaks. */
  closedError(): Error;
}

type Id = string | number;

/** The cancellation notification of the JSON-RPC dialect the owner speaks (LSP's). */
const CANCEL_METHOD = '$/cancelRequest';

/**
 * The client's end of a JSON-RPC 2.0 connection to the owner, with no
 * library behind it: a command that talks to a running core starts in the
 * time Node takes to start, which is what makes `parley send` through the
 * owner cheap. Parameters go by position, as the owner expects them.
 */
export class RpcPeer {
  private nextId = 1;
  private readonly pending = new Map<Id, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly incoming = new Map<Id, AbortController>();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    maxAnswerBytes: number,
    private readonly handlers: RpcPeerHandlers,
  ) {
    const frames = new FrameReader(
      maxAnswerBytes,
      (message) => this.received(message),
      (rejection) => {
        // The owner sent something this side cannot follow: nothing after it can be trusted.
        if (rejection.fatal) socket.destroy();
      },
    );
    socket.on('data', (chunk: Buffer) => frames.push(chunk));
    socket.once('close', () => this.gone());
  }

  request(method: string, params: readonly unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(this.handlers.closedError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write({ jsonrpc: '2.0', id, method, params: [...params] });
    });
  }

  private write(message: JsonRpcMessage): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(frame(message));
  }

  private received(message: JsonRpcMessage): void {
    const { id, method } = message;
    if (typeof method === 'string') {
      if (id === undefined || id === null) this.notified(method, message.params);
      else if (typeof id === 'string' || typeof id === 'number') void this.answer(id, method, message.params);
      return;
    }
    if (typeof id !== 'string' && typeof id !== 'number') return;
    const waiting = this.pending.get(id);
    if (waiting === undefined) return;
    this.pending.delete(id);
    const error = message.error as { code?: unknown; message?: unknown; data?: unknown } | undefined;
    if (error !== undefined && error !== null) {
      waiting.reject(this.handlers.answerError(typeof error.code === 'number' ? error.code : RPC_ERRORS.internalError, typeof error.message === 'string' ? error.message : 'Error', error.data));
    } else {
      waiting.resolve(message.result);
    }
  }

  private notified(method: string, params: unknown): void {
    if (method === CANCEL_METHOD) {
      const id = (params as { id?: unknown } | undefined)?.id;
      if (typeof id === 'string' || typeof id === 'number') this.incoming.get(id)?.abort();
      return;
    }
    this.handlers.notification(method, params);
  }

  private async answer(id: Id, method: string, params: unknown): Promise<void> {
    const handler = Object.hasOwn(this.handlers.requests, method) ? this.handlers.requests[method] : undefined;
    if (handler === undefined) {
      this.write({ jsonrpc: '2.0', id, error: { code: RPC_ERRORS.methodNotFound, message: `Unknown method ${method}` } });
      return;
    }
    const abort = new AbortController();
    this.incoming.set(id, abort);
    try {
      const result = await handler(Array.isArray(params) ? params : params === undefined ? [] : [params], abort.signal);
      this.write({ jsonrpc: '2.0', id, result: result === undefined ? null : result });
    } catch (error) {
      this.write({ jsonrpc: '2.0', id, error: { code: RPC_ERRORS.internalError, message: error instanceof Error ? error.message : String(error) } });
    } finally {
      this.incoming.delete(id);
    }
  }

  private gone(): void {
    this.closed = true;
    for (const abort of this.incoming.values()) abort.abort();
    this.incoming.clear();
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of waiting) reject(this.handlers.closedError());
  }
}
