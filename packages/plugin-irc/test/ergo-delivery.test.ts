/**
 * Delivery errors on ergo, the IRCv3 reference server: a message to a nick
 * that is not online is answered 401 ERR_NOSUCHNICK (RFC 2812 section 5.2)
 * and must be reported failed with the server's words, never shown as sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, ParleyError } from '@parley/core';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, rawClient, waitFor, type Harness } from './helpers.js';

let server: ErgoServer;
let h: Harness;

beforeAll(async () => {
  server = await startErgo();
  h = await harness();
});

afterAll(async () => {
  await h?.close();
  await server?.close();
});

describe('IRC delivery on ergo', () => {
  it('reports a message to a nick that is not online as failed with the server text, and one to a present nick as sent', async () => {
    const bob = await rawClient(server.port, 'bob');
    const alice = await h.account('alice', { server: '127.0.0.1', port: server.port, tls: false });
    await h.parley.accounts.connect(alice);
    const failures: Array<[Message, ParleyError]> = [];
    h.parley.events.on('messageFailed', (message, _conversation, error) => failures.push([message, error]));

    const refused = await h.parley.conversations.sendIm(alice, 'nobody', 'hello?');
    expect(refused?.delivery).toBe('failed');
    expect(failures.map(([m, e]) => [m.text, e.code])).toEqual([['hello?', 'no-route']]);
    expect(failures[0]![1].message).toMatch(/nobody: No such nick/i);
    // The conversation (and so the history) says why.
    const conversation = h.parley.conversations.find(alice, 'im', 'nobody')!;
    expect(h.parley.conversations.get(conversation.id)?.messages.some((m) => m.flags.error === true && /No such nick/i.test(m.text))).toBe(true);

    const sent = await h.parley.conversations.sendIm(alice, 'bob', 'are you there?');
    expect(sent?.delivery).toBe('sent');
    await waitFor(() => bob.lines.find((l) => / PRIVMSG bob :are you there\?$/.test(l) && l.includes(':alice!')), 'bob gets it');
    expect(failures).toHaveLength(1);
    bob.close();
  });
});
