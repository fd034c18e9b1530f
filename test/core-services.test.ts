import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, HeadlessUi, TOKENS, resolvePaths, type HistoryEntry, type HistoryQuery, type HistoryStore } from '@parley/core';
import { addLoopbackAccount, loopbackParley, startServer } from './helpers/loopback.js';
import { RecordingUi } from './helpers/recording-ui.js';
import { waitForEvent } from './helpers/wait.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

/** A history kept in memory: what an embedder might register instead of SQLite. */
class MemoryHistory implements HistoryStore {
  readonly entries: HistoryEntry[] = [];
  append(entry: HistoryEntry): void {
    this.entries.push(entry);
  }
  async flush(): Promise<void> {}
  async search(query: HistoryQuery): Promise<HistoryEntry[]> {
    return this.entries.filter((e) => query.words === undefined || e.text.includes(query.words));
  }
  async recent(): Promise<HistoryEntry[]> {
    return [];
  }
  async close(): Promise<void> {}
}

describe('core services', () => {
  it('an embedder replaces a core service by its token without touching core code', async () => {
    const server = await startServer({ alice: 'pa', bob: 'pb' });
    cleanup.push(() => server.stop());
    const memory = new MemoryHistory();
    const a = await loopbackParley({ configure: (container) => container.register(TOKENS.HistoryStore, { useValue: memory }) });
    cleanup.push(() => a.parley.shutdown());
    const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'pa');
    await a.parley.accounts.connect(alice.id);
    await a.parley.conversations.sendIm(alice.id, 'bob', 'kept in memory');
    expect(memory.entries.map((e) => e.text)).toEqual(['kept in memory']);
    expect((await a.parley.searchHistory({ words: 'memory' })).length).toBe(1);
  });

  it('a wrong passphrase stops sign-in with a clear, fatal error and changes nothing on disk', async () => {
    const server = await startServer({ alice: 'pa' });
    cleanup.push(() => server.stop());
    const first = await loopbackParley();
    const alice = await addLoopbackAccount(first.parley, server.port, 'alice', 'pa');
    await first.parley.shutdown();
    const ui = new RecordingUi((request) => (request.kind === 'input' ? 'not the passphrase' : undefined));
    const second = await loopbackParley({ home: first.home, passphrase: undefined, env: {}, ui });
    cleanup.push(() => second.parley.shutdown());
    const error = await second.parley.accounts.connect(alice.id).catch((e: unknown) => e);
    expect(ConnectionError.is(error)).toBe(true);
    expect(error).toMatchObject({ reason: 'authentication-impossible', fatal: true });
    expect((error as Error).message).toMatch(/Wrong passphrase/);
    expect(ui.requests.filter((r) => r.context.purpose === 'passphrase')).toHaveLength(3);
    expect(second.parley.accounts.status(alice.id).state).toBe('error');
    expect(server.received.filter((m) => m.op === 'login')).toHaveLength(0);
    // The right passphrase still opens everything.
    const third = await loopbackParley({ home: first.home });
    cleanup.push(() => third.parley.shutdown());
    await third.parley.accounts.connect(alice.id);
  });

  it('sends to a contact through its best online buddy', async () => {
    const server = await startServer({ alice: 'pa', bob: 'pb', 'bob-work': 'pw' });
    cleanup.push(() => server.stop());
    const a = await loopbackParley();
    cleanup.push(() => a.parley.shutdown());
    const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'pa');
    await a.parley.accounts.connect(alice.id);
    await a.parley.buddies.add(alice.id, 'bob');
    await a.parley.buddies.add(alice.id, 'bob-work');
    const bobContact = a.parley.buddies.find(alice.id, 'bob')!.contact;
    const work = a.parley.buddies.find(alice.id, 'bob-work')!.contact;
    const person = a.parley.buddies.merge(bobContact.id, work.id);
    expect(person.buddies.map((b) => b.name).sort()).toEqual(['bob', 'bob-work']);

    const b = await loopbackParley();
    cleanup.push(() => b.parley.shutdown());
    const bobWork = await addLoopbackAccount(b.parley, server.port, 'bob-work', 'pw');
    const online = waitForEvent(a.parley.events, 'buddyPresenceChanged', (_a, name, p) => name === 'bob-work' && p.status === 'available');
    await b.parley.accounts.connect(bobWork.id);
    await online;
    expect(a.parley.buddies.contact(person.id)!.presence.status).toBe('available');
    const received = waitForEvent(b.parley.events, 'messageReceived');
    await a.parley.conversations.sendToContact(person.id, 'reaching the one that is online');
    expect((await received)[0].text).toBe('reaching the one that is online');
  });

  it('keeps everything under PARLEY_HOME, or in the XDG directories', () => {
    expect(resolvePaths({ PARLEY_HOME: '/tmp/p' })).toEqual({ config: '/tmp/p', data: '/tmp/p', userPlugins: '/tmp/p/plugins' });
    expect(resolvePaths({ XDG_CONFIG_HOME: '/c', XDG_DATA_HOME: '/d' })).toEqual({ config: '/c/parley', data: '/d/parley', userPlugins: '/d/parley/plugins' });
  });

  it('the headless default declines: no certificate trusted, no password invented, no authorization granted', async () => {
    const ui = new HeadlessUi();
    expect(await ui.request({ kind: 'confirm', title: 'Trust the certificate of example.com?' }, { purpose: 'certificate-trust' })).toBe(false);
    expect(await ui.request({ kind: 'input', title: 'Password', secret: true }, { purpose: 'password' })).toBeUndefined();
    expect(await ui.request({ kind: 'choice', title: 'Pick', choices: [{ value: 'a', label: 'A' }], default: 'a' }, { purpose: 'other' })).toBeUndefined();
  });
});
