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
import { RecordingUi } from '../../../test/helpers/recording-ui.js';
import type { IrcControl } from './bitlbee.js';
import type { OcsServer } from './ocs-server/server.js';
import { ALICE, BOB, CAROL, bySender, channelMessage, conversationId, escape, newChannel as channelAfter, nick, exchangeThenCarolLeaves, sipeStartsWithBobAndInvitesCarol, startSipeChat, type Party, type SipeChat } from './sipe-chat.js';

let chat: SipeChat;
let server: OcsServer;
let irc: IrcControl;
let bob: Party;
let carol: Party;

beforeAll(async () => {
  chat = await startSipeChat({ ui: () => new RecordingUi((r) => (r.kind === 'confirm' ? true : undefined)) });
  ({ server, irc, bob, carol } = chat);
});
afterAll(() => chat?.close());

const newChannel = (from: number) => channelAfter(irc, from);

describe('pidgin-sipe and two Parley accounts in one conference', () => {
  it('SIPE creates the conference with bob and invites carol: everyone sees everyone and each message in order, and a party leaving', async () => {
    const { channel, room } = await sipeStartsWithBobAndInvitesCarol(chat);
    expect(room).toMatch(/^sip:alice@example\.test;gruu;opaque=app:conf:focus:id:/);
    // Names and roles from the roster: SIPE organized it.
    const inBob = bob.t.parley.conversations.find(bob.id, 'chat', room)!;
    expect(inBob.participants.get(ALICE)).toEqual({ nick: ALICE, realName: 'Alice (SIPE)', role: 'owner', roleLabel: 'organizer' });
    expect(inBob.participants.get(CAROL)).toMatchObject({ realName: 'Carol (Parley)', roleLabel: 'attendee' });

    await exchangeThenCarolLeaves(chat, channel, room);
    // SIPE shows bob's messages in the order he sent them.
    const fromBob = irc.lines.filter((l) => l.startsWith(`:${nick(BOB)}!`) && l.includes(` PRIVMSG ${channel} :from bob`));
    expect(fromBob.map((l) => l.slice(l.indexOf(` PRIVMSG ${channel} :`) + ` PRIVMSG ${channel} :`.length))).toEqual(['from bob 1', 'from bob 2 — ünïcödé']);
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
