import { isDeepStrictEqual } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, MessageError, PluginError, defineFeaturePlugin, type Message } from '@parley/core';
import { addLoopbackAccount, loopbackParley, startServer, type LoopbackServerApi, type TestParley } from './helpers/loopback.js';
import { DEFAULT_WAIT_MS, until, waitFor, waitForEvent } from './helpers/wait.js';
import { filesContaining } from './helpers/temp.js';

const cleanup: Array<() => Promise<void>> = [];
const LOOPBACK_MODULE = new URL('./fixtures/parley-plugin-loopback/index.js', import.meta.url).href;

/** A loopback server with alice on it, and a Parley with her account, the loopback plugin in process or in a worker (loaded from its module). */
async function aliceWith(isolation: 'none' | 'worker', rosters: Record<string, unknown[]> = {}): Promise<{ server: LoopbackServerApi; a: TestParley; alice: { id: string } }> {
  const server = await startServer({ alice: 'alice-pw' }, rosters);
  cleanup.push(() => server.stop());
  const a = await loopbackParley(isolation === 'worker' ? { plugins: [], pluginModules: [LOOPBACK_MODULE], isolation } : {});
  cleanup.push(() => a.parley.shutdown());
  return { server, a, alice: await addLoopbackAccount(a.parley, server.port, 'alice', 'alice-pw') };
}
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function setup(users = { alice: 'alice-secret-pw', bob: 'bob-secret-pw' }, rosters: Record<string, unknown[]> = {}) {
  const server = await startServer(users, rosters);
  cleanup.push(() => server.stop());
  const a = await loopbackParley();
  cleanup.push(() => a.parley.shutdown());
  const b = await loopbackParley();
  cleanup.push(() => b.parley.shutdown());
  const alice = await addLoopbackAccount(a.parley, server.port, 'alice', users.alice);
  const bob = await addLoopbackAccount(b.parley, server.port, 'bob', users.bob);
  return { server, a, b, alice, bob };
}

describe('core end to end over the loopback protocol', () => {
  it('signs in with progress steps and exchanges messages both ways', async () => {
    const { a, b, alice, bob } = await setup();
    const progress: string[] = [];
    a.parley.events.on('accountStatusChanged', (_acc, status) => {
      if (status.progress) progress.push(status.progress.text);
    });
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    expect(a.parley.accounts.status(alice.id).state).toBe('online');
    expect(progress).toEqual(expect.arrayContaining(['Connecting', 'Signing in']));

    const received = waitForEvent(b.parley.events, 'messageReceived');
    const sent = await a.parley.conversations.sendIm(alice.id, 'bob', 'hello bob, lunch at noon?');
    expect(sent?.delivery).toBe('sent');
    const [message, conversation] = await received;
    expect(message.text).toBe('hello bob, lunch at noon?');
    expect(message.sender).toBe('alice');
    expect(conversation.kind).toBe('im');
    expect(conversation.name).toBe('alice');

    const reply = waitForEvent(a.parley.events, 'messageReceived');
    await b.parley.conversations.send(conversation.id, 'yes, see you');
    expect((await reply)[0].text).toBe('yes, see you');
    const aliceConversation = a.parley.conversations.find(alice.id, 'im', 'bob')!;
    expect(aliceConversation.messages.map((m) => [m.direction, m.text])).toEqual([
      ['outgoing', 'hello bob, lunch at noon?'],
      ['incoming', 'yes, see you'],
    ]);
  });

  it('writes every message to history, searchable by words, peer, account and date', async () => {
    const { a, b, alice, bob } = await setup();
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    const got = waitForEvent(b.parley.events, 'messageReceived', (m) => m.text.includes('quarterly'));
    const before = Date.now();
    await a.parley.conversations.sendIm(alice.id, 'bob', 'the quarterly report is ready');
    await a.parley.conversations.sendIm(alice.id, 'bob', 'unrelated chatter');
    await got;
    const byWords = await a.parley.searchHistory({ words: 'report quarterly' });
    expect(byWords.map((e) => e.text)).toEqual(['the quarterly report is ready']);
    expect(byWords[0]!.peer).toBe('bob');
    expect(await a.parley.searchHistory({ words: 'report', peer: 'carol' })).toEqual([]);
    expect((await a.parley.searchHistory({ peer: 'bob', account: 'loopback:alice' })).length).toBe(2);
    expect(await a.parley.searchHistory({ words: 'report', since: Date.now() + 60_000 })).toEqual([]);
    expect((await a.parley.searchHistory({ words: 'report', since: before - 1000, until: Date.now() + 1000 })).length).toBe(1);
    // FTS syntax in what a person types is text, not a query.
    expect(await a.parley.searchHistory({ words: 'report" * (' })).toHaveLength(1);
    expect(await a.parley.searchHistory({ words: 'report OR chatter' })).toEqual([]);
    const bobSide = await b.parley.searchHistory({ words: 'quarterly' });
    expect(bobSide.map((e) => [e.direction, e.sender])).toEqual([['incoming', 'alice']]);
  });

  it('a wrong password is fatal: one attempt, no reconnect loop, the reason and server text reach the UI', async () => {
    const server = await startServer({ alice: 'right' });
    cleanup.push(() => server.stop());
    const a = await loopbackParley();
    cleanup.push(() => a.parley.shutdown());
    const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'wrong');
    const error = await a.parley.accounts.connect(alice.id).catch((e: unknown) => e);
    expect(ConnectionError.is(error)).toBe(true);
    expect((error as ConnectionError).reason).toBe('authentication-failed');
    expect((error as ConnectionError).fatal).toBe(true);
    expect((error as ConnectionError).serverText).toBe('Wrong password');
    const status = a.parley.accounts.status(alice.id);
    // No retry is scheduled (the core's state says so), and the attempt's connection is closed:
    // nothing more can reach the server, so what it saw now is all it will see.
    expect(status.state).toBe('error');
    expect(status.nextAttemptAt).toBeUndefined();
    await until(() => server.sockets.size === 0, DEFAULT_WAIT_MS, 'the failed attempt to close its connection');
    expect(server.received.filter((m) => m.op === 'login')).toHaveLength(1);
    expect(a.parley.accounts.status(alice.id)).toMatchObject({ state: 'error' });
  });

  it('reconnects after the connection drops, shows the next attempt time, and sends what was queued meanwhile', async () => {
    const { server, a, b, alice, bob } = await setup();
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    await server.stop();
    await until(() => a.parley.accounts.status(alice.id).state === 'reconnecting', DEFAULT_WAIT_MS, 'reconnecting');
    const status = a.parley.accounts.status(alice.id);
    expect(status.error?.reason).toBe('network');
    expect(status.nextAttemptAt).toBeGreaterThan(Date.now() - 1000);

    const queued = await a.parley.conversations.sendIm(alice.id, 'bob', 'sent while the server was down');
    expect(queued?.delivery).toBe('queued');
    expect(a.parley.conversations.queued(alice.id)).toHaveLength(1);

    const received = waitForEvent(b.parley.events, 'messageReceived', (m) => m.text === 'sent while the server was down');
    await server.start(server.port);
    await until(() => a.parley.accounts.status(alice.id).state === 'online' && b.parley.accounts.status(bob.id).state === 'online', 10_000, 'both online');
    const [message] = await received;
    expect(message.sender).toBe('alice');
    expect(a.parley.conversations.queued(alice.id)).toHaveLength(0);
  });

  it('after a drop the first retry is the quick one, not the backoff a failed attempt waits', async () => {
    const server = await startServer({ alice: 'pw' });
    const a = await loopbackParley({ reconnect: { afterDropDelayMs: 50, initialDelayMs: 60_000, jitter: 0 } });
    cleanup.push(() => a.parley.shutdown());
    const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'pw');
    await a.parley.accounts.connect(alice.id);
    const seen: Array<{ at: number; state: string; attempt?: number; nextAttemptAt?: number }> = [];
    a.parley.events.on('accountStatusChanged', (account, status) => {
      if (account.id === alice.id) seen.push({ at: Date.now(), ...status });
    });
    await server.stop();
    const waits = async (attempt: number) => {
      const status = await waitFor(() => seen.find((s) => s.state === 'reconnecting' && s.attempt === attempt), `reconnecting after ${attempt} failed attempts`);
      return status.nextAttemptAt! - status.at;
    };
    expect(await waits(0)).toBeLessThanOrEqual(50);
    // The quick retry finds the server still down: from then on, the backoff.
    expect(await waits(1)).toBeGreaterThan(30_000);
  });

  it('a message sent the moment the account is back waits behind the queue: the peer gets them in the order written', async () => {
    const { server, a, b, alice, bob } = await setup();
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    await server.stop();
    await until(() => a.parley.accounts.status(alice.id).state === 'reconnecting', DEFAULT_WAIT_MS, 'reconnecting');
    for (const text of ['queued 1', 'queued 2', 'queued 3']) await a.parley.conversations.sendIm(alice.id, 'bob', text);
    // Sent from the status event itself: before the core has begun to send the queue.
    const live = new Promise<Message | undefined>((resolve, reject) => {
      const onStatus = (account: { id: string }, status: { state: string }) => {
        if (account.id !== alice.id || status.state !== 'online') return;
        a.parley.events.off('accountStatusChanged', onStatus);
        a.parley.conversations.sendIm(alice.id, 'bob', 'written after the reconnect').then(resolve, reject);
      };
      a.parley.events.on('accountStatusChanged', onStatus);
    });
    const received: string[] = [];
    b.parley.events.on('messageReceived', (m) => received.push(m.text));
    await server.start(server.port);
    expect((await live)?.delivery).toBe('queued');
    await until(() => received.length === 4, 10_000, 'all four messages');
    expect(received).toEqual(['queued 1', 'queued 2', 'queued 3', 'written after the reconnect']);
    expect(a.parley.conversations.queued(alice.id)).toHaveLength(0);
  });

  it('a message that arrives twice with the same id is shown once; another text under a reused id is shown', async () => {
    const { server, a, alice } = await setup();
    await a.parley.accounts.connect(alice.id);
    const received: string[] = [];
    a.parley.events.on('messageReceived', (m) => received.push(m.text));
    const twice = '{"op":"msg","from":"bob","id":"m7","text":"sent again after a lost acknowledgement"}\n';
    server.sendRaw('alice', twice + twice + '{"op":"msg","from":"bob","id":"m7","text":"a client that reuses ids"}\n{"op":"msg","from":"bob","text":"end"}\n');
    await until(() => received.includes('end'), DEFAULT_WAIT_MS, 'the last message');
    expect(received).toEqual(['sent again after a lost acknowledgement', 'a client that reuses ids', 'end']);
  });

  it('a queued message is reported failed after the bound, not dropped', async () => {
    const server = await startServer({ alice: 'pw' });
    await server.stop(); // nobody listens on the port
    const a = await loopbackParley({ sendQueueTimeoutMs: 300 });
    cleanup.push(() => a.parley.shutdown());
    const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'pw');
    await a.parley.accounts.connect(alice.id).catch(() => undefined);
    const failed = waitForEvent(a.parley.events, 'messageFailed');
    await a.parley.conversations.sendIm(alice.id, 'bob', 'are you there?');
    const [message, , error] = await failed;
    expect(message.text).toBe('are you there?');
    expect(message.delivery).toBe('failed');
    expect(error.code).toBe('send-timeout');
    const conversation = a.parley.conversations.find(alice.id, 'im', 'bob')!;
    await until(() => conversation.messages.some((m) => m.flags.error === true && m.text.includes('are you there?')), DEFAULT_WAIT_MS, 'error line');
  });

  it('reports a message failed when the account is in a fatal error state', async () => {
    const server = await startServer({ alice: 'right' });
    cleanup.push(() => server.stop());
    const a = await loopbackParley();
    cleanup.push(() => a.parley.shutdown());
    const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'wrong');
    await a.parley.accounts.connect(alice.id).catch(() => undefined);
    const error = await a.parley.conversations.sendIm(alice.id, 'bob', 'hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageError);
    expect((error as MessageError).code).toBe('no-route');
  });

  it('hooks rewrite and cancel messages; a throwing hook is isolated, named, and its plugin disabled when it keeps failing', async () => {
    const { a, b, alice, bob } = await setup();
    const faults: string[] = [];
    const disabled: string[] = [];
    b.parley.events.on('pluginFault', (e) => faults.push(`${e instanceof PluginError ? e.plugin : 'not a PluginError'}:${e.code}`));
    b.parley.events.on('pluginDisabled', (name) => disabled.push(name));
    await a.parley.plugins.use(
      defineFeaturePlugin({
        name: 'shouter',
        apply(api) {
          api.hooks.sendingMessage.tap((m) => ({ ...m, text: m.text.toUpperCase() }));
        },
      }),
    );
    await b.parley.plugins.use(
      defineFeaturePlugin({
        name: 'spam-filter',
        apply(api) {
          api.hooks.receivingMessage.tap((m) => (m.text.includes('BUY NOW') ? null : undefined));
        },
      }),
    );
    await b.parley.plugins.use(
      defineFeaturePlugin({
        name: 'broken',
        apply(api) {
          api.hooks.receivingMessage.tap(() => {
            throw new Error('boom');
          });
        },
      }),
    );
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    const seen: Message[] = [];
    b.parley.events.on('messageReceived', (m) => seen.push(m));
    const sent = await a.parley.conversations.sendIm(alice.id, 'bob', 'buy now cheap');
    expect(sent?.text).toBe('BUY NOW CHEAP');
    for (let i = 1; i <= 5; i++) await a.parley.conversations.sendIm(alice.id, 'bob', `message ${i}`);
    await until(() => seen.length === 5, DEFAULT_WAIT_MS, 'five messages');
    expect(seen.map((m) => m.text)).toEqual(['MESSAGE 1', 'MESSAGE 2', 'MESSAGE 3', 'MESSAGE 4', 'MESSAGE 5']);
    expect(faults.slice(0, 5)).toEqual(Array(5).fill('broken:plugin-hook-failed'));
    expect(disabled).toEqual(['broken']);
    expect(b.parley.plugins.list().find((p) => p.name === 'broken')?.status).toBe('disabled');
  });

  it.each(['none', 'worker'] as const)('says when the server roster is applied (buddyListSynced), isolation %s', async (isolation) => {
    const { server, a, alice } = await aliceWith(isolation, { alice: [{ name: 'bob', groups: ['Work'] }, { name: 'carol' }] });
    const seen: string[][] = [];
    a.parley.events.on('buddyListSynced', (accountId) => seen.push([accountId, ...a.parley.buddies.contacts().map((c) => c.displayName).sort()]));
    const synced = waitForEvent(a.parley.events, 'buddyListSynced', (id) => id === alice.id);
    await a.parley.accounts.connect(alice.id);
    await synced;
    // When the event comes, the list is the server's.
    expect(seen).toEqual([[alice.id, 'bob', 'carol']]);

    // Each sign-in says it again, after the roster of that sign-in: a buddy removed on the server meanwhile is gone.
    await a.parley.accounts.disconnect(alice.id);
    server.rosters.alice = [{ name: 'carol' }];
    const again = waitForEvent(a.parley.events, 'buddyListSynced', (id) => id === alice.id);
    await a.parley.accounts.connect(alice.id);
    await again;
    expect(seen).toEqual([
      [alice.id, 'bob', 'carol'],
      [alice.id, 'carol'],
    ]);
  });

  it.each(['none', 'worker'] as const)('the plugin reads the buddy list as the core made it from the roster it synced, and as the core changes it, isolation %s', async (isolation) => {
    // carol has no group (the core puts her in Buddies) and "" is no name (the core drops it): the core's list differs from what the plugin gave.
    const roster = [{ name: 'bob', alias: 'Bob B.', groups: ['Work'] }, { name: 'carol' }, { name: '' }];
    const { a, alice } = await aliceWith(isolation, { alice: roster });
    const synced = waitForEvent(a.parley.events, 'buddyListSynced', (id) => id === alice.id);
    await a.parley.accounts.connect(alice.id);
    await synced;
    const conversation = a.parley.conversations.openIm(alice.id, 'bob');
    const list = async () => JSON.parse((await a.parley.runCommand('/buddylist', { conversationId: conversation.id })) as string) as unknown[];
    const core = [{ name: 'bob', alias: 'Bob B.', groups: ['Work'] }, { name: 'carol', groups: ['Buddies'] }];
    // In the end the plugin reads the core's list, wherever it runs.
    await until(async () => isDeepStrictEqual(await list(), core), DEFAULT_WAIT_MS, "the core's list in the plugin");
    // A change made in the core reaches the plugin's list.
    await a.parley.buddies.add(alice.id, 'dave', { group: 'Friends' });
    await until(async () => (await list()).some((e) => (e as { name: string }).name === 'dave'), DEFAULT_WAIT_MS, 'the added buddy in the plugin');
    expect(await list()).toEqual([...core, { name: 'dave', groups: ['Friends'] }]);
  });

  it.each(['none', 'worker'] as const)('what a plugin carries over between attempts is gone once the account is signed off, isolation %s', async (isolation) => {
    const { a, alice } = await aliceWith(isolation);
    await a.parley.accounts.connect(alice.id);
    const conversation = a.parley.conversations.openIm(alice.id, 'bob');
    expect(await a.parley.runCommand('/carryover kept', { conversationId: conversation.id })).toBe('kept');
    // Signed off by the user: nothing follows this attempt, so nothing is carried to the next sign-in.
    await a.parley.accounts.disconnect(alice.id);
    await a.parley.accounts.connect(alice.id);
    expect(await a.parley.runCommand('/carryover', { conversationId: conversation.id })).toBe('');
  });

  it.each(['none', 'worker'] as const)('the plugin state keeps a string as that string and any other value as its JSON, across sign-ins and restarts, isolation %s', async (isolation) => {
    const { a, alice } = await aliceWith(isolation);
    await a.parley.accounts.connect(alice.id);
    const state = async (parley: typeof a.parley, args: string) => JSON.parse((await parley.runCommand(`/state ${args}`, { conversationId: parley.conversations.openIm(alice.id, 'bob').id })) as string) as { type: string; value?: unknown };
    // A string that is JSON text itself (as a kept roster is), with quotes, a backslash and characters outside ASCII: never parsed, never escaped twice.
    const text = '{"ver":"7","items":["a \\"quoted\\" \\\\ name","Zoë ☃ 😀"]}';
    expect(await state(a.parley, `text roster ${text}`)).toEqual({ type: 'string', value: text });
    expect(await state(a.parley, 'set counts {"a":[1,"x"],"n":null}')).toEqual({ type: 'object', value: { a: [1, 'x'], n: null } });
    expect(await state(a.parley, 'set plain "just a string"')).toEqual({ type: 'string', value: 'just a string' });
    await state(a.parley, 'text gone soon');
    expect(await state(a.parley, 'drop gone')).toEqual({ type: 'undefined' });
    const kept = [
      ['roster', { type: 'string', value: text }],
      ['counts', { type: 'object', value: { a: [1, 'x'], n: null } }],
      ['plain', { type: 'string', value: 'just a string' }],
      ['gone', { type: 'undefined' }],
    ] as const;
    // The next sign-in reads what the core kept (in a worker: what the core sends with the connection).
    await a.parley.accounts.disconnect(alice.id);
    await a.parley.accounts.connect(alice.id);
    for (const [key, value] of kept) expect(await state(a.parley, `get ${key}`)).toEqual(value);
    // And so does the next start, from the state file.
    await a.parley.shutdown();
    const again = await loopbackParley(isolation === 'worker' ? { home: a.home, plugins: [], pluginModules: [LOOPBACK_MODULE], isolation } : { home: a.home });
    cleanup.push(() => again.parley.shutdown());
    await again.parley.accounts.connect(alice.id);
    for (const [key, value] of kept) expect(await state(again.parley, `get ${key}`)).toEqual(value);
  });

  it.each(['none', 'worker'] as const)('a roster handed over in parts is in the list as it comes, announced once at its end, and what the plugin reads back after, isolation %s', async (isolation) => {
    const { a, alice } = await aliceWith(isolation);
    const synced = waitForEvent(a.parley.events, 'buddyListSynced', (id) => id === alice.id);
    await a.parley.accounts.connect(alice.id);
    // The server's (empty) roster of this sign-in first: coming after the parts below, it would replace them.
    await synced;
    const conversation = a.parley.conversations.openIm(alice.id, 'bob');
    const run = (line: string) => a.parley.runCommand(line, { conversationId: conversation.id });
    const names = () => a.parley.buddies.contacts().flatMap((c) => c.buddies.map((b) => b.name)).sort();
    const read = async () => (JSON.parse(String(await run('/buddylist'))) as Array<{ name: string }>).map((e) => e.name).sort();
    await run('/parts add old,kept');
    await run('/parts end');
    expect(names()).toEqual(['kept', 'old']);
    let changes = 0;
    a.parley.events.on('buddyListChanged', () => changes++);
    await run('/parts add kept,new1');
    await run('/parts add new2');
    // In the list as they come (after the command's turn, in a worker), no event for each.
    expect(names()).toEqual(['kept', 'new1', 'new2', 'old']);
    expect(changes).toBe(0);
    await run('/parts end');
    expect(names()).toEqual(['kept', 'new1', 'new2']);
    expect(changes).toBe(1);
    expect(await read()).toEqual(['kept', 'new1', 'new2']);
    // Cut short: nothing removed, and the plugin reads back the core's list.
    // An entry without a name is dropped with a log line naming the plugin; the rest goes on.
    await run('/parts add ,late');
    await run('/parts cut');
    expect(names()).toEqual(['kept', 'late', 'new1', 'new2']);
    expect(a.logs.filter((r) => r.message === 'plugin Loopback gave bad input to buddies.syncInParts')).toHaveLength(1);
    await expect.poll(read).toEqual(['kept', 'late', 'new1', 'new2']);
  });

  it('reports a worker\'s heap, after a full collection when asked (in a process with --expose-gc)', async () => {
    // As `node --expose-gc` would: the worker started below gets a gc() of its own.
    setFlagsFromString('--expose-gc');
    const { a, alice } = await aliceWith('worker');
    await a.parley.accounts.connect(alice.id);
    const conversation = a.parley.conversations.openIm(alice.id, 'bob');
    const garbage = (what: string) => a.parley.runCommand(`/garbage ${what}`, { conversationId: conversation.id });
    expect(await garbage('make')).toBe('there');
    const [plain] = await a.parley.plugins.workerMemory();
    const [collected] = await a.parley.plugins.workerMemory({ collect: true });
    expect(plain!.protocol).toBe('loopback');
    expect(collected!.threadId).toBe(plain!.threadId);
    // The dropped string goes only in a full collection, which `collect` ran in the worker before it answered.
    expect(await garbage('check')).toBe('collected');
    expect(collected!.heapUsed).toBeGreaterThan(0);
  });

  it('syncs the server roster into the buddy list, follows presence, and pushes adds and removes to the server', async () => {
    const { server, a, b, alice, bob } = await setup(undefined, { alice: [{ name: 'bob', alias: 'Bob B.', groups: ['Work'] }] });
    const synced = waitForEvent(a.parley.events, 'buddyListSynced', (id) => id === alice.id);
    await a.parley.accounts.connect(alice.id);
    await synced;
    expect(a.parley.buddies.groups()).toContain('Work');
    const contact = a.parley.buddies.contacts().find((c) => c.displayName === 'Bob B.')!;
    expect(contact.group).toBe('Work');
    expect(contact.presence.status).toBe('offline');

    const online = waitForEvent(a.parley.events, 'buddyPresenceChanged', (_acc, name, p) => name === 'bob' && p.status === 'available');
    await b.parley.accounts.connect(bob.id);
    await online;
    const away = waitForEvent(a.parley.events, 'buddyPresenceChanged', (_acc, name, p) => p.status === 'away');
    await b.parley.presence.set({ status: 'away', message: 'at lunch' });
    const [, , presence] = await away;
    expect(presence.message).toBe('at lunch');
    expect(a.parley.buddies.contact(contact.id)!.presence.status).toBe('away');

    await a.parley.buddies.add(alice.id, 'carol', { group: 'Friends', alias: 'Carol' });
    await until(() => (server.rosters.alice ?? []).some((e) => e.name === 'carol'), DEFAULT_WAIT_MS, 'server roster add');
    await a.parley.buddies.remove(alice.id, 'bob');
    await until(() => !(server.rosters.alice ?? []).some((e) => e.name === 'bob'), DEFAULT_WAIT_MS, 'server roster remove');
    expect(a.parley.buddies.contacts().map((c) => c.displayName)).toEqual(['Carol']);
  });

  it('typing notifications reach the peer', async () => {
    const { a, b, alice, bob } = await setup();
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    const conversation = a.parley.conversations.openIm(alice.id, 'bob');
    const typing = waitForEvent(b.parley.events, 'typingChanged', (_c, peer, state) => peer === 'alice' && state === 'typing');
    await a.parley.conversations.setTyping(conversation.id, 'typing');
    const [conv] = await typing;
    expect(b.parley.conversations.get(conv.id)!.typing).toBe('typing');
  });

  it('group chats: join, participants, messages from others and our own echo', async () => {
    const { a, b, alice, bob } = await setup();
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    const joinedA = waitForEvent(a.parley.events, 'chatJoined');
    await a.parley.chats.join(alice.id, 'lobby');
    await joinedA;
    const bobArrives = waitForEvent(a.parley.events, 'conversationParticipantsChanged', (_c, list) => list.some((p) => p.nick === 'bob'));
    const joinedB = waitForEvent(b.parley.events, 'chatJoined');
    await b.parley.chats.join(bob.id, 'lobby');
    await joinedB;
    await bobArrives;
    const room = a.parley.conversations.find(alice.id, 'chat', 'lobby')!;
    expect([...room.participants.keys()].sort()).toEqual(['alice', 'bob']);
    await until(() => room.messages.some((m) => m.flags.system === true && m.text === 'bob joined'), DEFAULT_WAIT_MS, 'join line');
    const heard = waitForEvent(a.parley.events, 'messageReceived', (m) => m.text === 'hi all');
    const bobRoom = b.parley.conversations.find(bob.id, 'chat', 'lobby')!;
    await b.parley.conversations.send(bobRoom.id, 'hi all');
    const [m] = await heard;
    expect(m.sender).toBe('bob');
  });

  it('runs core and protocol slash commands', async () => {
    const { a, alice } = await setup();
    await a.parley.accounts.connect(alice.id);
    const conversation = a.parley.conversations.openIm(alice.id, 'bob');
    const help = await a.parley.runCommand('/help', { conversationId: conversation.id });
    expect(help).toContain('/status <status> [message]');
    expect(help).toContain('/ping');
    await expect(a.parley.runCommand('/nosuch', { conversationId: conversation.id })).rejects.toMatchObject({ code: 'unknown-command' });
    await a.parley.runCommand('/status away gone fishing');
    expect(a.parley.presence.get()).toEqual({ status: 'away', message: 'gone fishing' });
    await expect(a.parley.runCommand('/status sleepy')).rejects.toMatchObject({ code: 'command-usage' });
  });

  it('never writes or logs the password in plaintext', async () => {
    const { a, b, alice, bob } = await setup({ alice: 'Zq9-unique-alice-password', bob: 'Xk7-unique-bob-password' });
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    await a.parley.conversations.sendIm(alice.id, 'bob', 'hello');
    await a.parley.shutdown();
    await b.parley.shutdown();
    expect(filesContaining(a.home, 'Zq9-unique-alice-password')).toEqual([]);
    expect(filesContaining(b.home, 'Xk7-unique-bob-password')).toEqual([]);
    const logged = JSON.stringify(a.logs);
    expect(logged).toContain('login alice with ***'); // the plugin did try to log it
    expect(logged).not.toContain('Zq9-unique-alice-password');
  });

  it('survives a restart: accounts, secrets and the buddy list come back', async () => {
    const server = await startServer({ alice: 'pw-alice-1234' }, { alice: [{ name: 'bob', groups: ['Work'] }] });
    cleanup.push(() => server.stop());
    const first: TestParley = await loopbackParley();
    const alice = await addLoopbackAccount(first.parley, server.port, 'alice', 'pw-alice-1234');
    await first.parley.accounts.connect(alice.id);
    await first.parley.shutdown();
    const second = await loopbackParley({ home: first.home });
    cleanup.push(() => second.parley.shutdown());
    expect(second.parley.accounts.list().map((x) => `${x.protocol}:${x.username}`)).toEqual(['loopback:alice']);
    expect(second.parley.buddies.contacts().map((c) => [c.displayName, c.group])).toEqual([['bob', 'Work']]);
    await second.parley.accounts.connect('loopback:alice');
    expect(second.parley.accounts.status(alice.id).state).toBe('online');
  });

  it('server garbage and hostile plugin input are skipped without a crash', async () => {
    const { server, a, alice } = await setup();
    await a.parley.accounts.connect(alice.id);
    server.sendRaw('alice', 'this is not json\n{"op":"msg"}\n{"op":"msg","from":"","text":"x"}\n{"op":"presence","from":"bob","status":"levitating"}\n\u0000\u0001\n');
    const good = waitForEvent(a.parley.events, 'messageReceived', (m) => m.text === 'still fine');
    server.sendRaw('alice', '{"op":"msg","from":"bob","text":"still fine"}\n');
    await good;
    expect(a.parley.accounts.status(alice.id).state).toBe('online');
    expect(a.logs.some((r) => r.message.includes('skipped a line that is not JSON'))).toBe(true);
    expect(JSON.stringify(a.logs)).toContain('dropped an invalid incoming message');
  });
});
