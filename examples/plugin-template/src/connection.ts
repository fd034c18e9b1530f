import type { Socket } from 'node:net';
import { ConnectionError, type ConnectionContext, type OutgoingMessage, type Presence, type ProtocolConnection, type Target, type TypingState } from '@parley/core';
import { LineSplitter, encodeLine, parseLine, type ServerLine } from './wire.js';

/** How long the server may take to answer the login. */
const LOGIN_TIMEOUT_MS = 10_000;

/** One account's connection. The core creates one per attempt; reconnecting is the core's job. */
export class ExampleConnection implements ProtocolConnection {
  private socket: Socket | undefined;
  private online = false;

  constructor(private readonly ctx: ConnectionContext) {}

  async connect(): Promise<void> {
    const { ctx } = this;
    const host = String(ctx.settings.host);
    const port = Number(ctx.settings.port);
    ctx.progress('Connecting', 1, 2);
    // The core opens the stream: the account's proxy, the connect timeout and (with `tls: true`)
    // certificate checks with the user's trust decision all apply. It rejects with a ConnectionError.
    const socket = await ctx.net.connect({ host, port, signal: ctx.signal });
    this.socket = socket;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: ConnectionError) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          this.socket?.destroy();
          reject(error);
        } else if (this.online) {
          this.online = false;
          // After sign-in: tell the core, which decides whether and when to reconnect.
          ctx.connectionLost(error);
        }
      };
      const timer = setTimeout(() => fail(ConnectionError.network('The server did not answer the login')), LOGIN_TIMEOUT_MS);
      socket.setEncoding('utf8');
      ctx.signal.addEventListener('abort', () => socket.destroy(), { once: true });
      const lines = new LineSplitter(() => ctx.log.warn('skipped a line longer than the protocol allows'));
      socket.on('error', (error) => fail(ConnectionError.network(`Connection to ${host}:${port} failed: ${error.message}`, { cause: error })));
      socket.on('close', () => fail(ConnectionError.network('The server closed the connection')));
      void (async () => {
        ctx.progress('Signing in', 2, 2);
        const password = await ctx.getSecret('password');
        if (password === undefined) return fail(ConnectionError.invalidSettings('No password is set'));
        this.write({ op: 'login', user: ctx.account.username, password });
      })();
      socket.on('data', (chunk: string) => {
        for (const raw of lines.push(chunk)) {
          const line = parseLine(raw);
          if (line === undefined) {
            ctx.log.debug('skipped a line that is not the protocol', { line: raw.slice(0, 80) });
            continue;
          }
          if (line.op === 'welcome' && !settled) {
            settled = true;
            this.online = true;
            clearTimeout(timer);
            resolve();
          } else if (line.op === 'denied') {
            const details = { serverText: line.text };
            fail(line.reason === 'password' ? ConnectionError.authenticationFailed('The server did not accept the password', details) : ConnectionError.invalidUsername(`The server does not know ${ctx.account.username}`, details));
          } else {
            this.handle(line);
          }
        }
      });
    });
  }

  /** Lines after sign-in: each goes to the one core call that matches it. */
  private handle(line: ServerLine): void {
    const { ctx } = this;
    switch (line.op) {
      case 'msg':
        ctx.receiveMessage({ conversation: { kind: 'im', peer: line.from }, sender: line.from, text: line.text });
        break;
      case 'typing':
        ctx.typing(line.from, line.state);
        break;
      case 'presence':
        ctx.buddies.presence(line.from, line.message === undefined ? { status: line.status } : { status: line.status, message: line.message });
        break;
      default:
        break;
    }
  }

  private write(value: Record<string, unknown>): void {
    if (this.socket === undefined || this.socket.destroyed) throw ConnectionError.network('Not connected');
    this.socket.write(encodeLine(value));
  }

  async disconnect(): Promise<void> {
    this.online = false;
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    socket.removeAllListeners('close');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, 2_000);
      socket.end(() => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      });
    });
  }

  async sendMessage(target: Target, message: OutgoingMessage): Promise<void> {
    if (target.kind !== 'im') throw new Error('The Example protocol has no group chats');
    this.write({ op: 'msg', to: target.peer, text: message.text });
  }

  async setTyping(peer: string, state: TypingState): Promise<void> {
    this.write({ op: 'typing', to: peer, state });
  }

  async setPresence(presence: Presence): Promise<void> {
    // The protocol knows available and away; busy and extended away are away to it.
    const status = presence.status === 'available' ? 'available' : 'away';
    this.write({ op: 'presence', status, ...(presence.message === undefined ? {} : { message: presence.message }) });
  }
}
