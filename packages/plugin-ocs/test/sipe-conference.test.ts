/**
 * Conferences with the real pidgin-sipe 1.25 (through BitlBee): two Parley
 * accounts (bob, carol) and one SIPE account (alice) in one ad-hoc
 * conference on the test OCS server's focus factory, focus and IM MCU.
 *
 * What SIPE does on a server that answers REGISTER as OCS 2007 and later
 * (`Supported: msrtc-event-categories`), read from its SIP traffic
 * (OCS_DEBUG_SIPE=2) and pidgin-sipe's sources:
 * - "New chat" (BitlBee's `chat with`) sends C3P `addConference` in a
 *   SERVICE to the focus factory the provisioning document names, joins the
 *   focus (INVITE with `addUser`), subscribes to `conference`, INVITEs the
 *   IM MCU the roster names, and invites the contact with an
 *   `application/ms-conf-invite+xml` INVITE.
 * - An invitation without audio is accepted at once (200), and SIPE joins.
 * - It shows a participant only while its `chat` endpoint is connected, and
 *   reads who wrote a message from the MCU's `ms-sender` header.
 * - Leaving the channel (IRC PART) unsubscribes and sends BYE to the MCU and
 *   the focus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatParticipant, ConversationInfo, Message } from '@parley/core';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { IrcControl, startBitlBee, trustForPurple, type BitlBee } from './bitlbee.js';
import { startParley, testCertificates, type TestParley } from './helpers.js';
import { RecordingUi } from '../../../test/helpers/recording-ui.js';
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
  const t = await startParley({}, undefined, { connections, ui: new RecordingUi((r) => (r.kind === 'confirm' ? true : undefined)) });
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

describe('pidgin-sipe and two Parley accounts in one conference', () => {
  it('SIPE creates the conference with bob and invites carol: everyone sees everyone and each message in order, and a party leaving', async () => {
    const seen = irc.lines.length;
    irc.say(`chat with ${nick(BOB)}`);
    const channel = await newChannel(seen);
    await expect.poll(() => joinedRooms(bob).length, { timeout: 20_000 }).toBe(1);
    const room = joinedRooms(bob)[0]!;
    expect(room).toMatch(/^sip:alice@example\.test;gruu;opaque=app:conf:focus:id:/);
    irc.raw(`INVITE ${nick(CAROL)} ${channel}`);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ JOIN :?${escape(channel)}`), 20_000);
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000);
    // Names and roles from the roster: SIPE organized it.
    const inBob = bob.t.parley.conversations.find(bob.id, 'chat', room)!;
    expect(inBob.participants.get(ALICE)).toEqual({ nick: ALICE, realName: 'Alice (SIPE)', role: 'owner', roleLabel: 'organizer' });
    expect(inBob.participants.get(CAROL)).toMatchObject({ realName: 'Carol (Parley)', roleLabel: 'attendee' });

    irc.raw(`PRIVMSG ${channel} :from SIPE 1`);
    irc.raw(`PRIVMSG ${channel} :from SIPE 2`);
    await bob.t.parley.conversations.send(conversationId(bob, room), 'from bob 1');
    await carol.t.parley.conversations.send(conversationId(carol, room), 'from carol 1');
    await bob.t.parley.conversations.send(conversationId(bob, room), 'from bob 2 — ünïcödé');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'from bob 1'), 20_000);
    await irc.waitFor(channelMessage(channel, nick(CAROL), 'from carol 1'), 20_000);
    await irc.waitFor(channelMessage(channel, nick(BOB), 'from bob 2 — ünïcödé'), 20_000);
    // SIPE shows bob's messages in the order he sent them.
    const fromBob = irc.lines.filter((l) => l.startsWith(`:${nick(BOB)}!`) && l.includes(` PRIVMSG ${channel} :from bob`));
    expect(fromBob.map((l) => l.slice(l.indexOf(` PRIVMSG ${channel} :`) + ` PRIVMSG ${channel} :`.length))).toEqual(['from bob 1', 'from bob 2 — ünïcödé']);
    // Each party's messages arrive in the order it sent them (between parties no order is defined).
    await expect.poll(() => bySender(bob, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['from SIPE 1', 'from SIPE 2'], [CAROL]: ['from carol 1'] });
    await expect.poll(() => bySender(carol, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['from SIPE 1', 'from SIPE 2'], [BOB]: ['from bob 1', 'from bob 2 — ünïcödé'] });

    // Carol leaves: SIPE and bob see it.
    await carol.t.parley.chats.leave(conversationId(carol, room));
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ (PART|QUIT) :?${escape(channel)}`), 20_000);
    await expect.poll(() => bob.rosters.get(room), { timeout: 20_000 }).toEqual([ALICE, BOB]);
    // SIPE leaves: bob sees it, and SIPE left the focus.
    irc.raw(`PART ${channel}`);
    await expect.poll(() => bob.rosters.get(room), { timeout: 20_000 }).toEqual([BOB]);
    expect(server.conferences.membersOf(room).map((m) => m.address)).toEqual([BOB]);
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it('bob (Parley) creates the conference and invites SIPE and carol: SIPE joins and everyone reads everyone', async () => {
    const seen = irc.lines.length;
    const room = await bob.connection.createConference('Made by bob', [ALICE, CAROL]);
    const channel = await newChannel(seen);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    irc.raw(`PRIVMSG ${channel} :SIPE in bob's conference`);
    await bob.t.parley.conversations.send(conversationId(bob, room), 'bob to all');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'bob to all'), 20_000, seen);
    await carol.t.parley.conversations.send(conversationId(carol, room), 'carol to all');
    await irc.waitFor(channelMessage(channel, nick(CAROL), 'carol to all'), 20_000, seen);
    await expect.poll(() => bySender(carol, room), { timeout: 20_000 }).toEqual({ [ALICE]: ["SIPE in bob's conference"], [BOB]: ['bob to all'] });
    await expect.poll(() => bySender(bob, room), { timeout: 20_000 }).toEqual({ [ALICE]: ["SIPE in bob's conference"], [CAROL]: ['carol to all'] });
    irc.raw(`PART ${channel}`);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 20_000 }).toEqual([BOB, CAROL]);
  });

  it('a third person added to a running IM between bob (Parley) and SIPE: the conversation continues as a conference with all three', async () => {
    await bob.t.parley.conversations.sendIm(bob.id, ALICE, 'just the two of us');
    await irc.waitFor(new RegExp(`^:${nick(BOB)}![^ ]+ PRIVMSG sipeuser :just the two of us`), 20_000);
    const seen = irc.lines.length;
    const room = await bob.connection.inviteToConversation({ kind: 'im', peer: ALICE }, CAROL);
    const channel = await newChannel(seen);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    await expect.poll(() => bob.connection.features!.im.isOpen(ALICE), { timeout: 20_000 }).toBe(false);
    irc.raw(`PRIVMSG ${channel} :SIPE now in the group`);
    await bob.t.parley.conversations.send(conversationId(bob, room), 'bob in the group');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'bob in the group'), 20_000, seen);
    await expect.poll(() => bySender(carol, room), { timeout: 20_000 }).toEqual({ [ALICE]: ['SIPE now in the group'], [BOB]: ['bob in the group'] });
    irc.raw(`PART ${channel}`);
  });
});
