/**
 * IRC has no acknowledgements: a message counts as sent once the server has
 * answered a PING written after it (it handles a client's lines in order),
 * and a refusal that comes first (RFC 2812 5.2: 401 ERR_NOSUCHNICK, 404
 * ERR_CANNOTSENDTOCHAN) reports that message failed, never silently gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, ParleyError } from '@parley/core';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { harness, rawClient, waitFor, type Harness } from './helpers.js';

let server: NgircdServer;
let h: Harness;

beforeAll(async () => {
  server = await startNgircd();
  h = await harness();
});

afterAll(async () => {
  await h?.close();
  await server?.close();
});

describe('IRC delivery', () => {
  it('sends once the server has handled the line; a message to a nick that is not there is reported failed with the server text', async () => {
    const bob = await rawClient(server.port, 'bob');
    const alice = await h.account('alice', { server: '127.0.0.1', port: server.port, tls: false });
    await h.parley.accounts.connect(alice);
    const failures: Array<[Message, ParleyError]> = [];
    h.parley.events.on('messageFailed', (message, _conversation, error) => failures.push([message, error]));

    const sent = await h.parley.conversations.sendIm(alice, 'bob', 'are you there?');
    expect(sent?.delivery).toBe('sent');
    // Handled means relayed: bob's copy was written before alice's PONG.
    await waitFor(() => bob.lines.find((l) => l.startsWith(':alice!') && l.endsWith('PRIVMSG bob :are you there?')), 'bob gets it');

    const refused = await h.parley.conversations.sendIm(alice, 'nobody', 'hello?');
    expect(refused?.delivery).toBe('failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]![0].text).toBe('hello?');
    expect(failures[0]![1].code).toBe('no-route');
    expect(failures[0]![1].message).toMatch(/nobody: No such nick/i);

    // A long message split over several lines, to a moderated channel where alice has no voice (+m):
    // one failure, not one per line, and the message after it is not blamed.
    bob.send('JOIN #quiet');
    await waitFor(() => bob.lines.some((l) => / 366 bob #quiet /.test(l)), 'bob joins');
    bob.send('MODE #quiet +m');
    await waitFor(() => bob.lines.some((l) => l.includes('MODE #quiet +m')), 'the mode is set');
    await h.parley.chats.join(alice, '#quiet');
    const conversation = h.parley.conversations.find(alice, 'chat', '#quiet')!;
    const long = await h.parley.conversations.send(conversation.id, 'x'.repeat(400) + ' ' + 'y'.repeat(400));
    expect(long?.delivery).toBe('failed');
    expect(failures).toHaveLength(2);
    expect(failures[1]![1].message).toMatch(/#quiet/);
    const after = await h.parley.conversations.sendIm(alice, 'bob', 'still fine');
    expect(after?.delivery).toBe('sent');
    bob.close();
  });
});
