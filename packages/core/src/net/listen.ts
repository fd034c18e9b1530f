import { createServer, type Server, type Socket } from 'node:net';
import { ConnectionError } from '../errors/ConnectionError.js';

/** Where `Net.listen` opens its socket. */
export interface ListenOptions {
  /**
   * The local address to listen on: the one the peer is told to connect to
   * (a plugin passes the local address of its server connection), never every
   * interface by default.
   */
  host: string;
  /** 0 (the default) for any free port. */
  port?: number;
}

/** How long `NetListener.accept` waits for the peer. */
export interface AcceptOptions {
  /** How long to wait for the peer (default: the connect timeout, 20 s). */
  timeoutMs?: number;
  /** Ends the wait early (the user cancelled the transfer) with a `network` ConnectionError. */
  signal?: AbortSignal;
}

/**
 * A listening socket for connections a peer opens to us (DCC, SOCKS5
 * bytestreams). It lives until `close()`; a connection that arrives while
 * nobody waits in `accept` is kept for the next `accept`.
 */
export interface Listener {
  /** The address and port to tell the peer. */
  readonly host: string;
  /** The port the socket got (the one asked for, or a free one for 0). */
  readonly port: number;
  /**
   * The next incoming connection, or a `network` ConnectionError when none
   * comes in time, the signal fires or the listener is closed.
   */
  accept(options?: AcceptOptions): Promise<Socket>;
  /** Stops listening and closes connections nobody accepted. Accepted ones are the caller's. */
  close(): void;
}

/**
 * Opens a listener, for `Net.listen`. `proxied` refuses it: behind a proxy
 * the peer would reach us outside it, revealing the address the proxy hides;
 * the plugin then uses a way where it connects out (passive DCC).
 */
export async function openListener(options: ListenOptions, proxied: boolean, defaultTimeoutMs: number): Promise<Listener> {
  if (proxied) {
    throw ConnectionError.other('Parley does not accept direct connections while a proxy is set: the peer would learn the address the proxy hides', {
      fatal: true,
      hint: 'The peer has to accept the connection instead (passive transfer), or use no proxy for this account',
    });
  }
  const server: Server = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(ConnectionError.network(`Cannot listen on ${options.host}:${options.port ?? 0}: ${error.code ?? error.message}`, { cause: error, protocolDetail: error.code })),
    );
    server.listen({ host: options.host, port: options.port ?? 0, exclusive: true }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const arrived: Socket[] = [];
  const waiting: Array<(socket: Socket) => void> = [];
  const closers = new Set<() => void>();
  let closed = false;
  server.on('connection', (socket: Socket) => {
    const next = waiting.shift();
    if (next !== undefined) next(socket);
    else arrived.push(socket);
  });
  // After listening started, an error (EMFILE on accept) must not crash the process: the waiting accept times out.
  server.on('error', () => undefined);

  return {
    host: options.host,
    port,
    accept(acceptOptions = {}) {
      const queued = arrived.shift();
      if (queued !== undefined) {
        queued.resume();
        return Promise.resolve(queued);
      }
      if (closed) return Promise.reject(ConnectionError.network('The listener is closed'));
      const timeoutMs = acceptOptions.timeoutMs ?? defaultTimeoutMs;
      const signal = acceptOptions.signal;
      return new Promise<Socket>((resolve, reject) => {
        const finish = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          closers.delete(onClose);
          const index = waiting.indexOf(take);
          if (index >= 0) waiting.splice(index, 1);
        };
        const take = (socket: Socket) => {
          finish();
          socket.resume();
          resolve(socket);
        };
        const onAbort = () => {
          finish();
          reject(ConnectionError.other('Waiting for the peer was cancelled'));
        };
        const onClose = () => {
          finish();
          reject(ConnectionError.network('The listener is closed'));
        };
        const timer = setTimeout(() => {
          finish();
          reject(ConnectionError.network(`Nobody connected to ${options.host}:${port} in time`, { protocolDetail: 'ETIMEDOUT' }));
        }, timeoutMs);
        timer.unref();
        waiting.push(take);
        closers.add(onClose);
        if (signal?.aborted === true) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    close() {
      if (closed) return;
      closed = true;
      server.close();
      for (const socket of arrived.splice(0)) socket.destroy();
      for (const close of [...closers]) close();
    },
  };
}
