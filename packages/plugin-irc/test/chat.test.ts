import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { harness, rawClient, waitFor, type Harness, type RawClient } from './helpers.js';

let server: NgircdServer;
let h: Harness;
let alice: string;
let bob: string;
let observer: RawClient;

const plain = () => ({ server: '127.0.0.1', port: server.port, tls: false, isonInterval: 1 });

beforeAll(async () => {
  server = await startNgircd();
  h = await harness();
  observer = await rawClient(server.port, 'watcher', ['#parley']);
  alice = await h.account('alice', plain());
  bob = await h.account('bob', plain());
  await h.parley.accounts.connect(alice);
  await h.parley.accounts.connect(bob);
});

afterAll(async () => {
  observer?.close();
  await h?.close();
  await server?.close();
});

const received = (account: string, text: string) => h.messages.find((m) => m.accountId === account && m.direction === 'incoming' && m.text === text);

describe('two accounts on ngircd', () => {
  it('talk in a channel, with names and roles', async () => {
    const chatA = await h.parley.chats.join(alice, '#parley');
    const chatB = await h.parley.chats.join(bob, '#parley');
    await h.parley.conversations.send(chatA.id, 'hello channel');
    const got = await waitFor(() => received(bob, 'hello channel'), 'bob to get the channel message');
    expect(got.sender).toBe('alice');
    expect(got.conversationId).toBe(chatB.id);
    // watcher created the channel, so it is the operator; the others are plain members.
    const participants = await waitFor(() => {
      const view = h.parley.conversations.get(chatB.id);
      const list = [...(view?.participants.values() ?? [])];
      return list.length >= 3 ? list : undefined;
    }, 'bob to see three participants');
    expect(participants.find((p) => p.nick === 'watcher')?.role).toBe('admin');
    expect(participants.find((p) => p.nick === 'alice')?.role).toBe('member');
  });

  it('talk in private: PRIVMSG becomes an IM with the sender', async () => {
    await h.parley.conversations.sendIm(alice, 'bob', 'psst bob');
    const got = await waitFor(() => received(bob, 'psst bob'), 'bob to get the IM');
    const conversation = h.parley.conversations.get(got.conversationId);
    expect(conversation?.kind).toBe('im');
    expect(conversation?.name).toBe('alice');
  });

  it('sends /me as CTCP ACTION and shows an incoming ACTION as an action', async () => {
    const chatA = h.parley.conversations.find(alice, 'chat', '#parley')!;
    await h.parley.conversations.send(chatA.id, 'waves', { action: true });
    await waitFor(() => observer.lines.find((l) => l.includes('PRIVMSG #parley :\x01ACTION waves\x01')), 'the ACTION on the wire');
    const got = await waitFor(() => received(bob, 'waves'), 'bob to get the action');
    expect(got.flags.action).toBe(true);
    await h.parley.runCommand('/me dances', { conversationId: chatA.id });
    const dance = await waitFor(() => received(bob, 'dances'), 'bob to get /me');
    expect(dance.flags.action).toBe(true);
  });

  it('shows NOTICEs, and answers CTCP VERSION', async () => {
    observer.send('NOTICE bob :this is a notice');
    const got = await waitFor(() => received(bob, 'this is a notice'), 'bob to get the notice');
    expect(got.flags.notice).toBe(true);
    observer.send('PRIVMSG bob :\x01VERSION\x01');
    const reply = await waitFor(() => observer.lines.find((l) => l.startsWith(':bob!') && l.includes('NOTICE watcher :\x01VERSION ')), 'the VERSION reply');
    expect(reply).toContain('Parley IRC');
  });

  it('never lets message text inject a command (hi\\r\\nQUIT sends text, not QUIT)', async () => {
    const chatA = h.parley.conversations.find(alice, 'chat', '#parley')!;
    await h.parley.conversations.send(chatA.id, 'hi\r\nQUIT :pwned\rJOIN #evil\0PART #parley');
    await waitFor(() => received(bob, 'PART #parley'), 'the last piece to arrive as text');
    for (const text of ['hi', 'QUIT :pwned', 'JOIN #evil']) expect(received(bob, text)).toBeDefined();
    // The observer's copy comes on another socket: wait for it too, then look at everything alice sent.
    await waitFor(() => observer.lines.some((l) => l.startsWith(':alice!') && l.endsWith(' PRIVMSG #parley :PART #parley')), 'the observer to see the last piece');
    const fromAlice = observer.lines.filter((l) => l.startsWith(':alice!'));
    expect(fromAlice.some((l) => / (QUIT|PART) /.test(l))).toBe(false);
    expect(fromAlice.filter((l) => l.includes(' PRIVMSG #parley :')).map((l) => l.slice(l.indexOf(' :') + 2))).toEqual(
      expect.arrayContaining(['hi', 'QUIT :pwned', 'JOIN #evil', 'PART #parley']),
    );
    expect(h.parley.accounts.status(alice).state).toBe('online');
    // A topic or a nick with a line break is refused outright.
    await expect(h.parley.chats.setTopic(chatA.id, 'topic\r\nQUIT')).rejects.toMatchObject({ code: 'irc-invalid-input' });
    await expect(h.parley.runCommand('/nick x\r\nQUIT', { conversationId: chatA.id })).rejects.toThrow();
    expect(h.parley.accounts.status(alice).state).toBe('online');
  });

  it('splits long text within 512 bytes per relayed line, never inside a UTF-8 sequence', async () => {
    const chatA = h.parley.conversations.find(alice, 'chat', '#parley')!;
    const text = 'é€😀x'.repeat(200); // 1800 bytes, no spaces to cut at
    const before = observer.raw().length;
    await h.parley.conversations.send(chatA.id, text);
    const pieces = await waitFor(() => {
      const got = h.messages.filter((m) => m.accountId === bob && m.direction === 'incoming' && /^[é€😀x]+$/u.test(m.text)).map((m) => m.text);
      return got.join('') === text ? got : undefined;
    }, 'bob to get every piece');
    expect(pieces.length).toBeGreaterThan(3);
    const aliceLines = () =>
      observer
        .raw()
        .subarray(before)
        .toString('latin1')
        .split('\r\n')
        .filter((l) => l.includes(' PRIVMSG #parley :') && l.startsWith(':alice!') && /[x\x80-\xff]$/.test(l));
    // The observer's copy comes on another socket: wait until it has every piece.
    const lines = await waitFor(() => (aliceLines().length >= pieces.length ? aliceLines() : undefined), 'the observer to see every piece');
    expect(lines.length).toBe(pieces.length);
    for (const line of lines) {
      const bytes = Buffer.from(line, 'latin1');
      expect(bytes.length + 2).toBeLessThanOrEqual(512);
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).not.toThrow();
    }
  });

  it('shows nick changes, and the topic', async () => {
    const chatB = h.parley.conversations.find(bob, 'chat', '#parley')!;
    observer.send('NICK watcher2');
    await waitFor(() => h.parley.conversations.get(chatB.id)?.participants.has('watcher2'), 'the rename');
    observer.send('TOPIC #parley :a new topic');
    await waitFor(() => h.parley.conversations.get(chatB.id)?.topic === 'a new topic', 'the topic');
    observer.send('NICK watcher');
    await waitFor(() => h.parley.conversations.get(chatB.id)?.participants.has('watcher'), 'the rename back');
  });

  it('shows a kick, for others and for ourselves', async () => {
    const chatA = h.parley.conversations.find(alice, 'chat', '#parley')!;
    const chatB = h.parley.conversations.find(bob, 'chat', '#parley')!;
    observer.send('KICK #parley bob :behave');
    await waitFor(() => h.messages.find((m) => m.conversationId === chatA.id && m.flags.system && m.text.includes('bob was kicked')), 'alice to see the kick');
    await waitFor(() => h.parley.conversations.get(chatB.id)?.joined === false, 'bob to be out of the channel');
    expect(h.parley.conversations.get(chatA.id)?.participants.has('bob')).toBe(false);
    await h.parley.chats.join(bob, '#parley');
    expect(h.parley.conversations.get(chatB.id)?.joined).toBe(true);
  });

  it('shows a quit to the channel', async () => {
    const chatA = h.parley.conversations.find(alice, 'chat', '#parley')!;
    const extra = await rawClient(server.port, 'leaver', ['#parley']);
    await waitFor(() => h.parley.conversations.get(chatA.id)?.participants.has('leaver'), 'the join');
    extra.send('QUIT :gone fishing');
    await waitFor(() => h.messages.find((m) => m.conversationId === chatA.id && m.text.includes('leaver quit') && m.text.includes('gone fishing')), 'the quit line');
    extra.close();
  });

  it('picks the next alternative nick when the nick is in use, and fails when all are', async () => {
    const second = await h.account('alice2', { ...plain(), nick: 'alice', alternativeNicks: ['alice', 'alice_'] });
    await h.parley.accounts.connect(second);
    await h.parley.conversations.sendIm(second, 'bob', 'from the second alice');
    const got = await waitFor(() => received(bob, 'from the second alice'), 'bob to get the IM');
    expect(got.sender).toBe('alice_');
    const third = await h.account('alice3', { ...plain(), nick: 'alice', alternativeNicks: ['alice_'] });
    const error = await h.parley.accounts.connect(third).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ reason: 'name-in-use', fatal: true, protocolDetail: '433' });
    expect(h.parley.accounts.status(third).state).toBe('error');
  });
});
