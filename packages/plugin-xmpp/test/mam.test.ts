import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml, type Harness, type RawXmpp } from './helpers.js';

const chat = (to: string, body: string, ...extra: ReturnType<typeof xml>[]) => xml('message', { type: 'chat', to }, xml('body', {}, body), ...extra);

/**
 * A positive priority, so that messages to the bare JID go to this client
 * (RFC 6121 §8.5.2.1.1); the IQ's answer says the server has handled it.
 */
async function available(client: RawXmpp): Promise<void> {
  await client.send(xml('presence', {}, xml('priority', {}, '1')));
  await client.iq('get', xml('query', { xmlns: 'jabber:iq:roster' }));
}

/** The built plugin, for a worker thread (its state then goes through the core's messages). */
const builtPlugin = new URL('../dist/index.js', import.meta.url).href;

describe.each(['none', 'worker'] as const)('XEP-0313 message archive against a real Prosody (mod_mam), isolation %s', (isolation) => {
  let server: TestProsody;
  let h: Harness;
  let bob: RawXmpp;
  let alice: string;
  /** Homes a restarted Parley reused: the harness removes only its own. */
  const homes: string[] = [];
  beforeAll(async () => {
    server = await startTestProsody({ mam: true, users: { alice: 'alice-pw', bob: 'bob-pw' } });
    h = await harness(server, isolation === 'worker' ? { history: true, isolation, plugins: [], pluginModules: [builtPlugin] } : { history: true, isolation });
    bob = await rawXmpp(server, 'bob', 'bob-pw');
    await available(bob);
    alice = await h.account('alice', 'alice-pw');
  });
  afterAll(async () => {
    await bob?.stop();
    await h?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
    await server?.stop();
  });

  const texts = () => h.messages.filter((m) => m.accountId === alice && !m.flags.system).map((m) => `${m.direction}:${m.text}`);
  /** Bob sends a live message and Alice's Parley shows it: everything the server sent before it has been handled. */
  async function barrier(text: string): Promise<void> {
    await bob.send(chat('alice@localhost', text));
    await waitFor(() => texts().includes(`incoming:${text}`), text);
  }

  it('shows what was said while signed off, from the peer and from another client of the account, in order and once', async () => {
    // Alice's phone is online: Bob's messages go to it, and it writes to Bob itself.
    const phone = await rawXmpp(server, 'alice', 'alice-pw', 'phone');
    await available(phone);
    await bob.send(chat('alice@localhost', 'b1: are you there?'));
    await waitFor(() => phone.stanzas.find((s) => s.getChildText('body') === 'b1: are you there?'), 'phone receives b1');
    await phone.send(chat('bob@localhost', 'a1: yes, on my phone'));
    await waitFor(() => bob.stanzas.find((s) => s.getChildText('body') === 'a1: yes, on my phone'), 'bob receives a1');
    await phone.stop();
    // Nobody of Alice's is online now: this one is stored offline and archived.
    await bob.send(chat('alice@localhost', 'b2: gone again'));

    await h.parley.accounts.connect(alice);
    await barrier('b3: live');
    expect(texts()).toEqual(['incoming:b1: are you there?', 'outgoing:a1: yes, on my phone', 'incoming:b2: gone again', 'incoming:b3: live']);
    const archived = h.messages.filter((m) => m.accountId === alice && m.text.startsWith('a1'));
    expect(archived[0]?.sender).toBe('alice@localhost');
    expect(archived[0]?.flags.delayed).toBe(true);

    await h.parley.flushHistory();
    const history = await h.parley.searchHistory({ account: alice, peer: 'bob@localhost' });
    expect(history.map((m) => m.text)).toEqual(['b1: are you there?', 'a1: yes, on my phone', 'b2: gone again', 'b3: live']);
  });

  it('fetches only what is new after a reconnect', async () => {
    await h.parley.accounts.disconnect(alice);
    await bob.send(chat('alice@localhost', 'b4: while away'));
    const fetchedBefore = h.logs.filter((r) => r.message === 'Fetched the message archive').length;
    await h.parley.accounts.connect(alice);
    await barrier('b5: back');
    expect(texts().slice(-2)).toEqual(['incoming:b4: while away', 'incoming:b5: back']);
    expect(new Set(texts()).size).toBe(texts().length);
    const fetched = h.logs.filter((r) => r.message === 'Fetched the message archive').slice(fetchedBefore);
    expect(fetched.map((r) => r.data?.messages)).toEqual([1]);
  });

  it('with a second Parley on the account: its messages come as carbons while online and from the archive while offline, each once', async () => {
    const desk = await harness(server, { history: false, isolation: 'none' });
    try {
      const other = await desk.account('alice', 'alice-pw', { resource: 'desk' });
      await desk.parley.accounts.connect(other);
      // Alice's Parley is online: the desk's message reaches it as a carbon.
      await desk.parley.conversations.sendIm(other, 'bob@localhost', 'd1: from the desk');
      await waitFor(() => texts().includes('outgoing:d1: from the desk'), 'carbon of d1');
      await h.parley.accounts.disconnect(alice);
      await desk.parley.conversations.sendIm(other, 'bob@localhost', 'd2: desk while away');
      await waitFor(() => bob.stanzas.find((s) => s.getChildText('body') === 'd2: desk while away'), 'bob receives d2');
      const count = texts().length;
      await h.parley.accounts.connect(alice);
      await barrier('d3: back');
      expect(texts().slice(count)).toEqual(['outgoing:d2: desk while away', 'incoming:d3: back']);
      expect(texts().filter((t) => t.startsWith('outgoing:d1')).length).toBe(1);
    } finally {
      await desk.close();
    }
  });

  it('keeps the last seen archive id across a restart of Parley', async () => {
    await h.parley.accounts.disconnect(alice);
    await h.parley.shutdown();
    await bob.send(chat('alice@localhost', 'r1: while Parley was not running'));
    // The same home: configuration, secrets and the account's plugin state.
    const old = h;
    homes.push(old.home);
    h = await harness(server, { ...(isolation === 'worker' ? { isolation, plugins: [], pluginModules: [builtPlugin] } : { isolation }), history: true, home: old.home });
    await h.parley.accounts.connect(alice);
    await barrier('r2: after the restart');
    expect(texts()).toEqual(['incoming:r1: while Parley was not running', 'incoming:r2: after the restart']);
    expect(h.logs.filter((r) => r.message === 'Fetched the message archive').map((r) => r.data?.messages)).toEqual([1]);
  });

  it('trusts a <stanza-id> only from the account\'s own server, and refuses archive results from anyone else', async () => {
    // The same forged id twice: trusted, it would make the second message look like a copy of the first.
    for (const by of ['localhost', 'bob@localhost']) {
      const forged = () => xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by, id: `forged-${by}` });
      await bob.send(chat('alice@localhost', `f1 by ${by}`, forged()));
      await bob.send(chat('alice@localhost', `f2 by ${by}`, forged()));
    }
    // A peer posing as the archive, with a message "from" someone else.
    await bob.send(
      xml(
        'message',
        { to: 'alice@localhost' },
        xml('result', { xmlns: 'urn:xmpp:mam:2', queryid: 'mam1', id: 'fake' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('message', { from: 'carol@localhost', to: 'alice@localhost', type: 'chat' }, xml('body', {}, 'fake from the archive')))),
      ),
    );
    await barrier('f3: done');
    expect(texts().slice(-5)).toEqual(['incoming:f1 by localhost', 'incoming:f2 by localhost', 'incoming:f1 by bob@localhost', 'incoming:f2 by bob@localhost', 'incoming:f3: done']);
    expect(texts().some((t) => t.includes('fake'))).toBe(false);
    expect(h.logs.some((r) => r.message === 'Refused an archive result that is not an answer to our query')).toBe(true);

    // A reconnect shows none of them again: the server's own ids were recorded.
    await h.parley.accounts.disconnect(alice);
    const count = texts().length;
    await h.parley.accounts.connect(alice);
    await barrier('f4: after reconnect');
    expect(texts().slice(count)).toEqual(['incoming:f4: after reconnect']);
  });
});
