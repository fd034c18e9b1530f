import { describe, expect, it, vi } from 'vitest';
import type { IncomingMessage } from '@parley/core';
import { BatchTracker } from './batch.js';
import { ChatHistory } from './chathistory.js';
import type { ParsedLine } from './incoming.js';

function setup(saved?: unknown, limit?: number) {
  const written: string[] = [];
  const received: IncomingMessage[] = [];
  const state = new Map<string, unknown>(saved === undefined ? [] : [['chathistory', saved]]);
  const warnings: unknown[] = [];
  const notices: Array<[string, unknown, boolean | undefined]> = [];
  const history = new ChatHistory({
    ctx: {
      notice: (text, where, error) => notices.push([text, where, error]),
      receiveMessage: (m) => received.push(m),
      getState: <T>(key: string) => state.get(key) as T | undefined,
      setState: (key, value) => state.set(key, JSON.parse(JSON.stringify(value))),
      log: { warn: (...a: unknown[]) => warnings.push(a), info() {}, debug() {}, error() {} } as never,
    },
    write: (line) => written.push(line),
    available: () => true,
    serverLimit: () => limit,
    isChannel: (n) => n.startsWith('#'),
    ownNick: () => 'bob',
    sameName: (a, b) => a.toLowerCase() === b.toLowerCase(),
    fold: (n) => n.toLowerCase(),
  });
  const batches = new BatchTracker();
  const line = (raw: { command: string; params: string[]; nick?: string; tags?: Record<string, string> }): ParsedLine => ({ nick: '', tags: {}, ...raw });
  /** Feeds a server line through the batch tracker and the history, as the connection does. */
  const feed = (raw: { command: string; params: string[]; nick?: string; tags?: Record<string, string> }) => {
    const parsed = line(raw);
    if (raw.command === 'BATCH') {
      const event = batches.onBatchLine(parsed.params, parsed.tags);
      if (event?.kind === 'start') history.batchStarted(event.batch);
      if (event?.kind === 'end') history.batchEnded(event.batch);
      return true;
    }
    return history.line(batches.of(parsed.tags), raw.command, parsed);
  };
  return { history, written, received, state, warnings, notices, feed };
}

const T0 = Date.parse('2026-01-01T10:00:00.000Z');

describe('IRC chat history playback', () => {
  it('a first sign-in fetches nothing and starts the marks; a join of a channel never seen only marks it', () => {
    const { history, written, state } = setup();
    history.signedOn(T0);
    history.joined('#new', T0 + 5);
    expect(written).toEqual([]);
    history.closed();
    expect(state.get('chathistory')).toEqual({ marks: { '#new': '2026-01-01T10:00:00.005Z' }, last: '2026-01-01T10:00:00.005Z', oldest: { '#new': '2026-01-01T10:00:00.005Z' } });
  });

  it('asks for the targets since the last mark, fetches each private one after its mark, and leaves channels to the join', () => {
    const { history, written, feed } = setup({ marks: { alice: '2026-01-01T09:00:00.000Z', '#chan': '2026-01-01T09:30:00.000Z' }, last: '2026-01-01T09:30:00.000Z' }, 50);
    history.signedOn(T0);
    expect(written).toEqual([`CHATHISTORY TARGETS timestamp=2026-01-01T09:30:00.000Z timestamp=${new Date(T0 + 86_400_000).toISOString()} 50`]);
    feed({ command: 'BATCH', params: ['+t', 'draft/chathistory-targets'] });
    for (const [target, when] of [['alice', '2026-01-01T09:45:00.000Z'], ['carol', '2026-01-01T09:50:00.000Z'], ['#chan', '2026-01-01T09:55:00.000Z'], ['dave', '2026-01-01T09:10:00.000Z']]) {
      expect(feed({ command: 'CHATHISTORY', params: ['TARGETS', target!, when!], tags: { batch: 't' } })).toBe(true);
    }
    feed({ command: 'BATCH', params: ['-t'] });
    // alice after her own mark, carol (never seen) after the last mark, #chan on join, dave has nothing new.
    expect(written.slice(1)).toEqual(['CHATHISTORY AFTER alice timestamp=2026-01-01T09:00:00.000Z 50', 'CHATHISTORY AFTER carol timestamp=2026-01-01T09:30:00.000Z 50']);
    history.joined('#chan', T0);
    expect(written.at(-1)).toBe('CHATHISTORY AFTER #chan timestamp=2026-01-01T09:30:00.000Z 50');
  });

  it('delivers a playback batch in order with the server time and id, own lines as ours, actions and notices flagged; a full page asks for the next', () => {
    const { history, written, received, feed } = setup({ marks: { '#chan': '2026-01-01T09:00:00.000Z' }, last: '2026-01-01T09:00:00.000Z' }, 3);
    history.joined('#chan', T0);
    feed({ command: 'BATCH', params: ['+h', 'chathistory', '#chan'] });
    feed({ command: 'PRIVMSG', params: ['#chan', 'one'], nick: 'alice', tags: { batch: 'h', time: '2026-01-01T09:10:00.000Z', msgid: 'm1' } });
    feed({ command: 'PRIVMSG', params: ['#chan', '\x01ACTION waves\x01'], nick: 'bob', tags: { batch: 'h', time: '2026-01-01T09:11:00.000Z', msgid: 'm2' } });
    feed({ command: 'NOTICE', params: ['#chan', 'note'], nick: 'alice', tags: { batch: 'h', time: '2026-01-01T09:12:00.000Z' } });
    feed({ command: 'BATCH', params: ['-h'] });
    expect(received).toEqual([
      { conversation: { kind: 'chat', room: '#chan' }, sender: 'alice', text: 'one', flags: { delayed: true }, timestamp: Date.parse('2026-01-01T09:10:00.000Z'), protocolId: 'm1' },
      { conversation: { kind: 'chat', room: '#chan' }, sender: 'bob', text: 'waves', flags: { delayed: true, action: true }, fromSelf: true, timestamp: Date.parse('2026-01-01T09:11:00.000Z'), protocolId: 'm2' },
      { conversation: { kind: 'chat', room: '#chan' }, sender: 'alice', text: 'note', flags: { delayed: true, notice: true }, timestamp: Date.parse('2026-01-01T09:12:00.000Z') },
    ]);
    expect(written.at(-1)).toBe('CHATHISTORY AFTER #chan timestamp=2026-01-01T09:12:00.000Z 3');
    feed({ command: 'BATCH', params: ['+h2', 'chathistory', '#chan'] });
    feed({ command: 'BATCH', params: ['-h2'] });
    expect(written).toHaveLength(2);
  });

  it('a private playback batch names the other side: its lines go to that conversation, ours included', () => {
    const { history, received, feed } = setup({ marks: {}, last: '2026-01-01T09:00:00.000Z' });
    history.signedOn(T0);
    feed({ command: 'BATCH', params: ['+p', 'chathistory', 'alice'] });
    feed({ command: 'PRIVMSG', params: ['bob', 'hi bob'], nick: 'alice', tags: { batch: 'p' } });
    feed({ command: 'PRIVMSG', params: ['alice', 'hi alice'], nick: 'Bob', tags: { batch: 'p' } });
    feed({ command: 'BATCH', params: ['-p'] });
    expect(received.map((m) => [m.conversation, m.sender, m.fromSelf === true])).toEqual([
      [{ kind: 'im', peer: 'alice' }, 'alice', false],
      [{ kind: 'im', peer: 'alice' }, 'Bob', true],
    ]);
  });

  it('hostile or broken answers: names that would split a command, odd lines, CTCP, endless batches, FAIL and a broken saved state', () => {
    const { history, written, received, warnings, feed } = setup({ marks: { '#ok': 'not a time', '__proto__': '2026-01-01T09:00:00.000Z', x: 5 }, last: 12 });
    history.signedOn(T0);
    // "last" was unusable: this counts as a first sign-in.
    expect(written).toEqual([]);
    history.joined('#ok', T0);
    expect(written).toEqual([]);
    const withMark = setup({ marks: {}, last: '2026-01-01T09:00:00.000Z' });
    withMark.history.signedOn(T0);
    withMark.feed({ command: 'BATCH', params: ['+t', 'draft/chathistory-targets'] });
    for (const target of ['evil\r\nQUIT', 'two words', ':colon', '', 'a,b', 'x'.repeat(300)]) withMark.feed({ command: 'CHATHISTORY', params: ['TARGETS', target, '2026-01-01T09:45:00.000Z'], tags: { batch: 't' } });
    withMark.feed({ command: 'CHATHISTORY', params: ['NOTTARGETS', 'alice'], tags: { batch: 't' } });
    withMark.feed({ command: 'PRIVMSG', params: ['bob', 'not a target line'], nick: 'x', tags: { batch: 't' } });
    expect(withMark.written).toHaveLength(1);
    expect(withMark.received).toEqual([]);

    // Lines with no text, no sender, other CTCP; a batch with no target.
    feed({ command: 'BATCH', params: ['+h', 'chathistory', '#ok'] });
    feed({ command: 'PRIVMSG', params: ['#ok'], nick: 'alice', tags: { batch: 'h' } });
    feed({ command: 'PRIVMSG', params: ['#ok', 'no sender'], tags: { batch: 'h' } });
    feed({ command: 'PRIVMSG', params: ['#ok', '\x01VERSION\x01'], nick: 'alice', tags: { batch: 'h' } });
    feed({ command: 'JOIN', params: ['#ok'], nick: 'alice', tags: { batch: 'h' } });
    feed({ command: 'BATCH', params: ['-h'] });
    feed({ command: 'BATCH', params: ['+n', 'chathistory'] });
    expect(feed({ command: 'PRIVMSG', params: ['#ok', 'lost?'], nick: 'alice', tags: { batch: 'n' } })).toBe(true);
    expect(received).toEqual([]);

    // A batch that never ends delivers at most its bound.
    feed({ command: 'BATCH', params: ['+big', 'chathistory', '#ok'] });
    for (let i = 0; i < 6000; i++) feed({ command: 'PRIVMSG', params: ['#ok', `m${i}`], nick: 'alice', tags: { batch: 'big' } });
    expect(received).toHaveLength(5000);

    history.failed(['CHATHISTORY', 'INVALID_TARGET', 'AFTER', '#ok', 'Messages could not be retrieved']);
    expect(warnings).toHaveLength(1);
  });

  it('a catch-up the server refuses (FAIL CHATHISTORY) is said in its conversation, and its mark stays for the next time', () => {
    const { history, written, notices, feed, state } = setup({ marks: { '#chan': '2026-01-01T09:00:00.000Z' }, last: '2026-01-01T09:00:00.000Z' });
    history.joined('#chan', T0);
    expect(written).toEqual(['CHATHISTORY AFTER #chan timestamp=2026-01-01T09:00:00.000Z 100']);
    feed({ command: 'FAIL', params: ['CHATHISTORY', 'MESSAGE_ERROR', 'AFTER', '#chan', 'Messages could not be\r\nretrieved'] });
    history.failed(['CHATHISTORY', 'MESSAGE_ERROR', 'AFTER', '#chan', 'Messages could not be\r\nretrieved']);
    expect(notices).toEqual([['The server could not send the history: Messages could not be retrieved; what was said while you were away is missing here', { kind: 'chat', room: '#chan' }, true]]);
    history.closed();
    expect((state.get('chathistory') as { marks: Record<string, string> }).marks['#chan']).toBe('2026-01-01T09:00:00.000Z');
    // A FAIL that names nothing we asked for, with nothing outstanding, is only logged.
    history.failed(['CHATHISTORY', 'INVALID_PARAMS', 'AFTER', 'Bad']);
    history.failed([]);
    expect(notices).toHaveLength(1);
  });

  it('scrolling back asks for the page before the earliest message seen, delivers it once, and says how many came', async () => {
    const { history, written, received, feed } = setup({ marks: { '#chan': '2026-01-01T09:00:00.000Z' }, oldest: { '#chan': '2026-01-01T08:00:00.000Z' } }, 50);
    const page = history.older('#chan', 500);
    expect(written).toEqual(['CHATHISTORY BEFORE #chan timestamp=2026-01-01T08:00:00.000Z 50']);
    // Asked twice at once: refused, the first is still running.
    await expect(history.older('#CHAN', 10)).rejects.toMatchObject({ code: 'irc-timeout' });
    feed({ command: 'BATCH', params: ['+p', 'chathistory', '#chan'] });
    feed({ command: 'PRIVMSG', params: ['#chan', 'old one'], nick: 'alice', tags: { batch: 'p', time: '2026-01-01T07:00:00.000Z', msgid: 'm1' } });
    feed({ command: 'PRIVMSG', params: ['#chan', 'old two'], nick: 'alice', tags: { batch: 'p', time: '2026-01-01T07:30:00.000Z', msgid: 'm2' } });
    feed({ command: 'BATCH', params: ['-p'] });
    expect(await page).toBe(2);
    expect(received.map((m) => [m.text, m.flags?.delayed, m.protocolId])).toEqual([['old one', true, 'm1'], ['old two', true, 'm2']]);
    // The next page ends where this one began.
    const next = history.older('#chan', 10);
    // By msgid: messages said in the same millisecond are not skipped.
    expect(written[1]).toBe('CHATHISTORY BEFORE #chan msgid=m1 10');
    history.failed(['CHATHISTORY', 'MESSAGE_ERROR', 'BEFORE', '#chan', 'no more']);
    await expect(next).rejects.toMatchObject({ message: 'The server could not send the history: no more' });
    // With nothing seen yet: the latest page.
    void history.older('carol', 5).catch(() => {});
    expect(written[2]).toBe('CHATHISTORY LATEST carol * 5');
    history.closed();
  });

  it('a page the server refuses or that the link cuts rejects with the reason; a hostile target is never written', async () => {
    const { history, written } = setup();
    const refused = history.older('#chan', 10);
    history.failed(['CHATHISTORY', 'INVALID_TARGET', 'BEFORE', '#chan', 'Messages could not be retrieved']);
    await expect(refused).rejects.toMatchObject({ code: 'irc-server-refused', message: 'The server could not send the history: Messages could not be retrieved' });
    const cut = history.older('#chan', 10);
    history.closed();
    await expect(cut).rejects.toMatchObject({ code: 'irc-not-connected' });
    await expect(history.older('#a b', 10)).rejects.toMatchObject({ code: 'irc-invalid-input' });
    await expect(history.older('#a\r\nQUIT', 10)).rejects.toMatchObject({ code: 'irc-invalid-input' });
    expect(written.filter((l) => /QUIT|#a b/.test(l))).toEqual([]);
  });

  it('a catch-up or a page the server never answers fails after 30 s instead of waiting in silence', async () => {
    vi.useFakeTimers();
    try {
      const { history, notices } = setup({ marks: { '#chan': '2026-01-01T09:00:00.000Z' }, last: '2026-01-01T09:00:00.000Z' });
      history.joined('#chan', T0);
      const page = history.older('carol', 10);
      const outcome = page.then(() => 'resolved', (e: Error) => e.message);
      await vi.advanceTimersByTimeAsync(29_999);
      expect(notices).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(notices).toEqual([['The server did not answer the history request; what was said while you were away is missing here', { kind: 'chat', room: '#chan' }, true]]);
      expect(await outcome).toBe('The server did not answer the history request');
      history.closed();
    } finally {
      vi.useRealTimers();
    }
  });

  it("the core's archive requests: messages returned, not delivered, with the cursor of the oldest; a hostile cursor is never written", async () => {
    const { history, written, received, feed } = setup(undefined, 50);
    const first = history.archive('#chan', { before: Date.parse('2026-01-01T08:00:00.000Z'), cursor: 'msgid=x\r\nQUIT :bye', limit: 2 });
    expect(written).toEqual(['CHATHISTORY BEFORE #chan timestamp=2026-01-01T08:00:00.000Z 2']);
    feed({ command: 'BATCH', params: ['+a', 'chathistory', '#chan'] });
    feed({ command: 'PRIVMSG', params: ['#chan', 'one'], nick: 'alice', tags: { batch: 'a', time: '2026-01-01T07:00:00.000Z', msgid: 'm1' } });
    feed({ command: 'PRIVMSG', params: ['#chan', 'two'], nick: 'bob', tags: { batch: 'a', time: '2026-01-01T07:01:00.000Z', msgid: 'm2' } });
    feed({ command: 'BATCH', params: ['-a'] });
    expect(await first).toEqual({
      messages: [
        { direction: 'incoming', sender: 'alice', text: 'one', timestamp: Date.parse('2026-01-01T07:00:00.000Z'), protocolId: 'm1' },
        { direction: 'outgoing', sender: 'bob', text: 'two', timestamp: Date.parse('2026-01-01T07:01:00.000Z'), protocolId: 'm2' },
      ],
      cursor: 'msgid=m1',
      complete: false,
    });
    expect(received).toEqual([]);
    const last = history.archive('#chan', { before: undefined, cursor: 'msgid=m1', limit: 2 });
    expect(written[1]).toBe('CHATHISTORY BEFORE #chan msgid=m1 2');
    feed({ command: 'BATCH', params: ['+b', 'chathistory', '#chan'] });
    feed({ command: 'BATCH', params: ['-b'] });
    expect(await last).toEqual({ messages: [], complete: true });
    history.closed();
  });
});
