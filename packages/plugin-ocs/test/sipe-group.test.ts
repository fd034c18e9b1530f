/**
 * Group conversations with the real pidgin-sipe 1.25 (through BitlBee): two
 * Parley accounts (bob, carol) and one SIPE account (alice) in one group.
 *
 * What SIPE sends, read from its SIP traffic (OCS_DEBUG_SIPE=2 prints
 * BitlBee's log, which has it) and from pidgin-sipe's sources:
 * - On a server that answers REGISTER with `Supported: msrtc-event-categories`
 *   (OCS 2007 and later) SIPE's "New chat" creates a conference through the
 *   focus factory; on one that does not (OCS 2005, `ocs2005` here) it holds
 *   a multiparty IM without an MCU. These tests use the latter.
 * - "New chat" with bob: an INVITE to bob with `Roster-Manager: sip:alice@…`,
 *   `EndPoints: <sip:alice@…>, <sip:bob@…>`, `Require: com.microsoft.rtc-multiparty`,
 *   `Supported: ms-sender`, no message, SDP `m=x-ms-message`. Only two
 *   parties: Parley takes the Roster-Manager and the Require as the group.
 * - Inviting carol into it (IRC INVITE in the chat's channel): SIPE, the
 *   roster manager, INVITEs carol with the same Call-ID and `EndPoints`
 *   naming alice, bob and carol; carol sends a triggered INVITE
 *   (`TriggeredInvite: TRUE`) to bob.
 * - Invited by bob with carol named too, SIPE sends carol a triggered INVITE
 *   (`TriggeredInvite: TRUE`, `Require: com.microsoft.rtc-multiparty`, no
 *   EndPoints) while carol sends it hers: SIPE then BYEs its own pending
 *   dialog (a BYE without a To tag, answered 481) and keeps one dialog.
 * - Leaving the chat (IRC PART): a BYE in each dialog.
 * - Messages: a MESSAGE to each party in its dialog (`text/plain;
 *   charset=UTF-8;msgr=…`). Leaving: a BYE in each dialog.
 * - Being invited (three parties in EndPoints, or a triggered INVITE with the
 *   Call-ID of its running IM): SIPE opens a chat (a BitlBee channel), sends
 *   triggered INVITEs to the parties it has no dialog with, and converts a
 *   running IM with that Call-ID into the chat.
 *
 * BitlBee shows a chat as an IRC channel: our user joins it, parties join
 * and part, messages are PRIVMSGs to the channel. BitlBee's `chat with`
 * runs SIPE's "New chat" through test/sipe-menu-shim.c (see there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatParticipant, ConversationInfo, Message } from '@parley/core';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { IrcControl, startBitlBee, trustForPurple, type BitlBee } from './bitlbee.js';
import { startParley, testCertificates, type TestParley } from './helpers.js';
import type { OcsConnection } from '../src/connection.js';

const OC_2007_R2 = 'UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)';
const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';
const CAROL = 'carol@example.test';
const DAVE = 'dave@example.test';
/** BitlBee names a contact after its handle, `sip:bob@example.test`. */
const nick = (address: string) => `sip${address.split('@')[0]}`;

let server: OcsServer;
let bee: BitlBee;
let irc: IrcControl;

interface Party {
  t: TestParley;
  id: string;
  connection: OcsConnection;
  messages: Array<{ room: string; sender: string; text: string }>;
  rosters: Map<string, string[]>;
}
const parties: Party[] = [];

async function signIn(name: string): Promise<Party> {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { connections });
  const account = await t.parley.accounts.add({
    protocol: 'ocs',
    username: `${name}@example.test`,
    settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'ntlm', login: name },
    secrets: { password: `${name}-pw` },
  });
  const party: Party = { t, id: account.id, connection: undefined as unknown as OcsConnection, messages: [], rosters: new Map() };
  t.parley.events.on('messageReceived', (m: Message, c: ConversationInfo) => {
    if (c.kind === 'chat') party.messages.push({ room: c.name, sender: m.sender, text: m.text });
  });
  t.parley.events.on('conversationParticipantsChanged', (c: ConversationInfo, list: readonly ChatParticipant[]) => party.rosters.set(c.name, list.map((p) => p.nick).sort()));
  await t.parley.accounts.connect(account.id);
  party.connection = connections[connections.length - 1]!;
  parties.push(party);
  return party;
}

let bob: Party;
let carol: Party;
let dave: Party;

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({
    users: [
      { address: ALICE, login: 'EXAMPLE\\alice', password: 'Passw0rd', displayName: 'Alice (SIPE)' },
      { address: BOB, login: 'bob', password: 'bob-pw', displayName: 'Bob (Parley)' },
      { address: CAROL, login: 'carol', password: 'carol-pw', displayName: 'Carol (Parley)' },
      { address: DAVE, login: 'dave', password: 'dave-pw', displayName: 'Dave (Parley)' },
    ],
    tls: { key, cert },
    ocs2005: true,
    services: {
      contactLists: {
        [ALICE]: { groups: [{ id: 1, name: '~' }], contacts: [{ uri: BOB, name: 'Bob', groups: [1] }, { uri: CAROL, name: 'Carol', groups: [1] }, { uri: DAVE, name: 'Dave', groups: [1] }] },
        [BOB]: { groups: [{ id: 1, name: '~' }], contacts: [{ uri: ALICE, name: 'Alice', groups: [1] }] },
      },
    },
  });
  bee = await startBitlBee();
  bob = await signIn('bob');
  carol = await signIn('carol');
  dave = await signIn('dave');
  trustForPurple(bee, 'sipeuser', '127.0.0.1', cert);
  irc = await IrcControl.connect(bee.port, 'sipeuser');
  irc.say('account add sipe alice@example.test,EXAMPLE\\\\alice Passw0rd');
  await irc.waitFor(/Account successfully added/i, 10_000);
  irc.say(`account sipe set server 127.0.0.1:${server.port}`);
  irc.say('account sipe set transport tls');
  irc.say('account sipe set authentication ntlm');
  irc.say(`account sipe set useragent "${OC_2007_R2}"`);
  irc.say('account sipe on');
  const line = await irc.waitFor(/sipe - (Logging in: Logged in|Login error|Couldn't log in)/i, 30_000);
  expect(line, bee.log().slice(-3000)).toMatch(/Logged in/);
  // SIPE knows bob and carol from its contact list (BitlBee only starts chats with contacts). On an
  // OCS 2005 server SIPE does not read this server's presence, so they show offline: ask BitlBee's list.
  for (let tries = 0; ; tries++) {
    const from = irc.lines.length;
    irc.say('blist all');
    await irc.waitFor(/buddies \(/, 10_000, from);
    const lines = irc.lines.slice(from);
    if ([BOB, CAROL, DAVE].every((a) => lines.some((l) => l.includes(nick(a))))) break;
    if (tries > 60) throw new Error(`SIPE never listed bob and carol:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
});
afterAll(async () => {
  if (process.env.OCS_DEBUG_SIPE) console.log(JSON.stringify(server.events.filter((e) => !['register'].includes(e.kind)), null, 0), irc?.lines.join('\n'), process.env.OCS_DEBUG_SIPE === '2' ? bee.log() : '');
  irc?.close();
  await bee?.stop();
  for (const p of parties) await p.t.cleanup();
  await server?.close();
});

const conversationId = (p: Party, room: string) => p.t.parley.conversations.find(p.id, 'chat', room)!.id;
const joinedRooms = (p: Party) =>
  p.t.parley.conversations
    .list()
    .filter((c) => c.accountId === p.id && c.kind === 'chat' && c.joined)
    .map((c) => c.name);
function bySender(p: Party, room: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of p.messages) if (m.room === room) (out[m.sender] ??= []).push(m.text);
  return out;
}
/** The channel BitlBee opens for a new SIPE chat: our user's JOIN after line `from`. */
async function newChannel(from: number): Promise<string> {
  const joined = await irc.waitFor(/^:sipeuser![^ ]+ JOIN :?#\S+/, 30_000, from);
  return /JOIN :?(#\S+)/.exec(joined)![1]!;
}
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const channelMessage = (channel: string, from: string, text: string) => new RegExp(`^:${from}![^ ]+ PRIVMSG ${escape(channel)} :${escape(text)}$`);

describe('pidgin-sipe and two Parley accounts in one group conversation', () => {
  it('SIPE creates the group with bob and invites carol: everyone sees everyone and each message, and a party leaving', async () => {
    const seen = irc.lines.length;
    irc.say(`chat with ${nick(BOB)}`);
    const channel = await newChannel(seen);
    await expect.poll(() => joinedRooms(bob).length, { timeout: 20_000 }).toBe(1);
    const room = joinedRooms(bob)[0]!;
    irc.raw(`INVITE ${nick(CAROL)} ${channel}`);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ JOIN :?${escape(channel)}`), 20_000);
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000);

    irc.raw(`PRIVMSG ${channel} :from SIPE 1`);
    irc.raw(`PRIVMSG ${channel} :from SIPE 2`);
    await bob.t.parley.conversations.send(conversationId(bob, room), 'from bob 1');
    await carol.t.parley.conversations.send(conversationId(carol, room), 'from carol 1');
    await bob.t.parley.conversations.send(conversationId(bob, room), 'from bob 2 — ünïcödé');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'from bob 1'), 20_000);
    await irc.waitFor(channelMessage(channel, nick(CAROL), 'from carol 1'), 20_000);
    await irc.waitFor(channelMessage(channel, nick(BOB), 'from bob 2 — ünïcödé'), 20_000);
    // Each party's messages arrive in the order it sent them (between parties no order is defined).
    await expect.poll(() => bySender(bob, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['from SIPE 1', 'from SIPE 2'], [CAROL]: ['from carol 1'] });
    await expect.poll(() => bySender(carol, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['from SIPE 1', 'from SIPE 2'], [BOB]: ['from bob 1', 'from bob 2 — ünïcödé'] });

    await carol.t.parley.chats.leave(conversationId(carol, room));
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ (PART|QUIT) :?${escape(channel)}`), 20_000);
    await expect.poll(() => bob.rosters.get(room), { timeout: 20_000 }).toEqual([ALICE, BOB]);
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it('bob (Parley) creates the group and invites SIPE and carol: the same, with SIPE connecting to carol itself', async () => {
    const seen = irc.lines.length;
    const room = await bob.connection.features!.multiparty!.start([ALICE, CAROL]);
    const channel = await newChannel(seen);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);

    irc.raw(`PRIVMSG ${channel} :SIPE in bob's group`);
    await bob.t.parley.conversations.send(conversationId(bob, room), 'bob to all');
    await carol.t.parley.conversations.send(conversationId(carol, room), 'carol to all');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'bob to all'), 20_000, seen);
    await irc.waitFor(channelMessage(channel, nick(CAROL), 'carol to all'), 20_000, seen);
    await expect.poll(() => bySender(bob, room), { timeout: 20_000 }).toEqual({ [ALICE]: ["SIPE in bob's group"], [CAROL]: ['carol to all'] });
    await expect.poll(() => bySender(carol, room), { timeout: 20_000 }).toEqual({ [ALICE]: ["SIPE in bob's group"], [BOB]: ['bob to all'] });

    // SIPE leaves (BitlBee parts the channel): Parley sees alice go.
    irc.raw(`PART ${channel}`);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 20_000 }).toEqual([BOB, CAROL]);
  });

  it('a third person added to a running Parley↔SIPE IM: SIPE turns the IM into the group and all three talk', async () => {
    await bob.t.parley.conversations.sendIm(bob.id, ALICE, 'just the two of us');
    await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ PRIVMSG sipeuser :just the two of us`), 20_000);
    const seen = irc.lines.length;
    // Bob types /invite in the IM: on an OCS 2005 server the IM becomes a group without an MCU.
    const answer = await bob.t.parley.runCommand(`/invite ${CAROL}`, { conversationId: bob.t.parley.conversations.find(bob.id, 'im', ALICE)!.id });
    const room = /: (multiparty:\S+)$/.exec(String(answer))?.[1] ?? '';
    expect(room).toMatch(/^multiparty:/);
    const channel = await newChannel(seen);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    // Bob's IM became the group (its Call-ID kept): SIPE's chat shows bob, its IM peer, and carol.
    await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    expect(bob.connection.features?.im.isOpen(ALICE)).toBe(false);
    irc.raw(`PRIVMSG ${channel} :SIPE now in the group`);
    await bob.t.parley.conversations.send(conversationId(bob, room), 'bob in the group');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'bob in the group'), 20_000, seen);
    await expect.poll(() => bySender(carol, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['SIPE now in the group'], [BOB]: ['bob in the group'] });
    await expect.poll(() => bySender(bob, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['SIPE now in the group'] });
  });

  it('SIPE invites a fourth person into a group bob leads: it asks bob, the roster manager, with a REFER', async () => {
    const seen = irc.lines.length;
    const room = await bob.connection.features!.multiparty!.start([ALICE, CAROL]);
    const channel = await newChannel(seen);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    const before = server.events.length;
    irc.raw(`INVITE ${nick(DAVE)} ${channel}`);
    for (const p of [bob, carol, dave]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL, DAVE]);
    await irc.waitFor(new RegExp(`^:${nick(DAVE)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    const routed = server.events.slice(before).filter((e) => e.kind === 'routed').map((e) => e.detail);
    expect(routed).toContain('REFER alice@example.test -> bob@example.test');
    expect(routed).toContain('INVITE bob@example.test -> dave@example.test');
    await dave.t.parley.conversations.send(conversationId(dave, room), 'dave says hello');
    await irc.waitFor(channelMessage(channel, nick(DAVE), 'dave says hello'), 20_000, seen);
    await expect.poll(() => bySender(bob, room)[DAVE], { timeout: 20_000 }).toEqual(['dave says hello']);
    for (const p of [bob, carol, dave]) await p.t.parley.chats.leave(conversationId(p, room));
  });

  it('in a group without a known roster manager SIPE wins the election (RequestRM, SetRM) and invites itself', async () => {
    await bob.t.parley.conversations.sendIm(bob.id, ALICE, 'another IM');
    await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ PRIVMSG sipeuser :another IM`), 20_000);
    const seen = irc.lines.length;
    // Carol's triggered INVITE turns SIPE's IM into the chat; it names no roster manager.
    const room = await bob.connection.features!.multiparty!.start([ALICE, CAROL]);
    const channel = await newChannel(seen);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    const before = server.events.length;
    irc.raw(`INVITE ${nick(DAVE)} ${channel}`);
    for (const p of [bob, carol, dave]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL, DAVE]);
    const routed = server.events.slice(before).filter((e) => e.kind === 'routed').map((e) => e.detail);
    expect(routed).toEqual(expect.arrayContaining(['INFO alice@example.test -> bob@example.test', 'INFO alice@example.test -> carol@example.test', 'INVITE alice@example.test -> dave@example.test']));
    expect(routed).not.toContain('REFER alice@example.test -> bob@example.test');
    irc.raw(`PRIVMSG ${channel} :SIPE leads now`);
    for (const p of [bob, carol, dave]) await expect.poll(() => bySender(p, room)[ALICE], { timeout: 20_000 }).toEqual(['SIPE leads now']);
  });

  it('bob invites dave into a group SIPE leads: /invite asks SIPE, the roster manager, with a REFER, and SIPE invites him', async () => {
    const before = new Set(joinedRooms(bob));
    const seen = irc.lines.length;
    irc.say(`chat with ${nick(BOB)}`);
    const channel = await newChannel(seen);
    await expect.poll(() => joinedRooms(bob).filter((r) => !before.has(r)).length, { timeout: 20_000 }).toBe(1);
    const room = joinedRooms(bob).find((r) => !before.has(r))!;
    await expect.poll(() => bob.rosters.get(room), { timeout: 20_000 }).toEqual([ALICE, BOB]);
    const from = server.events.length;
    const answer = await bob.t.parley.runCommand(`/invite ${DAVE}`, { conversationId: conversationId(bob, room) });
    expect(answer).toBe(`Invited ${DAVE}`);
    for (const p of [bob, dave]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, DAVE]);
    await irc.waitFor(new RegExp(`^:${nick(DAVE)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    const routed = server.events.slice(from).filter((e) => e.kind === 'routed').map((e) => e.detail);
    expect(routed).toEqual(expect.arrayContaining(['REFER bob@example.test -> alice@example.test', 'INVITE alice@example.test -> dave@example.test', 'INVITE dave@example.test -> bob@example.test']));
    irc.raw(`PRIVMSG ${channel} :welcome dave`);
    await expect.poll(() => bySender(dave, room)[ALICE], { timeout: 20_000 }).toEqual(['welcome dave']);
  });
});
