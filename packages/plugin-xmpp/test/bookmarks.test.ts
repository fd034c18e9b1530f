import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml, type Harness, type RawXmpp } from './helpers.js';

const NS_BOOKMARKS = 'urn:xmpp:bookmarks:1';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';

/** XEP-0402 §3.3: another client of the account publishes a bookmark. */
function publish(client: RawXmpp, jid: string, conference: { name?: string; autojoin: boolean; nick?: string }) {
  const attrs: Record<string, string> = { xmlns: NS_BOOKMARKS, autojoin: String(conference.autojoin) };
  if (conference.name !== undefined) attrs.name = conference.name;
  const options = xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, `${NS_PUBSUB}#publish-options`)),
    xml('field', { var: 'pubsub#persist_items' }, xml('value', {}, 'true')),
    xml('field', { var: 'pubsub#max_items' }, xml('value', {}, 'max')),
    xml('field', { var: 'pubsub#send_last_published_item' }, xml('value', {}, 'never')),
    xml('field', { var: 'pubsub#access_model' }, xml('value', {}, 'whitelist')),
  );
  const payload = xml('conference', attrs, ...(conference.nick === undefined ? [] : [xml('nick', {}, conference.nick)]));
  return client.iq('set', xml('pubsub', { xmlns: NS_PUBSUB }, xml('publish', { node: NS_BOOKMARKS }, xml('item', { id: jid }, payload)), xml('publish-options', {}, options)));
}

/** The account's bookmarks as another client reads them (XEP-0402 §3.2). */
async function serverBookmarks(client: RawXmpp): Promise<string[]> {
  try {
    const pubsub = await client.iq('get', xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: NS_BOOKMARKS })));
    return (pubsub?.getChild('items')?.getChildren('item') ?? []).map((i) => String(i.attrs.id)).sort();
  } catch {
    return [];
  }
}

/** The same list through XEP-0048 private storage, as an older client reads it. */
async function legacyBookmarks(client: RawXmpp): Promise<string[]> {
  const query = await client.iq('get', xml('query', { xmlns: 'jabber:iq:private' }, xml('storage', { xmlns: 'storage:bookmarks' })));
  return (query?.getChild('storage')?.getChildren('conference') ?? []).map((c) => String(c.attrs.jid)).sort();
}

/** The built plugin, for a worker thread (its context calls then cross the worker boundary). */
const builtPlugin = new URL('../dist/index.js', import.meta.url).href;

describe.each(['none', 'worker'] as const)('XEP-0402 bookmarks against a real Prosody (mod_bookmarks, mod_pep), isolation %s', (isolation) => {
  let server: TestProsody;
  let h: Harness;
  let phone: RawXmpp;
  let alice: string;
  const room = (name: string) => `${name}@conference.localhost`;
  const saved = () =>
    h.parley.chats
      .saved()
      .filter((c) => c.accountId === alice)
      .map((c) => `${c.room}${c.autojoin ? ' (autojoin)' : ''}${c.alias === undefined ? '' : ` "${c.alias}"`}`)
      .sort();
  const joined = (jid: string) => h.parley.conversations.list().some((c) => c.kind === 'chat' && c.accountId === alice && c.name === jid && c.joined);

  beforeAll(async () => {
    server = await startTestProsody({ modules: ['pep', 'bookmarks', 'private'], users: { alice: 'alice-pw', bob: 'bob-pw' } });
    h = await harness(server, isolation === 'worker' ? { isolation, plugins: [], pluginModules: [builtPlugin] } : { isolation });
    phone = await rawXmpp(server, 'alice', 'alice-pw', 'phone');
    alice = await h.account('alice', 'alice-pw', { nick: 'alice' });
  });
  afterAll(async () => {
    await phone?.stop();
    await h?.close();
    await server?.stop();
  });

  it('shows the server\'s bookmarks, from XEP-0402 and XEP-0048 clients, as saved chats, and joins the autojoin ones at sign-in', async () => {
    await publish(phone, room('lounge'), { name: 'The Lounge', autojoin: true, nick: 'ally' });
    await publish(phone, room('quiet'), { autojoin: false });
    // An older client writes the whole list to private storage; the server converts it (XEP-0402 §3.2 compat).
    const legacy = await phone.iq('get', xml('query', { xmlns: 'jabber:iq:private' }, xml('storage', { xmlns: 'storage:bookmarks' })));
    const conferences = legacy?.getChild('storage')?.getChildren('conference') ?? [];
    await phone.iq(
      'set',
      xml('query', { xmlns: 'jabber:iq:private' }, xml('storage', { xmlns: 'storage:bookmarks' }, ...conferences, xml('conference', { jid: room('old'), name: 'Old client', autojoin: 'true' }))),
    );

    await h.parley.accounts.connect(alice);
    expect(saved()).toEqual([`${room('lounge')} (autojoin) "The Lounge"`, `${room('old')} (autojoin) "Old client"`, `${room('quiet')}`]);
    await waitFor(() => joined(room('lounge')) && joined(room('old')), 'autojoin rooms joined');
    expect(joined(room('quiet'))).toBe(false);
    // The bookmark's nick is the one used in the room.
    const lounge = h.parley.conversations.list().find((c) => c.name === room('lounge'));
    expect(lounge === undefined ? undefined : h.parley.conversations.get(lounge.id)?.participants.has('ally')).toBe(true);
  });

  it('applies a bookmark another client adds or removes while Parley is online, joining a new autojoin one', async () => {
    await publish(phone, room('live'), { autojoin: true });
    await waitFor(() => saved().includes(`${room('live')} (autojoin)`), 'pushed bookmark');
    await waitFor(() => joined(room('live')), 'pushed autojoin bookmark joined');

    await phone.iq('set', xml('pubsub', { xmlns: NS_PUBSUB }, xml('retract', { node: NS_BOOKMARKS, notify: 'true' }, xml('item', { id: room('quiet') }))));
    await waitFor(() => !saved().some((c) => c.startsWith(room('quiet'))), 'retracted bookmark gone');
  });

  it('saves and removes chats on the server, where XEP-0402 and XEP-0048 clients see them', async () => {
    await h.parley.chats.save(alice, room('parley-saved'), { alias: 'Saved in Parley', autojoin: false });
    expect(await serverBookmarks(phone)).toContain(room('parley-saved'));
    expect(await legacyBookmarks(phone)).toContain(room('parley-saved'));

    await h.parley.chats.unsave(alice, room('lounge'));
    expect(await serverBookmarks(phone)).not.toContain(room('lounge'));
    expect(await legacyBookmarks(phone)).not.toContain(room('lounge'));
    expect(saved().some((c) => c.startsWith(room('lounge')))).toBe(false);
    // What the phone published for the rooms Parley did not touch is kept.
    expect(await serverBookmarks(phone)).toEqual([room('live'), room('old'), room('parley-saved')].sort());
  });

  it('keeps a chat saved while offline and sends it to the server at the next sign-in', async () => {
    await h.parley.accounts.disconnect(alice);
    await h.parley.chats.save(alice, room('offline-saved'), { autojoin: false });
    expect(h.parley.chats.saved().find((c) => c.room === room('offline-saved'))?.pending).toBe(true);
    await h.parley.accounts.connect(alice);
    await waitFor(async () => (await serverBookmarks(phone)).includes(room('offline-saved')), 'pending chat on the server');
    await waitFor(() => h.parley.chats.saved().find((c) => c.room === room('offline-saved'))?.pending === undefined, 'no longer pending');
    expect(saved()).toContain(room('offline-saved'));
  });

  it('ignores a bookmark notification forged by another user', async () => {
    const bob = await rawXmpp(server, 'bob', 'bob-pw');
    try {
      await bob.send(
        xml(
          'message',
          { to: 'alice@localhost', type: 'headline' },
          xml('event', { xmlns: `${NS_PUBSUB}#event` }, xml('items', { node: NS_BOOKMARKS }, xml('item', { id: room('trap') }, xml('conference', { xmlns: NS_BOOKMARKS, autojoin: 'true' })))),
        ),
      );
      // A real change after it: once it is applied, the forged one has been handled before it.
      await publish(phone, room('after-forgery'), { autojoin: false });
      await waitFor(() => saved().includes(room('after-forgery')), 'real bookmark');
      expect(saved().some((c) => c.startsWith(room('trap')))).toBe(false);
      expect(joined(room('trap'))).toBe(false);
    } finally {
      await bob.stop();
    }
  });
});

describe('XEP-0048 bookmarks in private storage, on a server without XEP-0402', () => {
  let server: TestProsody;
  let h: Harness;
  let other: RawXmpp;
  let alice: string;

  beforeAll(async () => {
    server = await startTestProsody({ modules: ['private'], users: { alice: 'alice-pw' } });
    h = await harness(server);
    other = await rawXmpp(server, 'alice', 'alice-pw', 'other');
    alice = await h.account('alice', 'alice-pw');
  });
  afterAll(async () => {
    await other?.stop();
    await h?.close();
    await server?.stop();
  });

  it('reads the list, joins the autojoin rooms, and writes changes back keeping what it does not know', async () => {
    await other.iq(
      'set',
      xml(
        'query',
        { xmlns: 'jabber:iq:private' },
        xml('storage', { xmlns: 'storage:bookmarks' }, xml('conference', { jid: 'legacy@conference.localhost', autojoin: 'true' }), xml('url', { name: 'A link', url: 'https://example.org/' })),
      ),
    );
    await h.parley.accounts.connect(alice);
    expect(h.parley.chats.saved().map((c) => `${c.room}:${c.autojoin}`)).toEqual(['legacy@conference.localhost:true']);
    await waitFor(() => h.parley.conversations.list().some((c) => c.name === 'legacy@conference.localhost' && c.joined), 'autojoin');

    await h.parley.chats.save(alice, 'added@conference.localhost', { autojoin: false });
    await h.parley.chats.unsave(alice, 'legacy@conference.localhost');
    const query = await other.iq('get', xml('query', { xmlns: 'jabber:iq:private' }, xml('storage', { xmlns: 'storage:bookmarks' })));
    const storage = query?.getChild('storage');
    expect(storage?.getChildren('conference').map((c) => c.attrs.jid)).toEqual(['added@conference.localhost']);
    expect(storage?.getChildren('url').map((c) => c.attrs.url)).toEqual(['https://example.org/']);
  });
});
