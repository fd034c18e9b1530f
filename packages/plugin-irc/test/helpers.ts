import { waitFor } from '../../../test/helpers/wait.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParley, type Message, type Parley, type ParleyOptions, type UiOps } from '@parley/core';
import ircPlugin from '../src/index.js';

export interface Harness {
  /** The Parley home (pass it as `home` to a second harness to restart on the same data). */
  home: string;
  parley: Parley;
  messages: Message[];
  /** Adds and connects an IRC account; returns its id. */
  account(nick: string, settings: Record<string, unknown>, secrets?: Record<string, string>): Promise<string>;
  /** Shuts Parley down and removes its home, unless `keepHome`. */
  close(keepHome?: boolean): Promise<void>;
}

/**
 * Flood control for test accounts unless a test sets its own: the shipped default (4 lines, then
 * one every 2 s) is for networks that kill a fast client, and made every test that joins, queries
 * or pages history wait seconds per line. The test servers only slow a fast client down (ngircd
 * reads 3 commands a second, ergo's fake lag), so a quicker pace loses nothing; ergo-flood.test.ts
 * tests the pacing itself against ergo's limits.
 */
export const TEST_FLOOD = { floodBurst: 10, floodInterval: 250 } as const;

export async function harness(options: Partial<ParleyOptions> = {}): Promise<Harness> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'parley-irc-'));
  const parley = await createParley({
    home,
    plugins: [ircPlugin],
    discover: false,
    passphrase: 'test passphrase',
    secretStore: 'file',
    reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
    log: () => {},
    ...options,
  });
  const messages: Message[] = [];
  parley.events.on('messageWritten', (m) => messages.push(m));
  return {
    home,
    parley,
    messages,
    async account(nick, settings, secrets) {
      const acc = await parley.accounts.add({
        protocol: 'irc',
        username: `${nick}@127.0.0.1`,
        settings: { ...TEST_FLOOD, ...settings } as never,
        ...(secrets === undefined ? {} : { secrets }),
      });
      return acc.id;
    },
    async close(keepHome = false) {
      await parley.shutdown();
      if (!keepHome) rmSync(home, { recursive: true, force: true });
    },
  };
}

export { waitFor };

/** A bare IRC client on a socket, to see exactly what the server relays. */
export interface RawClient {
  lines: string[];
  /** Every byte as received, to check line lengths and encodings. */
  raw(): Buffer;
  /** The connection itself (e.g. for its local address). */
  socket: Socket;
  send(line: string): void;
  close(): void;
}

/**
 * A bare IRC client, registered as `nick` and in `channels`, that answers
 * PINGs. `before`: a line written ahead of NICK and USER (e.g. PASS).
 * `onLine` sees each line from the server as it arrives.
 */
export async function rawClient(port: number, nick: string, channels: readonly string[] = [], before?: string, onLine?: (line: string) => void): Promise<RawClient> {
  const socket: Socket = netConnect({ host: '127.0.0.1', port });
  const lines: string[] = [];
  const chunks: Buffer[] = [];
  let pending = '';
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    pending += d.toString('utf8');
    const parts = pending.split('\r\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith('PING ')) socket.write(`PONG ${line.slice(5)}\r\n`);
      onLine?.(line);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(`${before === undefined ? '' : `${before}\r\n`}NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await waitFor(() => lines.some((l) => / 001 /.test(l)), `${nick} to register`);
  for (const channel of channels) {
    socket.write(`JOIN ${channel}\r\n`);
    await waitFor(() => lines.some((l) => new RegExp(` 366 ${nick} ${channel} `, 'i').test(l)), `${nick} to join ${channel}`);
  }
  return {
    lines,
    raw: () => Buffer.concat(chunks),
    socket,
    send: (line) => socket.write(`${line}\r\n`),
    close: () => socket.destroy(),
  };
}

/** A UI that answers every confirmation with `answer` and records what it was asked. */
export function answeringUi(answer: boolean): UiOps & { asked: Array<{ title: string; details?: Record<string, string> }> } {
  const asked: Array<{ title: string; details?: Record<string, string> }> = [];
  return {
    asked,
    async request(request) {
      asked.push({ title: request.title, ...(request.kind === 'confirm' && request.details ? { details: request.details } : {}) });
      return (request.kind === 'confirm' ? answer : undefined) as never;
    },
    notify() {},
  };
}

/**
 * A TCP relay between the plugin and a server that records every line each
 * way, to check what went over the wire. `toServer` and `toClient` hold the
 * lines (without CR LF) in order.
 */
export interface WireTap {
  port: number;
  toServer: string[];
  toClient: string[];
  /** Cuts the current connections (both sides see them close); new ones are still relayed. */
  drop(): void;
  /** Writes a line to the client as if the server had sent it (a server that relays what ngircd would refuse). */
  inject(line: string): void;
  close(): Promise<void>;
}

export async function wireTap(serverPort: number): Promise<WireTap> {
  const { createServer } = await import('node:net');
  const toServer: string[] = [];
  const toClient: string[] = [];
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  const splitter = (into: string[]) => {
    let pending = '';
    return (d: Buffer) => {
      pending += d.toString('utf8');
      const parts = pending.split('\r\n');
      pending = parts.pop() ?? '';
      into.push(...parts);
    };
  };
  const server = createServer((client) => {
    const upstream = netConnect({ host: '127.0.0.1', port: serverPort });
    sockets.add(client).add(upstream);
    clients.add(client);
    client.once('close', () => clients.delete(client));
    const recordUp = splitter(toServer);
    const recordDown = splitter(toClient);
    client.on('data', (d: Buffer) => {
      recordUp(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      recordDown(d);
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    toServer,
    toClient,
    drop: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    inject: (line) => {
      for (const c of clients) c.write(`${line}\r\n`);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
