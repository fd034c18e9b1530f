import { createParley, type Parley, type ParleyOptions, type LogRecord } from '@parley/core';
// @ts-expect-error plain JS test server
import { LoopbackServer } from '../loopback/server.mjs';
// @ts-expect-error plain JS test plugin
import loopbackPlugin from '../fixtures/parley-plugin-loopback/index.js';
import { join } from 'node:path';
import { tempHome } from './temp.js';

export { LoopbackServer, loopbackPlugin };

export interface LoopbackServerApi {
  port: number;
  received: Array<Record<string, unknown> & { op: string; user?: string }>;
  rosters: Record<string, Array<{ name: string; alias?: string; groups?: string[] }>>;
  /** Open client connections. */
  sockets: Set<unknown>;
  start(port?: number): Promise<LoopbackServerApi>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  pauseAccepting(): Promise<void>;
  resumeAccepting(): Promise<void>;
  kick(user: string): void;
  sendRaw(user: string, text: string): void;
}

export async function startServer(users: Record<string, string>, rosters: Record<string, unknown[]> = {}): Promise<LoopbackServerApi> {
  const server = new LoopbackServer({ users, rosters }) as LoopbackServerApi;
  await server.start();
  return server;
}

export interface TestParley {
  parley: Parley;
  home: string;
  logs: LogRecord[];
}

export async function loopbackParley(options: ParleyOptions = {}): Promise<TestParley> {
  const home = options.home ?? tempHome();
  const logs: LogRecord[] = [];
  const parley = await createParley({
    home,
    discover: false,
    plugins: [loopbackPlugin],
    secretStore: 'file',
    passphrase: 'correct horse battery staple',
    reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 },
    log: (record) => logs.push(record),
    // Never the user's own download folder: received files stay in the test's home.
    transfers: { downloadDir: join(home, 'Downloads') },
    ...options,
  });
  return { parley, home, logs };
}

export async function addLoopbackAccount(parley: Parley, port: number, username: string, password: string) {
  return parley.accounts.add({ protocol: 'loopback', username, settings: { port }, secrets: { password } });
}
