import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordStates } from '../../../test/helpers/wait.js';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, waitFor } from './helpers.js';

/** Bytes through the relay in the order it passed them on, each with the side that wrote it. */
type Transcript = Array<{ from: 'client' | 'server'; text: string }>;

/** A TCP relay in front of the server whose connections the test can cut (a dropped link). */
async function relay(target: { host: string; port: number }): Promise<{
  port: number;
  transcript: Transcript;
  cut(): void;
  /** From now on, the open connections lose what `side` writes (the link dies one way, unnoticed). */
  swallow(side: 'client' | 'server'): void;
  close(): Promise<void>;
}> {
  type Pair = { client: Socket; upstream: Socket; swallow: { client: boolean; server: boolean } };
  const pairs = new Set<Pair>();
  const transcript: Transcript = [];
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, swallow: { client: false, server: false } };
    pairs.add(pair);
    client.on('data', (data: Buffer) => {
      transcript.push({ from: 'client', text: data.toString('utf8') });
      if (!pair.swallow.client) upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      transcript.push({ from: 'server', text: data.toString('utf8') });
      if (!pair.swallow.server) client.write(data);
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    transcript,
    cut() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    swallow(side) {
      for (const pair of pairs) pair.swallow[side] = true;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('XEP-0198 stream resumption across reconnects', () => {
  let server: TestProsody;
  beforeAll(async () => {
    server = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('resumes the session after the TCP connection is killed: the message sent meanwhile arrives once', async () => {
    const link = await relay(server);
    const h = await harness(server);
    try {
      const alice = await h.account('alice', 'alice-pw', { port: link.port, resource: 'resume' });
      const bob = await h.account('bob', 'bob-pw', { resource: 'resume' });
      await Promise.all([h.parley.accounts.connect(alice), h.parley.accounts.connect(bob)]);

      const states = recordStates(h.parley.events, alice);
      link.cut();
      await waitFor(() => states.some((state) => state !== 'online'), 'alice notices the drop');
      // The server still holds alice's session (hibernating): it keeps what arrives for her.
      await h.parley.conversations.sendIm(bob, 'alice@localhost', 'sent while the link was down');
      await waitFor(() => h.parley.accounts.status(alice).state === 'online', 'alice is back');
      await waitFor(() => h.messages.find((m) => m.accountId === alice && m.text === 'sent while the link was down'), 'alice gets the message');

      expect(h.logs.some((r) => r.message === 'Resumed the previous session (XEP-0198)')).toBe(true);
      // Resumed, not rebuilt: one sign-in only.
      expect(h.logs.filter((r) => r.message === 'SASL signed in' && String(r.scope).includes('alice'))).toHaveLength(2);
      // The server handles a stream's stanzas in order (RFC 6120 §10.1): a message bob sends now reaches
      // alice after anything the resumed session still had to deliver, a duplicate included.
      await h.parley.conversations.sendIm(bob, 'alice@localhost', 'after the resumption');
      await waitFor(() => h.messages.find((m) => m.accountId === alice && m.text === 'after the resumption'), 'alice gets the marker');
      expect(h.messages.filter((m) => m.accountId === alice && m.text === 'sent while the link was down')).toHaveLength(1);

      // And the resumed stream carries traffic both ways.
      await h.parley.conversations.sendIm(alice, 'bob@localhost', 'back again');
      await waitFor(() => h.messages.find((m) => m.accountId === bob && m.text === 'back again'), 'bob gets the reply');
    } finally {
      await h.close();
      await link.close();
    }
  });

  it('after a server restart the old session is gone: a fresh session, nothing lost', async () => {
    const h = await harness(server);
    try {
      const alice = await h.account('alice', 'alice-pw', { resource: 'restart-resume' });
      await h.parley.accounts.connect(alice);
      // The core's quick retry after the drop may have alice back on the restarted server before
      // restart() returns: the states she went through show the loss, her state now need not.
      const states = recordStates(h.parley.events, alice);
      await server.restart();
      await waitFor(() => states.some((state) => state !== 'online'), 'alice notices the restart');
      await waitFor(() => h.parley.accounts.status(alice).state === 'online', 'alice is back');
      expect(h.logs.some((r) => r.message === 'Resumed the previous session (XEP-0198)')).toBe(false);
      const bob = await h.account('bob', 'bob-pw', { resource: 'restart-resume' });
      await h.parley.accounts.connect(bob);
      await h.parley.conversations.sendIm(bob, 'alice@localhost', 'after the restart');
      await waitFor(() => h.messages.find((m) => m.accountId === alice && m.text === 'after the restart'), 'alice gets it');
    } finally {
      await h.close();
    }
  });

  it('signing off on purpose leaves nothing to resume', async () => {
    const h = await harness(server);
    try {
      const alice = await h.account('alice', 'alice-pw', { resource: 'signoff' });
      await h.parley.accounts.connect(alice);
      await h.parley.accounts.disconnect(alice);
      await h.parley.accounts.connect(alice);
      expect(h.logs.some((r) => r.message === 'Resumed the previous session (XEP-0198)')).toBe(false);
      expect(h.parley.accounts.status(alice).state).toBe('online');
    } finally {
      await h.close();
    }
  });
});

describe('XEP-0198 and the roster at sign-in', () => {
  const CONTACTS = 400;
  let server: TestProsody;
  beforeAll(async () => {
    // Unencrypted, so the relay can read the stream; a roster large enough to span many reads.
    server = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' }, requireEncryption: false });
    await server.stop();
    server.writeRoster(
      'alice',
      Array.from({ length: CONTACTS }, (_, i) => ({ jid: `contact${i}@example.net`, name: `Contact ${i}`, groups: [`Group ${i % 7}`], subscription: 'none' as const })),
    );
    await server.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('has the whole roster before enabling stream management, so the server keeps no resend copy of it, and the counters still agree', async () => {
    const link = await relay(server);
    const h = await harness(server);
    try {
      const alice = await h.account('alice', 'alice-pw', { port: link.port, security: 'plain', resource: 'order' });
      const bob = await h.account('bob', 'bob-pw', { resource: 'order' });
      await Promise.all([h.parley.accounts.connect(alice), h.parley.accounts.connect(bob)]);
      expect(h.parley.buddies.find(alice, 'contact399@example.net')?.contact.group).toBe('Group 0');

      // In the order the relay passed the bytes on: roster get, the complete answer, then <enable/>, then the initial presence.
      const at = (from: 'client' | 'server', pattern: RegExp): number => link.transcript.findIndex((c) => c.from === from && pattern.test(c.text));
      const rosterGet = at('client', /<query xmlns="jabber:iq:roster"/);
      const lastItem = at('server', /contact399@example\.net/);
      const enable = at('client', /<enable xmlns="urn:xmpp:sm:3"/);
      const enabled = at('server', /<enabled /);
      const presence = at('client', /<presence/);
      expect(rosterGet).toBeGreaterThan(-1);
      expect([rosterGet, lastItem, enable, enabled, presence]).toEqual([...[rosterGet, lastItem, enable, enabled, presence]].sort((a, b) => a - b));
      expect(new Set([rosterGet, lastItem, enable, enabled, presence]).size).toBe(5);

      // Traffic after <enabled/> makes both sides request and check acknowledgements:
      // a miscount ends the stream with an error from the server.
      for (let i = 0; i < 5; i++) await h.parley.conversations.sendIm(bob, 'alice@localhost', `counted ${i}`);
      await waitFor(() => h.messages.filter((m) => m.accountId === alice && m.text.startsWith('counted ')).length === 5, 'alice gets all five');
      // Alice's client acknowledges them when the server asks (XEP-0198 §4); the server checks the count then.
      const lastCounted = link.transcript.findLastIndex((c) => c.from === 'server' && c.text.includes('counted 4'));
      await waitFor(() => link.transcript.slice(lastCounted + 1).some((c) => c.from === 'client' && /<a xmlns="urn:xmpp:sm:3"/.test(c.text)), "alice's acknowledgement");
      // The server handles alice's stream in order (RFC 6120 §10.1): a message she sends after her
      // acknowledgement is routed only if the count was accepted; a miscount would end the stream first.
      await h.parley.conversations.sendIm(alice, 'bob@localhost', 'after the acknowledgement');
      await waitFor(() => h.messages.find((m) => m.accountId === bob && m.text === 'after the acknowledgement'), 'bob gets the marker');
      expect(link.transcript.some((c) => c.from === 'server' && c.text.includes('<stream:error'))).toBe(false);

      // And a dropped link resumes the same session (§5), which the server allows only when the counts match.
      const states = recordStates(h.parley.events, alice);
      link.cut();
      await waitFor(() => states.some((state) => state !== 'online'), 'alice notices the drop');
      await waitFor(() => h.parley.accounts.status(alice).state === 'online', 'alice is back');
      expect(h.logs.some((r) => r.message === 'Resumed the previous session (XEP-0198)')).toBe(true);
      expect(h.parley.buddies.find(alice, 'contact0@example.net')?.contact.group).toBe('Group 0');
      // Anything the resumed session delivers again comes before a message bob sends now (RFC 6120 §10.1).
      await h.parley.conversations.sendIm(bob, 'alice@localhost', 'after the resumption');
      await waitFor(() => h.messages.find((m) => m.accountId === alice && m.text === 'after the resumption'), 'alice gets the marker');
      expect(h.messages.filter((m) => m.accountId === alice && m.text.startsWith('counted '))).toHaveLength(5);
    } finally {
      await h.close();
      await link.close();
    }
  });
});

describe('XEP-0198 when the server restarts with stanzas unacknowledged', () => {
  let server: TestProsody;
  beforeAll(async () => {
    // Unencrypted, so the relay can pass on or swallow the stream's bytes.
    server = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' }, requireEncryption: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function signedIn(h: Awaited<ReturnType<typeof harness>>, linkPort: number, resource: string) {
    const alice = await h.account('alice', 'alice-pw', { port: linkPort, security: 'plain', resource });
    const bob = await h.account('bob', 'bob-pw', { resource });
    await Promise.all([h.parley.accounts.connect(alice), h.parley.accounts.connect(bob)]);
    await h.parley.conversations.sendIm(alice, 'bob@localhost', 'before');
    await waitFor(() => h.messages.find((m) => m.accountId === bob && m.text === 'before'), 'bob gets the first message');
    return { alice, bob };
  }

  const resent = (h: Awaited<ReturnType<typeof harness>>) => h.logs.find((r) => r.message.startsWith('Sending again what the previous session left unacknowledged'));

  it('sends a message the server never got again on the new session (§5): it arrives, once', async () => {
    const link = await relay(server);
    const h = await harness(server);
    try {
      const { alice, bob } = await signedIn(h, link.port, 'never-got');
      link.swallow('client');
      const sent = await h.parley.conversations.sendIm(alice, 'bob@localhost', 'written into a dead link');
      expect(sent?.delivery).toBe('sent');
      await server.restart();
      await waitFor(() => h.parley.accounts.status(alice).state === 'online' && h.parley.accounts.status(bob).state === 'online', 'both are back');
      await waitFor(() => h.messages.find((m) => m.accountId === bob && m.text === 'written into a dead link'), 'bob gets the message');
      expect(resent(h)).toBeDefined();
      await h.parley.conversations.sendIm(alice, 'bob@localhost', 'after');
      await waitFor(() => h.messages.find((m) => m.accountId === bob && m.text === 'after'), 'bob gets the next one');
      // The first message may have been unacknowledged too, and sent again: bob still shows each once.
      expect(h.messages.filter((m) => m.accountId === bob && m.text === 'written into a dead link')).toHaveLength(1);
      expect(h.messages.filter((m) => m.accountId === bob && m.text === 'before')).toHaveLength(1);
    } finally {
      await h.close();
      await link.close();
    }
  });

  it('asks the server to acknowledge while messages keep going out, so few are ever unacknowledged', async () => {
    const link = await relay(server);
    const h = await harness(server);
    try {
      const { alice, bob } = await signedIn(h, link.port, 'busy');
      // A message every 100 ms: more often than the library's own request waits for a pause.
      for (let i = 0; i < 15; i++) {
        await h.parley.conversations.sendIm(alice, 'bob@localhost', `busy ${i}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const lastMessage = link.transcript.findLastIndex((c) => c.from === 'client' && c.text.includes('busy 14'));
      const firstRequest = link.transcript.findIndex((c) => c.from === 'client' && c.text.includes('<r xmlns="urn:xmpp:sm:3"/>'));
      expect(firstRequest).toBeGreaterThan(-1);
      expect(firstRequest).toBeLessThan(lastMessage);
      await waitFor(() => h.messages.filter((m) => m.accountId === bob && m.text.startsWith('busy ')).length === 15, 'bob gets all');
    } finally {
      await h.close();
      await link.close();
    }
  });

  it('a message the server did deliver but never acknowledged is sent again and shown once', async () => {
    const link = await relay(server);
    const h = await harness(server);
    try {
      const { alice, bob } = await signedIn(h, link.port, 'never-acked');
      link.swallow('server');
      await h.parley.conversations.sendIm(alice, 'bob@localhost', 'delivered, never acknowledged');
      await waitFor(() => h.messages.find((m) => m.accountId === bob && m.text === 'delivered, never acknowledged'), 'bob gets the message');
      await server.restart();
      await waitFor(() => resent(h), 'alice sends what is unacknowledged again');
      await waitFor(() => h.parley.accounts.status(alice).state === 'online' && h.parley.accounts.status(bob).state === 'online', 'both are back');
      // Sent after the copy, on the same stream: once bob has it, the copy has been through too.
      await h.parley.conversations.sendIm(alice, 'bob@localhost', 'after');
      await waitFor(() => h.messages.find((m) => m.accountId === bob && m.text === 'after'), 'bob gets the next one');
      expect(h.messages.filter((m) => m.accountId === bob && m.text === 'delivered, never acknowledged')).toHaveLength(1);
    } finally {
      await h.close();
      await link.close();
    }
  });
});
