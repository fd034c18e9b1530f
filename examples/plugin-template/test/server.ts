// The Example protocol's test server: a real TCP server on 127.0.0.1 with users,
// message routing, typing and presence. Replace it with your protocol's server
// (a real one started from the test, or one that follows the protocol's spec).
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class ExampleServer {
  port = 0;
  private server: Server | undefined;
  private readonly online = new Map<string, Socket>();
  private readonly sockets = new Set<Socket>();
  private readonly statuses = new Map<string, string>();

  constructor(private readonly users: Record<string, string>) {}

  async start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  /** Closes every connection and the listener, as a crashing server would. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.online.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The status the server shows for `user`. */
  statusOf(user: string): string {
    return this.online.has(user) ? (this.statuses.get(user) ?? 'available') : 'offline';
  }

  /** Drops a user's connection. */
  kick(user: string): void {
    this.online.get(user)?.destroy();
  }

  /** Raw bytes to a user's connection, for hostile-input tests. */
  sendRaw(user: string, bytes: string): void {
    this.online.get(user)?.write(bytes);
  }

  private send(socket: Socket | undefined, value: Record<string, unknown>): void {
    if (socket !== undefined && !socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    let user: string | undefined;
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (user !== undefined && this.online.get(user) === socket) {
        this.online.delete(user);
        for (const other of this.online.values()) this.send(other, { op: 'presence', from: user, status: 'offline' });
      }
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (msg.op === 'login') {
          const name = String(msg.user);
          if (!(name in this.users)) this.send(socket, { op: 'denied', reason: 'unknown-user', text: `No user ${name}` });
          else if (this.users[name] !== msg.password) this.send(socket, { op: 'denied', reason: 'password', text: 'Wrong password' });
          else {
            user = name;
            this.online.get(user)?.destroy();
            this.online.set(user, socket);
            this.statuses.set(user, 'available');
            this.send(socket, { op: 'welcome' });
            for (const [other, otherSocket] of this.online) {
              if (other === user) continue;
              this.send(socket, { op: 'presence', from: other, status: 'available' });
              this.send(otherSocket, { op: 'presence', from: user, status: 'available' });
            }
          }
          continue;
        }
        if (user === undefined) continue;
        if (msg.op === 'msg') this.send(this.online.get(String(msg.to)), { op: 'msg', from: user, text: msg.text });
        else if (msg.op === 'typing') this.send(this.online.get(String(msg.to)), { op: 'typing', from: user, state: msg.state });
        else if (msg.op === 'presence' && (msg.status === 'available' || msg.status === 'away')) {
          this.statuses.set(user, msg.status);
          for (const [other, s] of this.online) if (other !== user) this.send(s, { op: 'presence', from: user, status: msg.status, message: msg.message });
        }
      }
    });
  }
}
