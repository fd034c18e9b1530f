import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml, type Harness, type RawXmpp } from './helpers.js';

const ROOM = 'archived@conference.localhost';
const say = (text: string) => xml('message', { type: 'groupchat', to: ROOM, id: `id-${text.replace(/\W/g, '-')}` }, xml('body', {}, text));

describe('a room\'s archive on join (XEP-0313 on MUC, mod_muc_mam) against a real Prosody', () => {
  let server: TestProsody;
  let h: Harness;
  let bob: RawXmpp;
  let alice: string;
  const said = () => {
    const conversation = h.parley.conversations.list().find((c) => c.accountId === alice && c.kind === 'chat');
    return h.messages.filter((m) => m.conversationId === conversation?.id && !m.flags.system).map((m) => `${m.sender}: ${m.text}`);
  };

  beforeAll(async () => {
    server = await startTestProsody({ mucMam: true, users: { alice: 'alice-pw', bob: 'bob-pw' } });
    h = await harness(server);
    bob = await rawXmpp(server, 'bob', 'bob-pw');
    // Bob makes the room (an instant room, XEP-0045 §10.1.2) and stays in it.
    await bob.send(xml('presence', { to: `${ROOM}/bob` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
    await waitFor(() => bob.stanzas.some((s) => s.is('presence') && s.attrs.from === `${ROOM}/bob`), 'bob in the room');
    await bob.iq('set', xml('query', { xmlns: 'http://jabber.org/protocol/muc#owner' }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })), ROOM);
    alice = await h.account('alice', 'alice-pw', { nick: 'alice' });
    await h.parley.accounts.connect(alice);
  });
  afterAll(async () => {
    await bob?.stop();
    await h?.close();
    await server?.stop();
  });

  it('shows what was said before the join from the archive, more than the room\'s history keeps, each once and in order', async () => {
    // 30: more than the room's own history (20 here).
    for (let i = 1; i <= 30; i++) await bob.send(say(`m${i}`));
    await waitFor(() => bob.stanzas.some((s) => s.getChildText('body') === 'm30'), 'the room reflects the last one');
    await h.parley.chats.join(alice, ROOM);
    expect(said()).toEqual(Array.from({ length: 30 }, (_, i) => `bob: m${i + 1}`));
    expect(h.messages.filter((m) => m.text === 'm1')[0]?.flags.delayed).toBe(true);
    expect(h.logs.filter((r) => r.message === 'Fetched the room archive').map((r) => r.data?.messages)).toEqual([30]);

    // Live, after the archive: once, though it carries the room's id too.
    await bob.send(say('live'));
    await waitFor(() => said().includes('bob: live'), 'live message');
    await h.parley.conversations.send(h.parley.conversations.list().find((c) => c.kind === 'chat')!.id, 'from alice');
    await waitFor(() => bob.stanzas.some((s) => s.getChildText('body') === 'from alice'), 'bob gets alice\'s');
    expect(said().slice(30)).toEqual(['bob: live', 'alice@localhost: from alice']);
  });

  it('on a later join fetches only what was said since, without the room\'s history again', async () => {
    const conversation = h.parley.conversations.list().find((c) => c.kind === 'chat')!;
    await h.parley.chats.leave(conversation.id);
    for (const text of ['n1', 'n2', 'n3']) await bob.send(say(text));
    await waitFor(() => bob.stanzas.some((s) => s.getChildText('body') === 'n3'), 'the room reflects n3');
    const before = said().length;
    await h.parley.chats.join(alice, ROOM);
    await bob.send(say('after'));
    await waitFor(() => said().includes('bob: after'), 'live after rejoin');
    expect(said().slice(before)).toEqual(['bob: n1', 'bob: n2', 'bob: n3', 'bob: after']);
    expect(h.logs.filter((r) => r.message === 'Fetched the room archive').map((r) => r.data?.messages)).toEqual([30, 3]);
  });

  it('refuses archive results for the room that come from anyone else', async () => {
    // Bob, a participant, sends what looks like an archive result to alice directly.
    await bob.send(
      xml(
        'message',
        { to: 'alice@localhost/parley' },
        xml('result', { xmlns: 'urn:xmpp:mam:2', queryid: 'muc-mam1', id: 'fake' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('message', { from: `${ROOM}/carol`, type: 'groupchat' }, xml('body', {}, 'forged')))),
      ),
    );
    await bob.send(say('after the forgery'));
    await waitFor(() => said().includes('bob: after the forgery'), 'the next message');
    expect(said().some((s) => s.includes('forged'))).toBe(false);
  });
});
