import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParley, type ConversationInfo, type Message, type Parley, type UiOps } from '@parley/core';
import { afterEach, beforeEach } from 'vitest';
import twitterPlugin from '../src/index.js';
import { startXApi, type RunningXApi, type User } from './x-api-server/index.js';

export const CLIENT_ID = 'parley-test-client';

export interface World {
  api: RunningXApi;
  alice: User;
  bob: User;
  carol: User;
}

/** A test X API with alice (the account), bob and carol; alice follows both. */
export async function startWorld(options: { firstId?: bigint } = {}): Promise<World> {
  const api = await startXApi(options);
  const { store } = api.server;
  const alice = store.addUser('alice', 'Alice A.', { description: 'Testing Parley', location: 'Loopback' });
  const bob = store.addUser('bob', 'Bob B.');
  const carol = store.addUser('carol', 'Carol C.');
  store.follow(alice.id, bob.id);
  store.follow(alice.id, carol.id);
  return { api, alice, bob, carol };
}

export interface Received {
  message: Message;
  conversation: ConversationInfo;
}

export interface Client {
  parley: Parley;
  accountId: string;
  home: string;
  received: Received[];
  written: Received[];
  /** Resolves once `predicate` holds for the messages seen so far (checked on every message). */
  waitFor(predicate: () => boolean, what: string): Promise<void>;
  lines(room: string, kind?: 'chat' | 'im'): Message[];
  shutdown(): Promise<void>;
}

/** How `startClient` sets the client up: its home, the account's secrets and settings, its UI. */
export interface ClientOptions {
  home?: string;
  secrets?: Record<string, string>;
  settings?: Record<string, unknown>;
  register?: boolean;
  trustTestCa?: boolean;
  ui?: UiOps;
}

/**
 * For each test of the file or `describe` it is called in: a fresh world
 * before it; after it, every client the test started through `start` shut
 * down and its home removed, then the world's API server stopped. `world` is
 * the running test's.
 */
export function worldPerTest(): { readonly world: World; start(options?: ClientOptions): Promise<Client> } {
  let current: World | undefined;
  const clients: Client[] = [];
  beforeEach(async () => {
    current = await startWorld();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) {
      await client.shutdown().catch(() => {});
      removeHome(client.home);
    }
    await current?.api.stop();
    current = undefined;
  });
  const scope = {
    get world(): World {
      if (current === undefined) throw new Error('worldPerTest: the world exists only while a test runs');
      return current;
    },
    async start(options: ClientOptions = {}): Promise<Client> {
      const client = await startClient(scope.world, options);
      clients.push(client);
      return client;
    },
  };
  return scope;
}

export async function startClient(world: World, options: ClientOptions = {}): Promise<Client> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'parley-twitter-'));
  const parley = await createParley({
    home,
    plugins: [twitterPlugin],
    passphrase: 'test-passphrase',
    secretStore: 'file',
    discover: false,
    ...(options.trustTestCa === false ? {} : { tls: { ca: [world.api.ca] } }),
    ...(options.ui === undefined ? {} : { ui: options.ui }),
    reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
    log: () => {},
  });
  const received: Received[] = [];
  const written: Received[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  parley.events.on('messageReceived', (message, conversation) => {
    received.push({ message, conversation });
    wake();
  });
  parley.events.on('messageWritten', (message, conversation) => {
    written.push({ message, conversation });
    wake();
  });
  parley.events.on('accountStatusChanged', wake);
  parley.events.on('buddyListChanged', wake);
  parley.events.on('accountInfoReceived', wake);
  let accountId: string;
  if (options.register === false) {
    accountId = parley.accounts.list()[0]!.id;
  } else {
    const account = await parley.accounts.add({
      protocol: 'twitter',
      username: 'alice',
      settings: {
        apiBaseUrl: world.api.url,
        clientId: CLIENT_ID,
        timelinePollMs: 100,
        mentionsPollMs: 100,
        dmPollMs: 100,
        followingPollMs: 200,
        ...options.settings,
      },
      secrets: options.secrets,
    });
    accountId = account.id;
  }
  return {
    parley,
    accountId,
    home,
    received,
    written,
    waitFor(predicate, what) {
      if (predicate()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate()) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        // Only a bound on a hung test, not a timing assertion.
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`Gave up waiting for ${what}`));
        }, 20_000);
        waiters.add(check);
        // Also re-check on server-side changes that produce no event.
        const tick = setInterval(() => (waiters.has(check) ? check() : clearInterval(tick)), 50);
      });
    },
    lines(room, kind = 'chat') {
      return written.filter((r) => r.conversation.kind === kind && r.conversation.name === room).map((r) => r.message);
    },
    async shutdown() {
      await parley.shutdown();
    },
  };
}

export function removeHome(home: string): void {
  rmSync(home, { recursive: true, force: true });
}
