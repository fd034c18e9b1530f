/**
 * echo-message without labeled-response (InspIRCd 3 with ircv3_echomessage
 * loaded, ircv3_labeledresponse not): our messages come back from the server
 * unlabeled; each echo is matched to the message it repeats by target and
 * text, gives it the server's msgid, and is never shown as a second message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInspircd, type InspircdServer } from '../../../test/servers/inspircd.js';
import { harness, rawClient, waitFor, wireTap, type Harness, type WireTap } from './helpers.js';

let server: InspircdServer;
let h: Harness;
let tap: WireTap;

beforeAll(async () => {
  server = await startInspircd({
    sasl: false,
    extraConfig: ['<module name="ircv3">', '<module name="ircv3_echomessage">', '<module name="ircv3_servertime">', '<module name="ircv3_ctctags">', '<module name="ircv3_msgid">'],
  });
  tap = await wireTap(server.port);
  h = await harness();
});

afterAll(async () => {
  await h?.close();
  await tap?.close();
  await server?.close();
});

describe('echo-message without labels (InspIRCd)', () => {
  it('confirms by PING, takes the echo msgid, shows each message once, and still reports a refusal', async () => {
    const bob = await rawClient(server.port, 'bob', ['#room']);
    const alice = await h.account('alice', { server: '127.0.0.1', port: tap.port, tls: false, autoJoin: ['#room'] });
    await h.parley.accounts.connect(alice);
    const ack = tap.toClient.find((l) => / CAP \S+ ACK :/.test(l))!;
    expect(ack).toContain('echo-message');
    expect(ack).not.toContain('labeled-response');

    const conversation = h.parley.conversations.find(alice, 'chat', '#room')!;
    const sent = await h.parley.conversations.send(conversation.id, 'twice the same');
    const again = await h.parley.conversations.send(conversation.id, 'twice the same');
    expect([sent?.delivery, again?.delivery]).toEqual(['sent', 'sent']);
    const echoes = tap.toClient.filter((l) => / PRIVMSG #room :twice the same$/.test(l));
    expect(echoes).toHaveLength(2);
    const ids = echoes.map((l) => /(?:^@|;)msgid=([^; ]+)/.exec(l)?.[1]);
    expect(ids[0]).toBeDefined();
    expect([sent?.protocolId, again?.protocolId]).toEqual(ids);
    await waitFor(() => bob.lines.filter((l) => l.endsWith('PRIVMSG #room :twice the same')).length === 2, 'bob gets both');
    expect(h.parley.conversations.get(conversation.id)!.messages.filter((m) => m.text === 'twice the same')).toHaveLength(2);

    const refused = await h.parley.conversations.sendIm(alice, 'nobody', 'hello?');
    expect(refused?.delivery).toBe('failed');
    bob.close();
  });
});
