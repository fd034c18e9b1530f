import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Net } from '@parley/core';
import type { Security } from './options.js';
import { negotiateStartTls, type StreamParserClass } from './starttls.js';

export interface TransportConfig {
  security: Security;
  /** The XMPP domain: RFC 6120 §13.7.2.1 checks the certificate against it, not the connect host. */
  domain: string;
  /** The core's network layer: proxy, TLS verification and the user's certificate decision. */
  net: Net;
  /** How long the STARTTLS negotiation may wait for each answer of the server. */
  stepTimeoutMs?: number;
  /** Called once the socket is open, secured or not (for progress). */
  onOpen?(secure: boolean): void;
  /**
   * The server closed the connection without an error. An error returned is
   * emitted before 'close': @xmpp/client waits for a step (the stream
   * header) on 'open' or 'error' only, and would otherwise sit out its whole
   * step limit on a connection that is already gone.
   */
  onPeerClose?(): Error | undefined;
}

/**
 * The socket @xmpp/client writes to: it opens TCP, negotiates TLS as the
 * account says (STARTTLS or direct TLS) and only then reports `connect`, so
 * the library's own STARTTLS step finds nothing to upgrade and every stream
 * it opens is already encrypted. It speaks the library's socket interface
 * (events connect / data / close / error; write, end, `secure`).
 */
export class SecureSocket extends EventEmitter {
  secure = false;
  private socket: Socket | undefined;
  private closed = false;
  /** Cancels an open still in progress (proxy, TLS, a certificate question) when the library gives up. */
  private readonly abort = new AbortController();
  /** The TCP connection is fully closed (not only asked to). */
  private gone = false;
  /** Writes are being gathered until the end of this turn. */
  private corked = false;

  /** Our end's address on the connection to the server: where peers on the same network may reach us. */
  get localAddress(): string | undefined {
    return this.socket?.localAddress;
  }

  get isClosed(): boolean {
    return this.gone || this.socket === undefined;
  }

  constructor(private readonly config: TransportConfig, private readonly Parser: StreamParserClass) {
    super();
  }

  connect(params: { host: string; port: number }): void {
    this.open(params).then(
      (socket) => {
        if (this.closed) {
          socket.destroy();
          return;
        }
        this.attach(socket);
        this.config.onOpen?.(this.secure);
        this.emit('connect');
      },
      (error: unknown) => {
        this.fail(error);
        this.closed = true;
        this.emit('close', true);
      },
    );
  }

  private async open({ host, port }: { host: string; port: number }): Promise<Socket> {
    const { net, domain } = this.config;
    const signal = this.abort.signal;
    if (this.config.security === 'tls') {
      // Direct TLS (XEP-0368): SNI and the certificate check use the domain, not the SRV target.
      const socket = await net.connect({ host, port, tls: true, servername: domain, signal });
      this.secure = true;
      return socket;
    }
    const raw = await net.connect({ host, port, signal });
    if (this.config.security === 'plain') return raw;
    try {
      await negotiateStartTls(raw, domain, this.Parser, this.config.stepTimeoutMs);
      const socket = await net.startTls(raw, { servername: domain, signal });
      this.secure = true;
      return socket;
    } catch (error) {
      raw.destroy();
      throw error;
    }
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    // Stanzas are small and often sent back to back (presence, then an IQ):
    // with Nagle's algorithm the second waits for the server's delayed ACK
    // (about 40 ms on Linux) before it leaves.
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.emit('data', data));
    socket.on('error', (error: Error) => this.fail(error));
    socket.once('close', (hadError: boolean) => {
      // Closed by the other end (not by end() or destroy()), and not already reported as an error.
      if (!this.closed && !hadError) {
        const error = this.config.onPeerClose?.();
        if (error !== undefined) this.fail(error);
      }
      this.closed = true;
      this.gone = true;
      this.emit('close', hadError);
    });
  }

  /**
   * The library stops listening once a socket closed; an error after that
   * (a reset during teardown) has nobody to go to and must not become an
   * uncaught exception.
   */
  private fail(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  write(data: string, callback?: (error?: Error | null) => void): void {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) {
      callback?.(new Error('Not connected'));
      return;
    }
    // Stanzas written in the same turn (the roster get and the discovery
    // requests of a sign-in, a burst of messages) leave in one write: one
    // system call and one wake-up of the server instead of one each.
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(data, callback);
  }

  end(): void {
    this.closed = true;
    if (this.socket === undefined) this.abort.abort();
    this.socket?.end();
  }

  /** Drops the connection at once (keepalive timeout). */
  destroy(): void {
    this.closed = true;
    if (this.socket === undefined) this.abort.abort();
    this.socket?.destroy();
  }
}

/** What we need of @xmpp/client's connection classes (not in its published types). */
export interface TransportClass {
  new (...args: never[]): unknown;
  prototype: { socketParameters(service: string): unknown; Socket: unknown; Parser: StreamParserClass };
}

/**
 * Replaces the client's transports with one TCP transport whose socket is
 * ours. `service` is always `xmpp://host:port`; security comes from the
 * account, not the URI. `streamParser`, when given, makes the parser the
 * client reads its streams with from the library's (STARTTLS, read before
 * any stream is handed to the library, keeps the library's).
 */
export function installTransport(
  transports: TransportClass[],
  config: TransportConfig,
  track: (socket: SecureSocket) => void,
  streamParser?: (Base: StreamParserClass) => StreamParserClass,
): void {
  const Base = transports.find((T) => {
    try {
      return T.prototype.socketParameters('xmpp://example.org:5222') !== undefined;
    } catch {
      return false;
    }
  });
  if (Base === undefined) throw new Error('@xmpp/client has no TCP transport');
  const Parser = Base.prototype.Parser;
  class ParleySocket extends SecureSocket {
    constructor() {
      super(config, Parser);
      track(this);
    }
  }
  const Transport = class extends (Base as unknown as new () => object) {
    socketParameters(service: string): { host: string; port: number } | undefined {
      const match = /^xmpp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(service);
      if (match === null) return undefined;
      return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
    }
  } as unknown as TransportClass;
  Transport.prototype.Socket = ParleySocket;
  if (streamParser !== undefined) Transport.prototype.Parser = streamParser(Parser);
  transports.splice(0, transports.length, Transport);
}
