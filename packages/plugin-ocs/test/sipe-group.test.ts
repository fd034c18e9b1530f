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
import type { IrcControl } from './bitlbee.js';
import type { OcsServer } from './ocs-server/server.js';
import { ALICE, BOB, CAROL, DAVE, bySender, channelMessage, conversationId, escape, joinedRooms, newChannel as channelAfter, nick, exchangeThenCarolLeaves, sipeStartsWithBobAndInvitesCarol, startSipeChat, type Party, type SipeChat } from './sipe-chat.js';

let chat: SipeChat;
let server: OcsServer;
let irc: IrcControl;
let bob: Party;
let carol: Party;
let dave: Party;

beforeAll(async () => {
  chat = await startSipeChat({ ocs2005: true });
  ({ server, irc, bob, carol, dave } = chat);
});
afterAll(() => chat?.close());

const newChannel = (from: number) => channelAfter(irc, from);

describe('pidgin-sipe and two Parley accounts in one group conversation', () => {
  it('SIPE creates the group with bob and invites carol: everyone sees everyone and each message, and a party leaving', async () => {
    const { channel, room } = await sipeStartsWithBobAndInvitesCarol(chat);
    await exchangeThenCarolLeaves(chat, channel, room);
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
    // SIPE writes to the parties it has a dialog with: dave's joining its chat says that dialog is up.
    await irc.waitFor(new RegExp(`^:${nick(DAVE)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
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
