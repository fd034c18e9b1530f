import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml, type Harness, type RawXmpp } from './helpers.js';

const chat = (to: string, body: string, id: string) => xml('message', { type: 'chat', to, id }, xml('body', {}, body));

describe('older pages of the archive on demand (parley.history.older, XEP-0313 with XEP-0059 <before/>)', () => {
  let server: TestProsody;
  let h: Harness;
  let bob: RawXmpp;
  let alice: string;

  beforeAll(async () => {
    server = await startTestProsody({ mam: true, users: { alice: 'alice-pw', bob: 'bob-pw' } });
    h = await harness(server, { history: true });
    bob = await rawXmpp(server, 'bob', 'bob-pw');
    // No catch-up at sign-in: everything said before is beyond what Parley holds.
    alice = await h.account('alice', 'alice-pw', { archiveDays: 0 });
  });
  afterAll(async () => {
    await bob?.stop();
    await h?.close();
    await server?.stop();
  });

  it('pages back through the archive, each message once and in order, until its beginning', async () => {
    // Alice's phone gets them (so none waits in offline storage for Parley); the archive keeps them.
    const phone = await rawXmpp(server, 'alice', 'alice-pw', 'phone');
    await phone.send(xml('presence', {}, xml('priority', {}, '1')));
    await phone.iq('get', xml('query', { xmlns: 'jabber:iq:roster' }));
    for (let i = 1; i <= 25; i++) await bob.send(chat('alice@localhost', `old ${i}`, `old-${i}`));
    await waitFor(() => phone.stanzas.some((s) => s.getChildText('body') === 'old 25'), 'the phone gets them all');
    await phone.stop();
    await h.parley.accounts.connect(alice);
    await bob.send(xml('presence', {}, xml('priority', {}, '1')));
    await bob.send(chat('alice@localhost', 'live', 'live-1'));
    await waitFor(() => h.messages.some((m) => m.text === 'live'), 'live message');
    const conversation = h.parley.conversations.list().find((c) => c.accountId === alice && c.name === 'bob@localhost')!;
    // What the phone left unacknowledged may have come as an offline message: held already, so not fetched again.
    const held = h.parley.conversations.get(conversation.id)!.messages.map((m) => m.text).filter((t) => t !== 'live');
    expect(held.length).toBeLessThan(3);

    const pages: string[][] = [];
    let complete = false;
    for (let i = 0; i < 10 && !complete; i++) {
      const page = await h.parley.history.older(conversation.id, { limit: 10 });
      pages.push(page.messages.map((m) => m.text));
      complete = page.complete;
      for (const m of page.messages) expect(m).toMatchObject({ direction: 'incoming', sender: 'bob@localhost', conversationId: conversation.id, flags: { delayed: true } });
    }
    expect(complete).toBe(true);
    // Each page is in order and older than the one before; with what Parley held, every message once.
    expect([...pages.slice().reverse().flat(), ...held]).toEqual(Array.from({ length: 25 }, (_, i) => `old ${i + 1}`));
    // The newest page of ten may also hold the live message and those Parley held, which are not returned again.
    expect(pages[0]!.length).toBeGreaterThanOrEqual(10 - held.length - 1);
    // Nothing more once the beginning is reached.
    expect(await h.parley.history.older(conversation.id, { limit: 10 })).toEqual({ messages: [], complete: true });
  });

  it('says clearly when the account is offline or the protocol has no archive for the conversation', async () => {
    const conversation = h.parley.conversations.list().find((c) => c.accountId === alice && c.name === 'bob@localhost')!;
    await expect(h.parley.history.older('no-such-conversation')).rejects.toMatchObject({ code: 'unknown-conversation' });
    await h.parley.accounts.disconnect(alice);
    await expect(h.parley.history.older(conversation.id)).rejects.toMatchObject({ code: 'no-route' });
  });
});
