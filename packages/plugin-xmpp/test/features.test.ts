import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml, type Harness } from './helpers.js';

describe('XMPP features against a real Prosody', () => {
  let server: TestProsody;
  let h: Harness;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    const users: Record<string, string> = {};
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) users[u] = `${u}-pw`;
    server = await startTestProsody({ users });
    h = await harness(server, { answer: (request, purpose) => (purpose === 'authorization' ? 'allow' : undefined) });
    for (const u of ['alice', 'bob', 'carol']) ids[u] = await h.account(u, `${u}-pw`);
    await Promise.all(['alice', 'bob', 'carol'].map((u) => h.parley.accounts.connect(ids[u]!)));
  });
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });

  it('sees roster changes made from another client live, and sends its own changes back (RFC 6121 §2)', async () => {
    const other = await rawXmpp(server, 'alice', 'alice-pw', 'phone');
    try {
      await other.iq('set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'dave@localhost', name: 'Dave D' }, xml('group', {}, 'Friends'))));
      const found = await waitFor(() => h.parley.buddies.find(ids.alice!, 'dave@localhost'), 'roster push reaches the buddy list');
      expect(found.contact.group).toBe('Friends');
      expect(found.buddy.alias ?? found.contact.displayName).toBe('Dave D');

      // Parley renames and moves: the other client gets the roster push.
      await h.parley.buddies.move(found.contact.id, 'Work');
      const push = await waitFor(
        () => other.stanzas.find((s) => s.is('iq') && s.attrs.type === 'set' && s.getChild('query', 'jabber:iq:roster')?.getChild('item')?.getChildText('group') === 'Work'),
        'roster push on the other client',
      );
      expect(push.getChild('query', 'jabber:iq:roster')!.getChild('item')!.attrs.jid).toBe('dave@localhost');

      // Removal from the other client removes the buddy.
      await other.iq('set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'dave@localhost', subscription: 'remove' })));
      await waitFor(() => h.parley.buddies.find(ids.alice!, 'dave@localhost') === undefined, 'removal reaches the buddy list');
    } finally {
      await other.stop();
    }
  });

  it('puts a subscription request to the user and sends the answer to the server (RFC 6121 §3.1)', async () => {
    const erin = await rawXmpp(server, 'erin', 'erin-pw');
    try {
      await erin.send(xml('presence', { to: 'bob@localhost', type: 'subscribe' }, xml('status', {}, 'hi, it is Erin')));
      await waitFor(() => h.requests.find((r) => r.purpose === 'authorization' && r.request.title.includes('erin@localhost')), 'authorization request');
      const answer = await waitFor(() => erin.stanzas.find((s) => s.is('presence') && s.attrs.type === 'subscribed' && String(s.attrs.from).startsWith('bob@localhost')), 'subscribed');
      expect(answer.attrs.type).toBe('subscribed');
      // Erin is online: now that she may see Bob, Bob's presence flows to her, and Bob's own request back gets hers.
      await erin.send(xml('presence', { to: 'bob@localhost', type: 'subscribed' }));
      await waitFor(() => h.parley.buddies.find(ids.bob!, 'erin@localhost')?.buddy.presence.status === 'available', 'erin shown online to bob');
    } finally {
      await erin.stop();
    }
  });

  it('aggregates presence per resource: the highest priority resource wins (RFC 6121 §4)', async () => {
    const phone = await rawXmpp(server, 'dave', 'dave-pw', 'phone');
    const desk = await rawXmpp(server, 'dave', 'dave-pw', 'desk');
    try {
      await h.parley.buddies.add(ids.carol!, 'dave@localhost', { group: 'Team' });
      // Dave allows Carol (from either resource).
      await waitFor(() => phone.stanzas.find((s) => s.is('presence') && s.attrs.type === 'subscribe'), 'subscribe reaches dave');
      await phone.send(xml('presence', { to: 'carol@localhost', type: 'subscribed' }));
      await desk.send(xml('presence', {}, xml('show', {}, 'dnd'), xml('status', {}, 'in a meeting'), xml('priority', {}, '10')));
      await phone.send(xml('presence', {}, xml('show', {}, 'away'), xml('priority', {}, '0'), xml('idle', { xmlns: 'urn:xmpp:idle:1', since: '2020-01-01T10:00:00Z' })));
      const busy = await waitFor(() => {
        const p = h.parley.buddies.find(ids.carol!, 'dave@localhost')?.buddy.presence;
        return p?.status === 'busy' ? p : undefined;
      }, 'busy from the desk resource');
      expect(busy.message).toBe('in a meeting');
      await desk.send(xml('presence', { type: 'unavailable' }));
      const away = await waitFor(() => {
        const p = h.parley.buddies.find(ids.carol!, 'dave@localhost')?.buddy.presence;
        return p?.status === 'away' ? p : undefined;
      }, 'away from the phone once the desk leaves');
      expect(away.idleSince).toBe(Date.parse('2020-01-01T10:00:00Z'));
    } finally {
      await phone.stop();
      await desk.stop();
    }
  });

  it('shows messages sent from another client of the same account (carbons, XEP-0280)', async () => {
    const other = await rawXmpp(server, 'alice', 'alice-pw', 'laptop');
    try {
      await other.send(xml('message', { type: 'chat', to: 'carol@localhost', id: 'from-laptop-1' }, xml('body', {}, 'sent from my laptop')));
      const copy = await waitFor(() => h.messages.find((m) => m.accountId === ids.alice && m.text === 'sent from my laptop'), 'carbon copy');
      expect(copy.direction).toBe('outgoing');
      const conv = h.parley.conversations.get(copy.conversationId)!;
      expect(conv.name).toBe('carol@localhost');
    } finally {
      await other.stop();
    }
  });

  it('joins a MUC room with three participants: roles, messages, topic, nick change, kick (XEP-0045)', async () => {
    // "#lounge" finds the server's MUC service through disco (XEP-0030); a full room JID works too.
    await h.parley.chats.join(ids.alice!, '#lounge');
    await h.parley.chats.join(ids.bob!, 'lounge@conference.localhost');
    await h.parley.chats.join(ids.carol!, '#lounge', { nick: 'caz' });
    const aliceView = () => h.parley.conversations.find(ids.alice!, 'chat', '#lounge')!;
    await waitFor(() => aliceView().participants.size === 3, 'three participants');
    expect(aliceView().participants.get('alice')?.role).toBe('owner');
    expect(aliceView().participants.get('caz')?.role).toBe('voice');

    await h.parley.conversations.send(aliceView().id, 'welcome, everyone');
    const atBob = await waitFor(() => h.messages.find((m) => m.accountId === ids.bob && m.text === 'welcome, everyone'), 'bob gets the room message');
    expect(atBob.sender).toBe('alice');
    expect(h.messages.filter((m) => m.accountId === ids.alice && m.text === 'welcome, everyone')).toHaveLength(1);

    await h.parley.chats.setTopic(aliceView().id, 'Friday plans');
    await waitFor(() => h.parley.conversations.find(ids.carol!, 'chat', '#lounge')?.topic === 'Friday plans', 'topic at carol');

    const carolRoom = h.parley.conversations.find(ids.carol!, 'chat', '#lounge')!;
    await h.parley.runCommand('/nick carol', { conversationId: carolRoom.id });
    await waitFor(() => aliceView().participants.has('carol') && !aliceView().participants.has('caz'), 'nick change seen');

    await h.parley.runCommand('/kick bob too loud', { conversationId: aliceView().id });
    await waitFor(() => h.parley.conversations.find(ids.bob!, 'chat', 'lounge@conference.localhost')?.joined === false, 'bob kicked');
    await waitFor(() => !aliceView().participants.has('bob'), 'bob gone from the list');

    // Someone joining later gets the room's history, flagged as delayed (XEP-0203).
    const dave = await h.account('dave', 'dave-pw');
    await h.parley.accounts.connect(dave);
    await h.parley.chats.join(dave, '#lounge');
    const history = await waitFor(() => h.messages.find((m) => m.accountId === dave && m.text === 'welcome, everyone'), 'history');
    expect(history.flags.delayed).toBe(true);
    expect(history.timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('rejects a wrong room password with a clear error', async () => {
    const owner = await rawXmpp(server, 'erin', 'erin-pw', 'muc');
    try {
      await owner.send(xml('presence', { to: 'secret@conference.localhost/erin' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
      await waitFor(() => owner.stanzas.find((s) => s.is('presence') && String(s.attrs.from) === 'secret@conference.localhost/erin'), 'room created');
      await owner.iq(
        'set',
        xml('query', { xmlns: 'http://jabber.org/protocol/muc#owner' },
          xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
            xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#roomconfig')),
            xml('field', { var: 'muc#roomconfig_passwordprotectedroom' }, xml('value', {}, '1')),
            xml('field', { var: 'muc#roomconfig_roomsecret' }, xml('value', {}, 'open sesame')))),
        'secret@conference.localhost',
      );
      await expect(h.parley.chats.join(ids.alice!, '#secret', { password: 'wrong' })).rejects.toThrow(/password/);
      const joined = await h.parley.chats.join(ids.alice!, '#secret', { password: 'open sesame' });
      expect(joined.joined).toBe(true);
    } finally {
      await owner.stop();
    }
  });

  it('flags offline messages as delayed with their original time (XEP-0203)', async () => {
    const before = Date.now();
    await h.parley.conversations.sendIm(ids.alice!, 'frank@localhost', 'read this when you are back');
    await new Promise((r) => setTimeout(r, 1100));
    const frank = await h.account('frank', 'frank-pw');
    await h.parley.accounts.connect(frank);
    const got = await waitFor(() => h.messages.find((m) => m.accountId === frank && m.text === 'read this when you are back'), 'offline message');
    expect(got.flags.delayed).toBe(true);
    // The stamp has second precision: the original time, not the delivery time.
    expect(got.timestamp).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(got.timestamp).toBeLessThan(Date.now() - 500);
  });
});
