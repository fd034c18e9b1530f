/**
 * Typing in channels with the IRCv3 typing client tag (`+typing` on a
 * TAGMSG, message-tags) on ergo: two Parley accounts, each on its own core,
 * in one channel see each other typing, never themselves (echo-message
 * brings our own TAGMSG back), and a message ends it. A raw client's
 * unknown typing values change nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, rawClient, waitFor, type Harness } from './helpers.js';

const builtPlugin = new URL('../dist/index.js', import.meta.url).href;
const CHANNEL = '#typing';

let server: ErgoServer;
beforeAll(async () => {
  server = await startErgo();
});
afterAll(async () => {
  await server?.close();
});

const open: Harness[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function inChannel(nick: string, isolation: 'none' | 'worker') {
  const h = await harness(isolation === 'worker' ? { isolation, plugins: [], pluginModules: [builtPlugin] } : { isolation });
  open.push(h);
  const id = await h.account(nick, { server: '127.0.0.1', port: server.port, tls: false });
  await h.parley.accounts.connect(id);
  const room = await h.parley.chats.join(id, CHANNEL);
  const typing: string[] = [];
  h.parley.events.on('chatTypingChanged', (_c, who, state) => typing.push(`${who}:${state}`));
  return { h, id, room, typing };
}

describe.each(['none', 'worker'] as const)('IRCv3 typing in a channel on ergo, isolation %s', (isolation) => {
  it('each sees the other typing, never itself; a message ends it', async () => {
    const alice = await inChannel('alice', isolation);
    const bob = await inChannel('bob', isolation);
    await waitFor(() => alice.h.parley.conversations.get(alice.room.id)!.participants.has('bob'), 'alice to see bob join');
    expect(alice.h.parley.plugins.protocol('irc')?.capabilities.chatTyping).toBe(true);

    await alice.h.parley.conversations.setTyping(alice.room.id, 'typing');
    await waitFor(() => bob.typing.includes('alice:typing'), 'bob to see alice typing');
    await bob.h.parley.conversations.setTyping(bob.room.id, 'paused');
    await waitFor(() => alice.typing.includes('bob:paused'), 'alice to see bob pause');

    await alice.h.parley.conversations.send(alice.room.id, 'done typing');
    await waitFor(() => bob.typing.includes('alice:idle'), "bob to see alice's typing end");
    await bob.h.parley.conversations.setTyping(bob.room.id, 'idle');
    await waitFor(() => alice.typing.includes('bob:idle'), 'alice to see bob stop');
    expect(alice.typing.filter((t) => t.startsWith('alice:'))).toEqual([]);
    expect(bob.typing.filter((t) => t.startsWith('bob:'))).toEqual([]);
  });
});

describe('hostile typing tags', () => {
  it('unknown or empty values and a typing tag to a channel we are not in change nothing', async () => {
    const alice = await inChannel('alice', 'none');
    const mallory = await rawClient(server.port, 'mallory', [CHANNEL, '#elsewhere']);
    try {
      mallory.send('CAP REQ :message-tags');
      await waitFor(() => mallory.lines.some((l) => / CAP \S+ ACK :?message-tags/.test(l)), "mallory's message-tags");
      await waitFor(() => alice.h.parley.conversations.get(alice.room.id)!.participants.has('mallory'), 'mallory in the channel');
      mallory.send(`@+typing=shouting TAGMSG ${CHANNEL}`);
      mallory.send(`@+typing= TAGMSG ${CHANNEL}`);
      mallory.send('@+typing=active TAGMSG #elsewhere');
      mallory.send(`@+typing=__proto__ TAGMSG ${CHANNEL}`);
      mallory.send(`@+draft/typing=paused TAGMSG ${CHANNEL}`);
      await waitFor(() => alice.typing.length >= 1, 'the draft-named typing');
      mallory.send(`PRIVMSG ${CHANNEL} :definite`);
      await waitFor(() => alice.h.messages.some((m) => m.text === 'definite'), "mallory's message");
      // Only the draft-named one was a typing state; the message ends it.
      expect(alice.typing).toEqual(['mallory:paused', 'mallory:idle']);
      expect(alice.h.parley.accounts.status(alice.id).state).toBe('online');
    } finally {
      mallory.close();
    }
  });
});
