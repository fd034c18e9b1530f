/**
 * XEP-0085 chat states in a MUC room (XEP-0045) against a real Prosody: two
 * Parley accounts, each on its own core, in one room; each sees the other
 * typing (chatTypingChanged), not itself, and a message ends it. A raw
 * client's hostile chat states change nothing they should not.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml, type Harness } from './helpers.js';

const builtPlugin = new URL('../dist/index.js', import.meta.url).href;
const ROOM = 'typing@conference.localhost';
const NS = 'http://jabber.org/protocol/chatstates';

let server: TestProsody;
beforeAll(async () => {
  server = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw', mallory: 'mallory-pw' } });
});
afterAll(async () => {
  await server?.stop();
});

const open: Harness[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function inRoom(user: string, isolation: 'none' | 'worker') {
  const h = await harness(server, isolation === 'worker' ? { isolation, plugins: [], pluginModules: [builtPlugin] } : { isolation });
  open.push(h);
  const id = await h.account(user, `${user}-pw`, { nick: user });
  await h.parley.accounts.connect(id);
  const room = await h.parley.chats.join(id, ROOM);
  const typing: string[] = [];
  h.parley.events.on('chatTypingChanged', (_c, nick, state) => typing.push(`${nick}:${state}`));
  return { h, id, room, typing };
}

describe.each(['none', 'worker'] as const)('chat states in a MUC room on Prosody, isolation %s', (isolation) => {
  it('each occupant sees the other typing, never itself; a message ends it', async () => {
    const alice = await inRoom('alice', isolation);
    const bob = await inRoom('bob', isolation);
    await waitFor(() => alice.h.parley.conversations.get(alice.room.id)!.participants.has('bob'), 'alice to see bob in the room');
    expect(alice.h.parley.plugins.protocol('xmpp')?.capabilities.chatTyping).toBe(true);

    await alice.h.parley.conversations.setTyping(alice.room.id, 'typing');
    await waitFor(() => bob.typing.includes('alice:typing'), 'bob to see alice typing');
    expect(bob.h.parley.conversations.get(bob.room.id)!.chatTyping.get('alice')).toBe('typing');

    await bob.h.parley.conversations.setTyping(bob.room.id, 'paused');
    await waitFor(() => alice.typing.includes('bob:paused'), 'alice to see bob pause');

    await alice.h.parley.conversations.send(alice.room.id, 'here it is');
    await waitFor(() => bob.typing.includes('alice:idle'), "bob to see alice's typing end");
    // The room reflects each one's own chat states back; neither saw itself.
    await bob.h.parley.conversations.send(bob.room.id, 'thanks');
    await waitFor(() => alice.typing.includes('bob:idle'), "alice to see bob's typing end");
    expect(alice.typing.filter((t) => t.startsWith('alice:'))).toEqual([]);
    expect(bob.typing.filter((t) => t.startsWith('bob:'))).toEqual([]);
  });
});

describe('hostile chat states in a MUC room', () => {
  it('an unknown state, another namespace and an oversized state element change nothing they should not', async () => {
    const alice = await inRoom('alice', 'none');
    const mallory = await rawXmpp(server, 'mallory', 'mallory-pw');
    try {
      await mallory.send(xml('presence', { to: `${ROOM}/mallory` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
      await waitFor(() => alice.h.parley.conversations.get(alice.room.id)!.participants.has('mallory'), 'mallory in the room');
      await mallory.send(xml('message', { type: 'groupchat', to: ROOM }, xml('shouting', { xmlns: NS })));
      await mallory.send(xml('message', { type: 'groupchat', to: ROOM }, xml('composing', { xmlns: 'urn:example:not-chatstates' })));
      await mallory.send(xml('message', { type: 'groupchat', to: ROOM }, xml('composing', { xmlns: NS }, xml('composing', { xmlns: NS }, 'x'.repeat(2000)))));
      await mallory.send(xml('message', { type: 'groupchat', to: ROOM }, xml('body', {}, 'definite'), xml('active', { xmlns: NS })));
      await waitFor(() => alice.h.messages.some((m) => m.text === 'definite'), "mallory's message");
      // Only the nested composing (a chat state element, whatever it holds) counted: typing, then idle with the message.
      expect(alice.typing).toEqual(['mallory:typing', 'mallory:idle']);
      expect(alice.h.parley.accounts.status(alice.id).state).toBe('online');
    } finally {
      await mallory.stop();
    }
  });
});
