import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createParley, type AccountInfo, type ChatParticipant, type ConversationInfo, type LogSink, type Message, type Parley, type ParleyOptions, type UiOps } from '@parley/core';
import { createTestCertificates, type TestCertificates } from '../../../test/servers/test-ca.js';
import { createOcsPlugin, type OcsEnvironment } from '../src/index.js';
import type { OcsConnection } from '../src/connection.js';
import { startOcsServer, type OcsServer, type OcsUser } from './ocs-server/server.js';

let shared: TestCertificates | undefined;

/** One test CA and server certificate per test file. */
export function testCertificates(): TestCertificates {
  shared ??= createTestCertificates(mkdtempSync(join(tmpdir(), 'ocs-ca-')), [
    'localhost',
    '127.0.0.1',
    'ocs.example.test',
    'sipinternal.example.test',
    'sip.example.test',
    'pool1.example.test',
    // Lync autodiscover web services over HTTPS (autodiscover-https.test.ts).
    'lyncdiscoverinternal.secure.test',
    'lyncdiscover.chain.test',
    'lyncdiscover.moved.test',
    'lyncdiscoverinternal.loop.test',
    'lyncdiscoverinternal.endless.test',
  ]);
  return shared;
}

export interface TestParley {
  parley: Parley;
  home: string;
  cleanup(): Promise<void>;
}

export async function startParley(
  environment: OcsEnvironment = {},
  dnsServers?: string[],
  extra: { ui?: UiOps; trustTestCa?: boolean; connections?: OcsConnection[]; log?: LogSink; reconnect?: ParleyOptions['reconnect'] } = {},
): Promise<TestParley> {
  const home = mkdtempSync(join(tmpdir(), 'ocs-parley-'));
  const plugin = createOcsPlugin({ requestTimeoutMs: 10_000, connectTimeoutMs: 5_000, ...environment });
  const seen = extra.connections;
  const parley = await createParley({
    home,
    plugins: [seen ? { ...plugin, createConnection: (context) => { const c = plugin.createConnection(context) as OcsConnection; seen.push(c); return c; } } : plugin],
    passphrase: 'test',
    secretStore: 'file',
    discover: false,
    history: false,
    tls: extra.trustTestCa === false ? {} : { ca: [testCertificates().caCert] },
    ui: extra.ui,
    reconnect: extra.reconnect ?? { initialDelayMs: 100, maxDelayMs: 1000 },
    dnsServers,
    ...(extra.log ? { log: extra.log } : {}),
  });
  return {
    parley,
    home,
    cleanup: async () => {
      await parley.shutdown();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/**
 * Adds `name@example.test`'s OCS account to `parley`, signing in to the test
 * server on `port` over TLS with NTLM as `name` (password `name-pw`, as the
 * tests' users are set up). Not connected yet: listeners can go on first.
 */
export function addTestAccount(parley: Parley, port: number, name: string): Promise<AccountInfo> {
  return parley.accounts.add({
    protocol: 'ocs',
    username: `${name}@example.test`,
    settings: { server: `127.0.0.1:${port}`, transport: 'tls', authentication: 'ntlm', login: name },
    secrets: { password: `${name}-pw` },
  });
}

/**
 * The test OCS server with TLS (the file's test certificate) for every test
 * of the file: started before the first test, closed after the last. After
 * each test, `afterEachTest` resets what the test changed on the server, then
 * every Parley the test put in `running` is shut down.
 */
export function tlsServerPerFile(users: OcsUser[], afterEachTest?: (server: OcsServer) => void): { readonly server: OcsServer; readonly running: TestParley[] } {
  let server: OcsServer | undefined;
  const running: TestParley[] = [];
  beforeAll(async () => {
    const { key, cert } = testCertificates();
    server = await startOcsServer({ users, tls: { key, cert } });
  });
  afterEach(async () => {
    if (server !== undefined) afterEachTest?.(server);
    while (running.length) await running.pop()!.cleanup();
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get server(): OcsServer {
      if (server === undefined) throw new Error('tlsServerPerFile: the server runs only during the tests of its file');
      return server;
    },
    running,
  };
}

/** What a test party saw in its group chats, as `recordChats` collects it. */
export interface ChatRecord {
  /** Every message received in a group chat, in order. */
  messages: Array<{ room: string; sender: string; text: string }>;
  /** Each room's participants (nicks, sorted) as last reported. */
  rosters: Map<string, string[]>;
}

/** Starts recording `parley`'s group chat messages and rosters; call it before the account connects. */
export function recordChats(parley: Parley): ChatRecord {
  const record: ChatRecord = { messages: [], rosters: new Map() };
  parley.events.on('messageReceived', (m: Message, c: ConversationInfo) => {
    if (c.kind === 'chat') record.messages.push({ room: c.name, sender: m.sender, text: m.text });
  });
  parley.events.on('conversationParticipantsChanged', (c: ConversationInfo, list: readonly ChatParticipant[]) => record.rosters.set(c.name, list.map((p) => p.nick).sort()));
  return record;
}
