/**
 * Who is behind a nick, live, on ergo: extended-join and WHOX give the
 * accounts of those in a channel, account-notify a login or logout,
 * account-tag the sender's account, setname a new real name, chghost a new
 * host (here a vhost an operator sets), each applied quietly to the
 * participant list and to a buddy's details; invite-notify shows an
 * invitation to the channel's operators, and an invitation to us says where
 * to join. The wire is recorded to check the capabilities were negotiated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessUi, type ChatParticipant } from '@parley/core';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, rawClient, waitFor, wireTap, type Harness, type RawClient, type WireTap } from './helpers.js';

/** bcrypt of "operpass", from `ergo genpasswd`. */
const OPER_HASH = '$2a$04$JuU6M6m0zfrtnOONOppk8utx/v0DowNWzIEzleaBFaBPvTev5LLKq';

let server: ErgoServer;
let h: Harness;
let tap: WireTap;
let alice: string;
let bob: RawClient;
/** What the core told the user outside any conversation. */
const notified: string[] = [];

class RecordingUi extends HeadlessUi {
  override notify(_level: unknown, text: string): void {
    notified.push(text);
  }
}

function participant(room: string, nick: string): ChatParticipant | undefined {
  const conversation = h.parley.conversations.find(alice, 'chat', room);
  if (conversation === undefined) return undefined;
  return h.parley.conversations.get(conversation.id)?.participants.get(nick);
}

function buddyInfo(nick: string): Record<string, string> {
  return h.parley.buddies.find(alice, nick)?.buddy.info ?? {};
}

beforeAll(async () => {
  server = await startErgo({
    config: {
      opers: { admin: { class: 'server-admin', password: OPER_HASH } },
      // As on Libera.Chat: signing in to an account keeps the nick, so nick and account differ.
      accounts: { 'nick-reservation': { 'force-nick-equals-account': false } },
    },
  });
  await server.registerAccount('bob', 'bob-secret');
  await server.registerAccount('carol', 'carol-secret');
  tap = await wireTap(server.port);
  h = await harness({ ui: new RecordingUi() });
  alice = await h.account('alice', { server: '127.0.0.1', port: tap.port, tls: false, autoJoin: ['#ident'] });
  await h.parley.buddies.add(alice, 'bobby');
  await h.parley.accounts.connect(alice);
  await waitFor(() => h.parley.conversations.find(alice, 'chat', '#ident'), 'alice in #ident');
  bob = await rawClient(server.port, 'bobby');
  bob.send('CAP REQ :setname');
  await waitFor(() => bob.lines.some((l) => / CAP \S+ ACK :?setname/.test(l)), 'bobby has setname');
});

afterAll(async () => {
  bob?.close();
  await h?.close();
  await tap?.close();
  await server?.close();
});

describe('IRCv3 identities on ergo', () => {
  it('negotiates account-notify, account-tag, extended-join, chghost, setname, invite-notify and cap-notify', () => {
    const ack = tap.toClient.filter((l) => / CAP \S+ ACK :/.test(l)).join(' ');
    for (const cap of ['account-notify', 'account-tag', 'extended-join', 'chghost', 'setname', 'invite-notify', 'cap-notify']) expect(ack.split(/[ :]/)).toContain(cap);
  });

  it('extended-join: a joiner not logged in has no account; account-notify then gives it', async () => {
    bob.send('JOIN #ident');
    await waitFor(() => tap.toClient.find((l) => /:bobby!\S+ JOIN #ident \* :?bobby$/.test(l)), 'the extended JOIN on the wire');
    const joined = await waitFor(() => participant('#ident', 'bobby'), 'bob listed');
    expect(joined.account).toBeUndefined();
    expect(joined.realName).toBe('bobby');

    bob.send('PRIVMSG NickServ :IDENTIFY bob bob-secret');
    await waitFor(() => tap.toClient.find((l) => /:bobby!\S+ ACCOUNT bob$/.test(l)), 'ACCOUNT on the wire');
    await waitFor(() => participant('#ident', 'bobby')?.account === 'bob', 'bob has his account in the list');
    await waitFor(() => buddyInfo('bobby').Account === 'bob', "the buddy's details say so");
    // Quietly: no "joined" line for bob a second time.
    const chat = h.parley.conversations.find(alice, 'chat', '#ident')!;
    expect(h.parley.conversations.get(chat.id)!.messages.filter((m) => /bobby joined/.test(m.text))).toHaveLength(1);

    // ergo has no logout (ACCOUNT * is read by identity.test.ts).
  });

  it('account-tag: a message says which account sent it', async () => {
    bob.send('PRIVMSG #ident :tagged');
    const line = await waitFor(() => tap.toClient.find((l) => l.endsWith('PRIVMSG #ident :tagged')), 'the message on the wire');
    expect(line).toMatch(/^@(\S*;)?account=bob[; ]/);
    await waitFor(() => h.messages.find((m) => m.text === 'tagged'), 'alice gets it');
  });

  it('setname: a new real name reaches the participant list and the buddy details at once', async () => {
    bob.send('SETNAME :Robert Tables');
    await waitFor(() => tap.toClient.find((l) => /:bobby!\S+ SETNAME :Robert Tables$/.test(l)), 'SETNAME on the wire');
    await waitFor(() => participant('#ident', 'bobby')?.realName === 'Robert Tables', 'the list shows it');
    await waitFor(() => buddyInfo('bobby')['Real name'] === 'Robert Tables', 'the buddy details show it');
  });

  it('chghost: a vhost set by an operator changes the buddy host, without a quit and join', async () => {
    const oper = await rawClient(server.port, 'opr');
    oper.send('OPER admin operpass');
    await waitFor(() => oper.lines.some((l) => / 381 opr /.test(l)), 'opr is an operator');
    const chat = h.parley.conversations.find(alice, 'chat', '#ident')!;
    const linesBefore = h.parley.conversations.get(chat.id)!.messages.length;
    oper.send('PRIVMSG HostServ :SET bob bob.vhost.test');
    await waitFor(() => tap.toClient.find((l) => /:bobby!\S+ CHGHOST \S+ bob\.vhost\.test$/.test(l)), 'CHGHOST on the wire');
    await waitFor(() => buddyInfo('bobby').Host === 'bob.vhost.test', 'the buddy details show the new host');
    // bob is still listed, with his account; nothing was said in the channel.
    bob.send('PRIVMSG #ident :after the vhost');
    await waitFor(() => h.messages.find((m) => m.text === 'after the vhost'), 'a later message');
    expect(participant('#ident', 'bobby')?.account).toBe('bob');
    expect(h.parley.conversations.get(chat.id)!.messages.slice(linesBefore).map((m) => m.text)).toEqual(['after the vhost']);
    oper.close();
  });

  it('WHOX at join gives the accounts of those already in the channel', async () => {
    const carol = await rawClient(server.port, 'carol', ['#whox'], 'PASS carol:carol-secret');
    await h.parley.chats.join(alice, '#whox');
    await waitFor(() => tap.toServer.find((l) => /^WHO #whox %tcnfar,\d+$/.test(l)), 'the WHOX query on the wire');
    await waitFor(() => participant('#whox', 'carol')?.account === 'carol', 'carol listed with her account');
    expect(participant('#whox', 'carol')?.role).toBe('admin');
    carol.close();
  });

  it('invite-notify: an invitation by someone else is shown to the channel operator; one to us says where to join', async () => {
    const dave = await rawClient(server.port, 'dave');
    const chat = h.parley.conversations.find(alice, 'chat', '#ident')!;
    bob.send('INVITE dave #ident');
    await waitFor(() => tap.toClient.find((l) => /:bobby!\S+ INVITE dave #ident$/.test(l)), 'INVITE on the wire');
    await waitFor(() => h.parley.conversations.get(chat.id)!.messages.find((m) => m.flags.system === true && m.text === 'bobby invited dave to join'), 'the line in #ident');

    dave.send('JOIN #dave');
    await waitFor(() => dave.lines.some((l) => / 366 dave #dave /.test(l)), 'dave in #dave');
    dave.send('INVITE alice #dave');
    await waitFor(() => tap.toClient.find((l) => /:dave!\S+ INVITE alice #dave$/.test(l)), 'the invitation on the wire');
    await waitFor(() => notified.find((t) => t === 'dave invites you to join #dave (/join #dave)'), 'alice is told');
    dave.close();
  });
});
