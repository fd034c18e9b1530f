import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, waitFor } from './helpers.js';

/** A TCP relay in front of the server whose connections the test can cut (a dropped link). */
async function relay(target: { host: string; port: number }): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
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
    cut() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
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

      link.cut();
      await waitFor(() => h.parley.accounts.status(alice).state !== 'online', 'alice notices the drop');
      // The server still holds alice's session (hibernating): it keeps what arrives for her.
      await h.parley.conversations.sendIm(bob, 'alice@localhost', 'sent while the link was down');
      await waitFor(() => h.parley.accounts.status(alice).state === 'online', 'alice is back');
      await waitFor(() => h.messages.find((m) => m.accountId === alice && m.text === 'sent while the link was down'), 'alice gets the message');

      expect(h.logs.some((r) => r.message === 'Resumed the previous session (XEP-0198)')).toBe(true);
      // Resumed, not rebuilt: one sign-in only.
      expect(h.logs.filter((r) => r.message === 'SASL signed in' && String(r.scope).includes('alice'))).toHaveLength(2);
      await new Promise((r) => setTimeout(r, 300));
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
      await server.restart();
      await waitFor(() => h.parley.accounts.status(alice).state !== 'online', 'alice notices the restart');
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
