import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { ClientOptions, IrcTransport, IrcTransportClass } from 'irc-framework';
import type { Logger, NetConnectOptions } from '@parley/core';
import { LineDecoder } from './decode.js';
import { hasLineBreak, printable } from './sanitize.js';

export interface TransportSetup {
  log: Logger;
  encoding: string;
  fallbackEncoding: string;
  /**
   * Opens the stream (the core's `ctx.net.connect`: proxy, TLS verification and
   * the user's certificate decision, connect timeout). Rejects with a ConnectionError.
   */
  open(options: NetConnectOptions): Promise<Socket>;
  /**
   * Close the link when the server has sent nothing for this long. Checked a
   * few times per period against the time of the last chunk read, instead of
   * re-arming a timer for every line.
   */
  idleTimeoutMs?: number;
  /** Takes a line before the library parses it; returns true when it handled the line. */
  directLine?(line: string): boolean;
}

/**
 * irc-framework's socket layer, replaced (its `transport` option) so that
 * this plugin owns what crosses the wire: the stream comes from the core's
 * network layer (proxy, TLS verification, certificate trust), bytes decoded with a
 * fallback encoding, overlong lines dropped, a line that would break IRC's
 * framing never written, and a line the library cannot handle skipped
 * instead of crashing the process.
 */
export function createTransportClass(setup: TransportSetup): IrcTransportClass {
  return class ParleyIrcTransport extends EventEmitter implements IrcTransport {
    private socket: Socket | undefined;
    /** Counts connect() calls: a stream that opens after a newer attempt or a close is dropped. */
    private attempt = 0;
    private pendingOpen: AbortController | undefined;
    private state: 'disconnected' | 'connecting' | 'connected' = 'disconnected';
    private lastError: Error | undefined;
    /** When the server last sent anything (or the link opened, after a certificate question that may have taken minutes). */
    private lastData = 0;
    private readonly options: ClientOptions;
    private encoding: string;

    constructor(options: ClientOptions) {
      super();
      this.options = options;
      this.encoding = setup.encoding;
    }

    isConnected(): boolean {
      return this.state === 'connected';
    }

    /** The local address of the link to the server: the one a DCC peer is told to connect to. */
    localAddress(): string | undefined {
      return this.state === 'connected' ? this.socket?.localAddress : undefined;
    }

    setEncoding(): boolean {
      // The encoding is this transport's business (see TransportSetup); the library's utf8 default is ignored.
      return true;
    }

    connect(): void {
      this.disposeSocket();
      this.lastError = undefined;
      const host = this.options.host ?? '127.0.0.1';
      const port = this.options.port ?? 6697;
      const attempt = ++this.attempt;
      this.state = 'connecting';
      const abort = new AbortController();
      this.pendingOpen = abort;
      setup.open({ host, port, tls: this.options.tls === true, signal: abort.signal }).then(
        (socket) => {
          // Closed or reconnected meanwhile: this socket is nobody's.
          if (attempt !== this.attempt || this.state !== 'connecting') {
            socket.destroy();
            return;
          }
          this.attach(socket);
        },
        (error: unknown) => {
          if (attempt !== this.attempt || this.state !== 'connecting') return;
          this.state = 'disconnected';
          this.emit('close', error instanceof Error ? error : new Error(String(error)));
        },
      );
    }

    private attach(socket: Socket): void {
      this.pendingOpen = undefined;
      const decoder = new LineDecoder({
        encoding: this.encoding,
        fallbackEncoding: setup.fallbackEncoding,
        onLine: (line) => this.deliver(line),
        onProblem: (problem, detail) => setup.log.warn(`Server data problem: ${detail}`, { problem }),
      });
      this.socket = socket;
      socket.on('data', (chunk: Buffer) => {
        this.lastData = Date.now();
        decoder.push(chunk);
      });
      const idleMs = setup.idleTimeoutMs;
      const idleTimer =
        idleMs === undefined
          ? undefined
          : setInterval(() => {
              if (this.state !== 'connected' || Date.now() - this.lastData < idleMs) return;
              this.lastError = Object.assign(new Error(`No data from the server for ${Math.round(idleMs / 1000)} s`), { code: 'ETIMEDOUT' });
              socket.destroy();
            }, Math.max(50, Math.floor(idleMs / 4)));
      idleTimer?.unref();
      socket.on('error', (error) => {
        this.lastError = error;
      });
      socket.once('close', () => {
        clearInterval(idleTimer);
        if (this.socket !== socket) return;
        this.state = 'disconnected';
        this.emit('close', this.lastError ?? false);
      });
      this.opened();
    }

    private opened(): void {
      this.state = 'connected';
      this.lastData = Date.now();
      this.emit('open');
    }

    private deliver(line: string): void {
      try {
        if (setup.directLine?.(line) === true) return;
        this.emit('line', line);
      } catch (error) {
        // irc-framework's handlers assume well-formed lines; one that makes them throw is skipped.
        setup.log.warn('Skipped a server line that could not be handled', {
          line: printable(line.slice(0, 300)),
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }

    writeLine(line: string, callback?: () => void): void {
      const socket = this.socket;
      if (socket === undefined || this.state !== 'connected') {
        if (callback) process.nextTick(callback);
        return;
      }
      // The last guard: every caller sanitizes, but a line with CR, LF or NUL inside would be two commands.
      if (hasLineBreak(line)) {
        setup.log.error('Refused to send a line containing CR, LF or NUL', { line: printable(line.slice(0, 80)) });
        if (callback) process.nextTick(callback);
        return;
      }
      const data = this.encoding === 'utf-8' ? line + '\r\n' : Buffer.from(line + '\r\n', 'latin1');
      socket.write(data, callback === undefined ? undefined : () => callback());
    }

    close(force?: boolean): void {
      const socket = this.socket;
      if (socket === undefined) {
        if (this.state !== 'connecting') return;
        // Still opening (proxy, TLS, a certificate question): give up on it.
        this.attempt++;
        this.state = 'disconnected';
        this.pendingOpen?.abort();
        process.nextTick(() => this.emit('close', false));
        return;
      }
      if (force === true || this.state === 'connecting') {
        socket.destroy();
        return;
      }
      socket.end();
      // A server that never closes its side must not keep us waiting.
      setTimeout(() => socket.destroy(), 2_000).unref();
    }

    disposeSocket(): void {
      const socket = this.socket;
      if (socket === undefined) return;
      this.socket = undefined;
      this.state = 'disconnected';
      socket.removeAllListeners('data');
      socket.destroy();
    }
  };
}
