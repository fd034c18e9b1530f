/**
 * Through a bouncer: Debian's ZNC 1.8 in front of ngircd. What was said while
 * Parley was away is played back by ZNC when it attaches — channel and
 * private messages, each once, in order, with the times ZNC recorded them
 * (server-time) — and a later reconnect plays nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { startZnc, type ZncServer } from '../../../test/servers/znc.js';
import { harness, rawClient, waitFor, wireTap, type Harness, type RawClient, type WireTap } from './helpers.js';

let ircd: NgircdServer;
let znc: ZncServer;
let h: Harness;
let bob: RawClient;
let alice: string;
let tap: WireTap;

function texts(kind: 'im' | 'chat', name: string) {
  const conversation = h.parley.conversations.find(alice, kind, name);
  return conversation === undefined ? [] : h.parley.conversations.get(conversation.id)!.messages.filter((m) => m.flags.system !== true);
}

beforeAll(async () => {
  ircd = await startNgircd();
  bob = await rawClient(ircd.port, 'bob', ['#room']);
  znc = await startZnc({ upstreamPort: ircd.port, user: 'alice', password: 'alice-secret', channels: ['#room'] });
  // ZNC is online upstream for alice once she is in #room.
  await waitFor(() => bob.lines.some((l) => /^:alice!\S+ JOIN :?#room/.test(l)), 'ZNC to join #room as alice', 30_000);
  tap = await wireTap(znc.port);
  h = await harness();
  alice = await h.account('alice', { server: '127.0.0.1', port: tap.port, tls: false, autoJoin: ['#room'] }, { serverPassword: znc.clientPassword });
});

afterAll(async () => {
  bob?.close();
  await h?.close();
  await tap?.close();
  await znc?.close();
  await ircd?.close();
});

describe('ZNC playback', () => {
  it('what was said while away is played back once, in order, with the recorded times', async () => {
    await h.parley.accounts.connect(alice);
    await waitFor(() => h.parley.conversations.find(alice, 'chat', '#room')?.joined === true, 'alice in #room through ZNC');
    await h.parley.accounts.disconnect(alice);
    // ZNC buffers only while no client is attached, and it may still be taking the client's leave when
    // bob writes (a busy machine): wait until ZNC answers a CTCP VERSION itself, which it does only then.
    let asked = 0;
    await waitFor(() => {
      if (bob.lines.some((l) => /^:alice!\S+ NOTICE bob :\u0001VERSION ZNC /.test(l))) return true;
      if (asked++ % 50 === 0) bob.send('PRIVMSG alice :\u0001VERSION\u0001');
      return false;
    }, 'ZNC to answer for the detached alice');
    for (let i = 1; i <= 5; i++) bob.send(`PRIVMSG #room :while away ${i}`);
    bob.send('PRIVMSG alice :psst, while away');
    // ZNC has them all once bob's PING comes back after them (ngircd answers in order).
    bob.send('PING :flushed');
    await waitFor(() => bob.lines.some((l) => / PONG .*flushed/.test(l)), 'ngircd took them');
    const from = tap.toClient.length;

    await h.parley.accounts.connect(alice);
    await waitFor(() => texts('chat', '#room').filter((m) => m.text.startsWith('while away ')).length === 5, 'the channel playback');
    await waitFor(() => texts('im', 'bob').some((m) => m.text === 'psst, while away'), 'the private playback');
    const channel = texts('chat', '#room').filter((m) => m.text.startsWith('while away '));
    expect(channel.map((m) => m.text)).toEqual([1, 2, 3, 4, 5].map((i) => `while away ${i}`));
    // The times ZNC recorded (server-time on each played-back line), not the time of the playback.
    expect(tap.toClient.some((l) => / CAP \S+ ACK :.*(server-time|znc\.in\/server-time-iso)/.test(l))).toBe(true);
    const playedTime = (text: string) => {
      const line = tap.toClient.slice(from).find((l) => l.endsWith(` :${text}`))!;
      return Date.parse(/^@(?:\S*;)?time=([^; ]+)/.exec(line)![1]!);
    };
    for (const m of [...channel, ...texts('im', 'bob')]) expect(m.timestamp).toBe(playedTime(m.text));
    expect(texts('im', 'bob').filter((m) => m.text === 'psst, while away')).toHaveLength(1);
    // ZNC played them back in its znc.in/playback batches: flagged delayed.
    expect(tap.toClient.slice(from).some((l) => / BATCH \+\S+ znc\.in\/playback #room$/.test(l))).toBe(true);
    expect([...channel, ...texts('im', 'bob')].every((m) => m.flags.delayed === true)).toBe(true);
  });

  it('a reconnect plays nothing twice', async () => {
    const count = h.messages.filter((m) => m.flags.system !== true).length;
    await h.parley.accounts.disconnect(alice);
    await h.parley.accounts.connect(alice);
    await waitFor(() => h.parley.conversations.find(alice, 'chat', '#room')?.joined === true, 'alice in #room again');
    // A message after the reconnect arrives; nothing before it came again.
    bob.send('PRIVMSG #room :after the reconnect');
    await waitFor(() => texts('chat', '#room').some((m) => m.text === 'after the reconnect'), 'the live message');
    const now = h.messages.filter((m) => m.flags.system !== true);
    expect(now.slice(count).map((m) => m.text)).toEqual(['after the reconnect']);
    expect(now.at(-1)?.flags.delayed).not.toBe(true);
  });
});
