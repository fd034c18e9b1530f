/**
 * A sip.js Transport over TCP or TLS (sip.js ships only WebSockets).
 * It follows the state machine of sip.js' `Transport` interface, frames the
 * stream with SipFramer, sends CRLF keep-alives, and bounds every wait.
 */
import type { Socket } from 'node:net';
import { EmitterImpl, TransportState, type Emitter, type Transport } from 'sip.js';
import { ConnectionError, type NetConnectOptions } from '@parley/core';
import { DEFAULT_LIMITS, FramingError, SipFramer, type FramerLimits } from './framer.js';

export interface StreamTransportOptions {
  /** Host name: used for the certificate check and SNI. */
  host: string;
  /** Address to connect to, when already resolved; defaults to `host`. */
  address?: string;
  port: number;
  secure: boolean;
  /** Opens the stream: the core's `ctx.net.connect` (proxy, TLS verification and the user's decision). */
  open(options: NetConnectOptions): Promise<Socket>;
  connectTimeoutMs?: number;
  /** A message that stays incomplete this long breaks the connection. */
  partialMessageTimeoutMs?: number;
  limits?: FramerLimits;
  /** Last look at each outgoing message (signing); returns what is sent. */
  outgoing?: (message: string) => string;
  /** Called for raw traffic (already redacted by the logger). */
  trace?: (direction: 'in' | 'out', message: string) => void;
}

export class StreamTransport implements Transport {
  readonly protocol: string;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  /** Set when a connection attempt failed with a user-facing reason. */
  lastError: ConnectionError | undefined;

  private _state: TransportState = TransportState.Disconnected;
  private readonly _stateChange = new EmitterImpl<TransportState>();
  private socket: Socket | undefined;
  private framer: SipFramer;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private partialTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: StreamTransportOptions) {
    this.protocol = options.secure ? 'TLS' : 'TCP';
    this.framer = new SipFramer(options.limits ?? DEFAULT_LIMITS);
  }

  get state(): TransportState {
    return this._state;
  }
  get stateChange(): Emitter<TransportState> {
    return this._stateChange;
  }
  /** The local address and port of the connection, for Via and Contact. */
  get localAddress(): { address: string; port: number } {
    return { address: this.socket?.localAddress ?? '127.0.0.1', port: this.socket?.localPort ?? 0 };
  }
  isConnected(): boolean {
    return this._state === TransportState.Connected;
  }

  connect(): Promise<void> {
    if (this._state === TransportState.Connected) return Promise.resolve();
    if (this._state === TransportState.Connecting && this.connecting) return this.connecting;
    this.transition(TransportState.Connecting);
    this.connecting = this.open().then(
      (socket) => {
        this.connecting = undefined;
        this.socket = socket;
        this.framer = new SipFramer(this.options.limits ?? DEFAULT_LIMITS);
        socket.on('data', (chunk: Buffer) => this.receive(chunk));
        socket.on('error', (error) => this.drop(error));
        socket.on('close', () => this.drop(new Error('Connection closed by the server')));
        this.transition(TransportState.Connected);
      },
      (error: unknown) => {
        this.connecting = undefined;
        this.lastError = ConnectionError.is(error) ? error : ConnectionError.network(`Could not connect to ${this.options.host}:${this.options.port}: ${(error as Error).message}`, { cause: error });
        this.transition(TransportState.Disconnected);
        throw this.lastError;
      },
    );
    return this.connecting;
  }

  private open(): Promise<Socket> {
    const { host, port, secure } = this.options;
    // The core's network layer: proxy, TLS checked against `host` with the user asked about a failure, timeout.
    return this.options.open({
      host: this.options.address ?? host,
      port,
      tls: secure,
      servername: host,
      timeoutMs: this.options.connectTimeoutMs ?? 15_000,
    });
  }

  private receive(chunk: Buffer): void {
    let messages: string[];
    try {
      messages = this.framer.push(chunk);
    } catch (error) {
      // What came intact before the break is delivered; then the stream, which cannot be resynchronised, is dropped.
      if (error instanceof FramingError) this.deliver(error.framed);
      this.drop(error as Error);
      return;
    }
    clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
    if (this.framer.pending) {
      this.partialTimer = setTimeout(
        () => this.drop(new FramingError('Incomplete SIP message from the server (wrong Content-Length or stalled connection)')),
        this.options.partialMessageTimeoutMs ?? 30_000,
      );
    }
    this.deliver(messages);
  }

  private deliver(messages: readonly string[]): void {
    for (const message of messages) {
      if (this._state !== TransportState.Connected) return;
      this.options.trace?.('in', message);
      this.onMessage?.(message);
    }
  }

  send(message: string): Promise<void> {
    if (!this.socket || this._state !== TransportState.Connected) return Promise.reject(new Error('SIP transport is not connected'));
    const text = this.options.outgoing ? this.options.outgoing(message) : message;
    this.options.trace?.('out', text);
    const socket = this.socket;
    return new Promise((resolve, reject) => socket.write(text, 'utf8', (error) => (error ? reject(error) : resolve())));
  }

  /** CRLF keep-alive every `intervalMs` ([MS-SIPRE] 3.4.2 ms-keep-alive). */
  startKeepAlive(intervalMs: number): void {
    clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = setInterval(() => {
      if (this.socket && this._state === TransportState.Connected) this.socket.write('\r\n\r\n');
    }, intervalMs);
    this.keepAliveTimer.unref();
  }

  disconnect(): Promise<void> {
    if (this._state === TransportState.Disconnected) return Promise.resolve();
    this.transition(TransportState.Disconnecting);
    this.teardown();
    this.transition(TransportState.Disconnected);
    return Promise.resolve();
  }

  async dispose(): Promise<void> {
    await this.disconnect();
  }

  private teardown(): void {
    clearInterval(this.keepAliveTimer);
    clearTimeout(this.partialTimer);
    this.keepAliveTimer = undefined;
    this.partialTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      socket.on('error', () => undefined);
      socket.destroy();
    }
  }

  /** The connection broke without being asked to. */
  private drop(error: Error): void {
    if (this._state !== TransportState.Connected) return;
    this.teardown();
    this.transition(TransportState.Disconnected, error);
  }

  private transition(state: TransportState, error?: Error): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    if (state === TransportState.Connected) this.onConnect?.();
    if (previous === TransportState.Connected) this.onDisconnect?.(error);
    this._stateChange.emit(state);
  }
}
