import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, waitFor, type Harness } from './helpers.js';

describe('XMPP accounts against a real Prosody', () => {
  let server: TestProsody;
  let h: Harness;
  beforeAll(async () => {
    server = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw', dave: 'dave-pw' } });
    h = await harness(server);
  });
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });

  it('two Parley accounts chat over STARTTLS with SCRAM, with receipts (XEP-0184) and chat states (XEP-0085)', async () => {
    const alice = await h.account('alice', 'alice-pw');
    const bob = await h.account('bob', 'bob-pw');
    await Promise.all([h.parley.accounts.connect(alice), h.parley.accounts.connect(bob)]);
    expect(h.parley.accounts.status(alice).state).toBe('online');
    // RFC 7677: the strongest mechanism both sides offer.
    expect(h.logs.filter((r) => r.message === 'SASL mechanism').map((r) => r.data?.mechanism)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-256']);

    const delivered: string[] = [];
    h.parley.events.on('messageDelivered', (m) => delivered.push(m.id));
    const sent = await h.parley.conversations.sendIm(alice, 'bob@localhost', 'hello <b>bob</b> & co');
    const got = await waitFor(() => h.messages.find((m) => m.accountId === bob && m.direction === 'incoming' && m.text.includes('hello')), 'bob receives');
    expect(got.text).toBe('hello <b>bob</b> & co');
    expect(got.sender).toBe('alice@localhost');
    expect(got.flags.delayed).toBeFalsy();
    // Bob's client answered the receipt request: Alice's message is delivered.
    await waitFor(() => sent !== undefined && delivered.includes(sent.id), 'delivery receipt');

    const typing: string[] = [];
    h.parley.events.on('typingChanged', (conversation, peer, state) => {
      if (conversation.accountId === alice) typing.push(`${peer}:${state}`);
    });
    const conv = h.parley.conversations.find(bob, 'im', 'alice@localhost')!;
    await h.parley.conversations.setTyping(conv.id, 'typing');
    await waitFor(() => typing.includes('bob@localhost:typing'), 'typing notification');
  });

  it('runs several accounts at once, over STARTTLS and direct TLS', async () => {
    const carol = await h.account('carol', 'carol-pw', { resource: 'desk' });
    const dave = await h.account('dave', 'dave-pw', { security: 'tls', port: server.directTlsPort });
    await Promise.all([h.parley.accounts.connect(carol), h.parley.accounts.connect(dave)]);
    expect(h.parley.accounts.status(carol).state).toBe('online');
    expect(h.parley.accounts.status(dave).state).toBe('online');
    await h.parley.conversations.sendIm(dave, 'carol@localhost', 'over direct TLS');
    await waitFor(() => h.messages.find((m) => m.accountId === carol && m.text === 'over direct TLS'), 'carol receives from dave');
  });

  it('rejects a wrong password as authentication-failed without a reconnect loop', async () => {
    const other = await harness(server);
    try {
      const id = await other.account('alice', 'wrong-password', { resource: 'second' });
      const error = await other.parley.accounts.connect(id).then(
        () => undefined,
        (e: unknown) => e as { reason?: string; fatal?: boolean },
      );
      expect(error?.reason).toBe('authentication-failed');
      expect(error?.fatal).toBe(true);
      const status = other.parley.accounts.status(id);
      expect(status.state).toBe('error');
      expect(status.nextAttemptAt).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});
