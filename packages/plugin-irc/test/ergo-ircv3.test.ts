/**
 * IRCv3 message delivery on ergo, the IRCv3 reference server, with the wire
 * recorded: each line goes out with a label (labeled-response), the server's
 * echo of it (echo-message) or its refusal carries that label back and
 * settles the message, and messages arrive with the server's time
 * (server-time) and id (message-tags, msgid).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, ParleyError } from '@parley/core';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, rawClient, waitFor, wireTap, type Harness, type RawClient, type WireTap } from './helpers.js';

let server: ErgoServer;
let h: Harness;
let tap: WireTap;
let alice: string;
let bob: RawClient;

/** bob with message-tags, server-time and echo-message, to see the msgid and time ergo gives each message. */
async function taggedClient(nick: string): Promise<RawClient> {
  const client = await rawClient(server.port, nick);
  client.send('CAP REQ :message-tags server-time echo-message');
  await waitFor(() => client.lines.some((l) => / CAP \S+ ACK :/.test(l)), `${nick}'s capabilities`);
  return client;
}

function tagsOf(line: string): Record<string, string> {
  if (!line.startsWith('@')) return {};
  return Object.fromEntries(
    line
      .slice(1, line.indexOf(' '))
      .split(';')
      .map((t) => {
        const i = t.indexOf('=');
        return i === -1 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
      }),
  );
}

beforeAll(async () => {
  server = await startErgo();
  tap = await wireTap(server.port);
  h = await harness();
  bob = await taggedClient('bob');
  alice = await h.account('alice', { server: '127.0.0.1', port: tap.port, tls: false });
  await h.parley.accounts.connect(alice);
});

afterAll(async () => {
  bob?.close();
  await h?.close();
  await tap?.close();
  await server?.close();
});

describe('IRCv3 on ergo', () => {
  it('negotiates echo-message, labeled-response, batch, message-tags and server-time with CAP 302', () => {
    expect(tap.toServer[0]).toBe('CAP LS 302');
    const req = tap.toServer.find((l) => l.startsWith('CAP REQ :'))!;
    for (const cap of ['echo-message', 'labeled-response', 'batch', 'message-tags', 'server-time']) expect(req.split(/[ :]/)).toContain(cap);
    const ack = tap.toClient.find((l) => / CAP \S+ ACK :/.test(l))!;
    expect(ack).toContain('labeled-response');
    expect(ack).toContain('echo-message');
  });

  it('a labeled line is confirmed by its labeled echo, which is not shown again; the message takes the echo msgid, the one bob got', async () => {
    const written = tap.toServer.length;
    const sent = await h.parley.conversations.sendIm(alice, 'bob', 'labeled hello');
    expect(sent?.delivery).toBe('sent');
    const line = tap.toServer.slice(written).find((l) => l.endsWith('PRIVMSG bob :labeled hello'))!;
    const label = tagsOf(line).label;
    expect(label).toMatch(/^\S+$/);
    // Confirmed by the label, not by a PING.
    expect(tap.toServer.slice(written).filter((l) => l.includes('parley-sent'))).toEqual([]);
    const echo = tap.toClient.find((l) => tagsOf(l).label === label && l.includes(' PRIVMSG bob :labeled hello'))!;
    expect(echo).toBeDefined();

    const received = await waitFor(() => bob.lines.find((l) => l.endsWith('PRIVMSG bob :labeled hello')), 'bob gets it');
    expect(sent?.protocolId).toBe(tagsOf(received).msgid);
    expect(sent?.protocolId).toBe(tagsOf(echo).msgid);
    // The echo did not come back as a second message.
    const conversation = h.parley.conversations.find(alice, 'im', 'bob')!;
    expect(h.parley.conversations.get(conversation.id)!.messages.filter((m) => m.text === 'labeled hello')).toHaveLength(1);
  });

  it('a refusal carrying the label fails exactly that message with the server text', async () => {
    const failures: Array<[Message, ParleyError]> = [];
    h.parley.events.on('messageFailed', (message, _c, error) => failures.push([message, error]));
    const written = tap.toServer.length;
    const refused = await h.parley.conversations.sendIm(alice, 'nobody', 'anyone?');
    expect(refused?.delivery).toBe('failed');
    expect(failures.map(([m, e]) => [m.text, e.code])).toEqual([['anyone?', 'no-route']]);
    expect(failures[0]![1].message).toMatch(/nobody: No such nick/i);
    const label = tagsOf(tap.toServer.slice(written).find((l) => l.endsWith('PRIVMSG nobody :anyone?'))!).label;
    expect(tap.toClient.some((l) => tagsOf(l).label === label && / 401 alice nobody /.test(l))).toBe(true);
  });

  it('a message to an away nick is sent, and the away text that came in the same labeled batch is shown', async () => {
    bob.send('AWAY :gone fishing');
    await waitFor(() => bob.lines.some((l) => / 306 bob /.test(l)), 'bob is away');
    const sent = await h.parley.conversations.sendIm(alice, 'bob', 'ping?');
    expect(sent?.delivery).toBe('sent');
    expect(tap.toClient.some((l) => / BATCH \+\S+ labeled-response/.test(l))).toBe(true);
    const conversation = h.parley.conversations.find(alice, 'im', 'bob')!;
    await waitFor(() => h.parley.conversations.get(conversation.id)!.messages.find((m) => m.flags.system === true && /bob is away: gone fishing/.test(m.text)), 'the away notice');
    bob.send('AWAY');
  });

  it('a long message split over several labeled lines is sent once every line is echoed, in order', async () => {
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    const sent = await h.parley.conversations.sendIm(alice, 'bob', words);
    expect(sent?.delivery).toBe('sent');
    const pieces = await waitFor(() => {
      const got = bob.lines.filter((l) => / PRIVMSG bob :word/.test(l)).map((l) => l.slice(l.indexOf(' :', l.indexOf('PRIVMSG')) + 2));
      return got.join(' ') === words ? got : undefined;
    }, 'every piece');
    expect(pieces.length).toBeGreaterThan(1);
  });

  it('an incoming message carries the server time and msgid, as every recipient sees them', async () => {
    bob.send('PRIVMSG alice :what time is it?');
    const echo = await waitFor(() => bob.lines.find((l) => l.endsWith('PRIVMSG alice :what time is it?')), "bob's echo");
    const got = await waitFor(() => h.messages.find((m) => m.text === 'what time is it?'), 'alice gets it');
    expect(got.direction).toBe('incoming');
    expect(got.protocolId).toBe(tagsOf(echo).msgid);
    expect(got.timestamp).toBe(Date.parse(tagsOf(echo).time!));
  });

  it('what another client of the same account sends shows as our own message, once', async () => {
    await server.registerAccount('carol', 'carol-secret');
    const carol = await h.account('carol', { server: '127.0.0.1', port: server.port, tls: false }, { password: 'carol-secret' });
    await h.parley.accounts.connect(carol);
    // A second session of carol (ergo multiclient), signed in with PASS account:password.
    const phone = await rawClient(server.port, 'carol', [], 'PASS carol:carol-secret');
    phone.send('PRIVMSG bob :sent from my phone');
    await waitFor(() => bob.lines.find((l) => l.endsWith('PRIVMSG bob :sent from my phone')), 'bob gets it');
    const mine = await waitFor(() => h.messages.find((m) => m.accountId === carol && m.text === 'sent from my phone'), 'carol sees it');
    expect(mine.direction).toBe('outgoing');
    expect(mine.sender).toBe('carol');
    const conversation = h.parley.conversations.find(carol, 'im', 'bob')!;
    expect(conversation).toBeDefined();
    expect(h.messages.filter((m) => m.text === 'sent from my phone')).toHaveLength(1);
    phone.close();
  });
});
