import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { ClientOptions, IrcTransport, IrcTransportClass } from 'irc-framework';
import type { Logger } from '@parley/core';
import { LineDecoder } from './decode.js';
import { hasLineBreak, printable } from './sanitize.js';

export interface TransportSetup {
  log: Logger;
  encoding: string;
  fallbackEncoding: string;
  /** CAs to verify the server against; undefined means Node's defaults. */
  ca(): string[] | undefined;
  /**
   * The certificate failed the normal check: decide (asking the user) whether
   * to go on. Nothing has been sent to the server yet.
   */
  verifyCertificate(socket: tls.TLSSocket, errorCode: string): Promise<boolean>;
  connectTimeoutMs?: number;
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
 * this plugin owns what crosses the wire: TLS verified against the core's
 * CAs with the user asked about a failed check, bytes decoded with a
 * fallback encoding, overlong lines dropped, a line that would break IRC's
 * framing never written, and a line the library cannot handle skipped
 * instead of crashing the process.
 */
export function createTransportClass(setup: TransportSetup): IrcTransportClass {
  return class ParleyIrcTransport extends EventEmitter implements IrcTransport {
    private socket: net.Socket | undefined;
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

    setEncoding(): boolean {
      // The encoding is this transport's business (see TransportSetup); the library's utf8 default is ignored.
      return true;
    }

    connect(): void {
      this.disposeSocket();
      this.lastError = undefined;
      const host = this.options.host ?? '127.0.0.1';
      const port = this.options.port ?? 6697;
      const decoder = new LineDecoder({
        encoding: this.encoding,
        fallbackEncoding: setup.fallbackEncoding,
        onLine: (line) => this.deliver(line),
        onProblem: (problem, detail) => setup.log.warn(`Server data problem: ${detail}`, { problem }),
      });
      let socket: net.Socket;
      if (this.options.tls === true) {
        const ca = setup.ca();
        const tlsSocket = tls.connect({
          host,
          port,
          ...(net.isIP(host) === 0 ? { servername: host } : {}),
          ...(ca === undefined ? {} : { ca }),
          // Checked below, so that a failed check can go to the user instead of just failing.
          rejectUnauthorized: false,
        });
        tlsSocket.once('secureConnect', () => {
          if (tlsSocket.authorized) return this.opened();
          const code = String(tlsSocket.authorizationError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
          tlsSocket.pause();
          setup.verifyCertificate(tlsSocket, code).then(
            (trusted) => {
              if (this.socket !== tlsSocket) return;
              if (trusted) {
                tlsSocket.resume();
                this.opened();
              } else {
                this.lastError = Object.assign(new Error(`Certificate not trusted (${code})`), { code });
                tlsSocket.destroy();
              }
            },
            (error: unknown) => {
              this.lastError = error instanceof Error ? error : new Error(String(error));
              tlsSocket.destroy();
            },
          );
        });
        socket = tlsSocket;
      } else {
        socket = net.connect({ host, port });
        socket.once('connect', () => this.opened());
      }
      this.socket = socket;
      this.state = 'connecting';
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      const connectTimer = setTimeout(() => {
        if (this.state !== 'connecting') return;
        this.lastError = Object.assign(new Error(`No answer from ${host}:${port}`), { code: 'ETIMEDOUT' });
        socket.destroy();
      }, setup.connectTimeoutMs ?? 20_000);
      connectTimer.unref();
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
        clearTimeout(connectTimer);
        clearInterval(idleTimer);
        if (this.socket !== socket) return;
        this.state = 'disconnected';
        this.emit('close', this.lastError ?? false);
      });
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
      if (socket === undefined) return;
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
