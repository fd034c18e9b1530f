/**
 * IRCv3 chat history playback (draft/chathistory) on ergo: what was said
 * while the account was offline is fetched when it signs in and joins, each
 * message once, in order, with the server's time and msgid; a reconnect
 * fetches nothing twice.
 *
 * bob is a registered account that ergo keeps present while no client is
 * connected (always-on), so private messages to him are accepted and kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, rawClient, waitFor, wireTap, type Harness, type RawClient, type WireTap } from './helpers.js';

let server: ErgoServer;
let h: Harness;
let tap: WireTap;
let alice: RawClient;
let bob: string;

function tagsOf(line: string): Record<string, string> {
  if (!line.startsWith('@')) return {};
  return Object.fromEntries(line.slice(1, line.indexOf(' ')).split(';').map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
}

/** alice's own copies (echo-message) of what she sent to `target`, with ergo's msgid and time. */
function aliceSent(target: string): Array<{ text: string; msgid: string; time: number }> {
  return alice.lines
    .filter((l) => l.includes(`PRIVMSG ${target} :`) && l.includes(' :alice!'))
    .map((l) => ({ text: l.slice(l.indexOf(`PRIVMSG ${target} :`) + `PRIVMSG ${target} :`.length), msgid: tagsOf(l).msgid!, time: Date.parse(tagsOf(l).time!) }));
}

function conversationTexts(kind: 'im' | 'chat', name: string) {
  const conversation = h.parley.conversations.find(bob, kind, name);
  return conversation === undefined ? [] : h.parley.conversations.get(conversation.id)!.messages.filter((m) => m.flags.system !== true);
}

/** Waits until the server has answered the chathistory requests made since `from` on bob's wire: TARGETS and the channel. */
async function playbackDone(from: number, channelBatches: number): Promise<void> {
  await waitFor(() => {
    const lines = tap.toClient.slice(from);
    const opened = (type: string) => lines.filter((l) => new RegExp(`BATCH \\+(\\S+) ${type}`).test(l)).map((l) => /BATCH \+(\S+)/.exec(l)![1]);
    const closed = (id: string) => lines.some((l) => l.endsWith(`BATCH -${id}`));
    const targets = opened('draft/chathistory-targets');
    const channel = opened('chathistory #history');
    return targets.length >= 1 && targets.every(closed) && channel.length >= channelBatches && channel.every(closed);
  }, 'the chat history answers');
}

beforeAll(async () => {
  server = await startErgo({
    config: {
      accounts: { multiclient: { 'always-on': 'opt-out' } },
      // This file is about history, not flood protection: alice writes 60 lines at once.
      fakelag: { enabled: false },
    },
  });
  await server.registerAccount('bob', 'bob-secret');
  tap = await wireTap(server.port);
  h = await harness();
  alice = await rawClient(server.port, 'alice', ['#history']);
  alice.send('CAP REQ :message-tags server-time echo-message');
  await waitFor(() => alice.lines.some((l) => / CAP \S+ ACK :/.test(l)), "alice's capabilities");
  bob = await h.account('bob', { server: '127.0.0.1', port: tap.port, tls: false, autoJoin: ['#history'] }, { password: 'bob-secret' });
});

afterAll(async () => {
  alice?.close();
  await h?.close();
  await tap?.close();
  await server?.close();
});

describe('chat history on ergo', () => {
  it('bob signs in after alice wrote 30 messages to him and 30 to the channel: each arrives once, in order, with the server times and ids', async () => {
    await h.parley.accounts.connect(bob);
    await waitFor(() => h.parley.conversations.find(bob, 'chat', '#history'), 'bob in #history');
    alice.send('PRIVMSG #history :before bob left');
    await waitFor(() => conversationTexts('chat', '#history').some((m) => m.text === 'before bob left'), 'bob sees it live');
    await h.parley.accounts.disconnect(bob);

    for (let i = 1; i <= 30; i++) {
      alice.send(`PRIVMSG bob :private ${i}`);
      alice.send(`PRIVMSG #history :channel ${i}`);
    }
    await waitFor(() => aliceSent('bob').length === 30 && aliceSent('#history').length === 31, 'ergo to take all 60');
    // bob is away (always-on): ergo accepted every line, none refused.
    expect(alice.lines.filter((l) => / 401 /.test(l))).toEqual([]);

    const from = tap.toClient.length;
    await h.parley.accounts.connect(bob);
    await playbackDone(from, 1);
    const sentToBob = aliceSent('bob');
    await waitFor(() => conversationTexts('im', 'alice').length === 30, 'the 30 private messages');
    const privateMessages = conversationTexts('im', 'alice');
    expect(privateMessages.map((m) => m.text)).toEqual(sentToBob.map((s) => s.text));
    expect(privateMessages.map((m) => m.protocolId)).toEqual(sentToBob.map((s) => s.msgid));
    expect(privateMessages.map((m) => m.timestamp)).toEqual(sentToBob.map((s) => s.time));
    expect(privateMessages.every((m) => m.direction === 'incoming' && m.sender === 'alice' && m.flags.delayed === true)).toBe(true);

    const toChannel = aliceSent('#history').slice(1);
    await waitFor(() => conversationTexts('chat', '#history').filter((m) => m.text.startsWith('channel ')).length === 30, 'the 30 channel messages');
    const channelMessages = conversationTexts('chat', '#history').filter((m) => m.text.startsWith('channel '));
    expect(channelMessages.map((m) => m.text)).toEqual(toChannel.map((s) => s.text));
    expect(channelMessages.map((m) => m.protocolId)).toEqual(toChannel.map((s) => s.msgid));
    expect(channelMessages.map((m) => m.timestamp)).toEqual(toChannel.map((s) => s.time));
    // What bob had seen live is not fetched again.
    expect(conversationTexts('chat', '#history').filter((m) => m.text === 'before bob left')).toHaveLength(1);
    // The request on the wire: from the mark, not from the beginning.
    expect(tap.toServer.some((l) => /^CHATHISTORY AFTER #history timestamp=\S+ \d+$/.test(l))).toBe(true);
  });

  it('a reconnect fetches nothing twice, also after Parley restarts (the marks are kept on disk)', async () => {
    const before = h.messages.length;
    await h.parley.accounts.disconnect(bob);
    let from = tap.toClient.length;
    await h.parley.accounts.connect(bob);
    await playbackDone(from, 1);
    // The answers came and held nothing new.
    expect(h.messages.slice(before).filter((m) => m.flags.system !== true)).toEqual([]);

    // A restart forgets every msgid the core saw: only the saved marks keep the old messages from coming back.
    await h.close(true);
    h = await harness({ home: h.home });
    from = tap.toClient.length;
    await h.parley.accounts.connect(bob);
    await playbackDone(from, 1);
    expect(h.messages.filter((m) => m.flags.system !== true)).toEqual([]);

    // A new message while bob is away again is fetched, alone.
    await h.parley.accounts.disconnect(bob);
    alice.send('PRIVMSG bob :one more');
    await waitFor(() => aliceSent('bob').some((s) => s.text === 'one more'), 'ergo takes it');
    from = tap.toClient.length;
    await h.parley.accounts.connect(bob);
    await playbackDone(from, 1);
    await waitFor(() => conversationTexts('im', 'alice').length === 1, 'the new message');
    expect(conversationTexts('im', 'alice')[0]?.text).toBe('one more');
    const history = await h.parley.searchHistory({ account: bob, peer: 'alice', limit: 100 });
    expect(history.filter((e) => e.text.startsWith('private '))).toHaveLength(30);
    expect(history.filter((e) => e.text === 'one more')).toHaveLength(1);
  });

  it('/history scrolls back a page at a time from the server, each message once; a refusal is an error with its text', async () => {
    alice.send('JOIN #scroll');
    await waitFor(() => alice.lines.some((l) => / 366 alice #scroll /.test(l)), 'alice in #scroll');
    for (let i = 1; i <= 5; i++) alice.send(`PRIVMSG #scroll :older ${i}`);
    await waitFor(() => aliceSent('#scroll').length === 5, 'ergo takes them');
    const chat = await h.parley.chats.join(bob, '#scroll');
    // A channel never seen before is not fetched at the join.
    expect(conversationTexts('chat', '#scroll')).toEqual([]);

    expect(await h.parley.runCommand('/history 3', { conversationId: chat.id })).toBe('3 older messages fetched from the server');
    expect(tap.toServer.some((l) => /^CHATHISTORY LATEST #scroll \* 3$|^CHATHISTORY BEFORE #scroll timestamp=\S+ 3$/.test(l))).toBe(true);
    await waitFor(() => conversationTexts('chat', '#scroll').length === 3, 'the first page');
    expect(await h.parley.runCommand('/history 3', { conversationId: chat.id })).toBe('2 older messages fetched from the server');
    await waitFor(() => conversationTexts('chat', '#scroll').length === 5, 'the second page');
    const texts = conversationTexts('chat', '#scroll');
    const sent = aliceSent('#scroll');
    // Each once, with the server's times (alice wrote all five in the same few milliseconds: the pages
    // are asked for by msgid, so none is skipped), flagged delayed.
    expect(texts.map((m) => m.text).sort()).toEqual(sent.map((s) => s.text).sort());
    expect(texts.map((m) => m.timestamp).sort()).toEqual(sent.map((s) => s.time).sort());
    expect(new Set(texts.map((m) => m.protocolId))).toEqual(new Set(sent.map((s) => s.msgid)));
    expect(texts.every((m) => m.flags.delayed === true)).toBe(true);
    expect(await h.parley.runCommand('/history 3', { conversationId: chat.id })).toBe('No older messages on the server');

    // Once everyone left, the channel and its history are gone: ergo refuses the request.
    await h.parley.chats.leave(chat.id);
    await waitFor(() => h.parley.conversations.get(chat.id)?.joined === false, 'bob left #scroll');
    alice.send('PART #scroll');
    await waitFor(() => alice.lines.some((l) => /^(@\S+ )?:alice!\S+ PART #scroll/.test(l)), 'alice left #scroll');
    await expect(h.parley.runCommand('/history', { conversationId: chat.id })).rejects.toThrow(/could not send the history: Messages could not be retrieved/);
    expect(tap.toClient.some((l) => / FAIL CHATHISTORY INVALID_TARGET /.test(l))).toBe(true);
  });

  it("the core's scrollback (history.older) pages back through the server's history, oldest first, to its end", async () => {
    alice.send('JOIN #archive');
    await waitFor(() => alice.lines.some((l) => / 366 alice #archive /.test(l)), 'alice in #archive');
    for (let i = 1; i <= 5; i++) alice.send(`PRIVMSG #archive :archived ${i}`);
    await waitFor(() => aliceSent('#archive').length === 5, 'ergo takes them');
    const chat = await h.parley.chats.join(bob, '#archive');
    const pages: string[][] = [];
    for (let i = 0; i < 10; i++) {
      const page = await h.parley.history.older(chat.id, { limit: 2 });
      pages.push(page.messages.map((m) => m.text));
      if (page.complete) break;
    }
    // Newest page first, each page oldest first; every message once; the last page says it is the end.
    // (Joins count towards a page on ergo, so a page may hold fewer messages than asked.)
    expect(pages.flat().length).toBe(5);
    expect([...pages].reverse().flat()).toEqual([1, 2, 3, 4, 5].map((i) => `archived ${i}`));
    expect(tap.toServer.some((l) => /^CHATHISTORY BEFORE #archive msgid=\S+ 2$/.test(l))).toBe(true);
    // Returned to the caller, not added to the conversation.
    expect(conversationTexts('chat', '#archive')).toEqual([]);
  });
});
