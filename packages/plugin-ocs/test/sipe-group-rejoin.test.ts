/**
 * A group conversation without an MCU with the real pidgin-sipe 1.25
 * (through BitlBee) across a reconnect of a Parley account: bob (Parley)
 * leads a group with alice (SIPE) and carol (Parley); bob's connection
 * drops, and back online he makes the group again under its Call-ID (an
 * INVITE to each party as roster manager). SIPE takes the INVITE into the
 * chat it holds for that Call-ID: the same BitlBee channel, and messages go
 * on both ways. The same when SIPE made the group and led it (bob, back,
 * invites as roster manager all the same).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordStates } from '../../../test/helpers/wait.js';
import type { IrcControl } from './bitlbee.js';
import type { OcsServer } from './ocs-server/server.js';
import { ALICE, BOB, CAROL, bySender, channelMessage, conversationId, escape, joinedRooms, newChannel as channelAfter, nick, startSipeChat, type Party, type SipeChat } from './sipe-chat.js';

let chat: SipeChat;
let server: OcsServer;
let irc: IrcControl;
let bob: Party;
let carol: Party;

beforeAll(async () => {
  chat = await startSipeChat({ ocs2005: true });
  ({ server, irc, bob, carol } = chat);
});
afterAll(() => chat?.close());

describe('pidgin-sipe in a group conversation a Parley account makes again after a reconnect', () => {
  it('bob drops and comes back: SIPE takes his INVITE into the same chat, and everyone talks again', async () => {
    const seen = irc.lines.length;
    const room = await bob.connection.features!.multiparty!.start([ALICE, CAROL]);
    const channel = await channelAfter(irc, seen);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    const sentAt = server.events.length;
    irc.raw(`PRIVMSG ${channel} :before the drop`);
    await expect.poll(() => bySender(bob, room)[ALICE], { timeout: 20_000 }).toEqual(['before the drop']);
    await expect.poll(() => bySender(carol, room)[ALICE], { timeout: 20_000 }).toEqual(['before the drop']);
    // Both answers reached SIPE: a message it still waits on an answer for, it sends again when the dialogs change.
    const callId = room.slice('multiparty:'.length);
    await expect.poll(() => server.events.slice(sentAt).filter((e) => e.kind === 'response' && e.detail === `200 MESSAGE ${callId}`).length, { timeout: 20_000 }).toBe(2);

    const states = recordStates(bob.t.parley.events, bob.id);
    bob.rosters.clear();
    const before = server.events.length;
    const ircBefore = irc.lines.length;
    const carolBefore = carol.messages.length;
    expect(server.dropConnectionsOf(BOB)).toBe(1);
    // Back online, bob invites alice and carol again under the group's Call-ID; both take him back.
    await expect.poll(() => bob.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    expect(states).toEqual(expect.arrayContaining(['reconnecting', 'online']));
    expect(server.events.slice(before).filter((e) => e.kind === 'routed' && e.detail === `INVITE ${BOB} -> ${ALICE}`)).toHaveLength(1);
    expect(server.events.slice(before).some((e) => e.kind === 'response' && e.detail === `200 INVITE ${callId}`)).toBe(true);

    // SIPE keeps the chat: no new channel, and messages go on both ways in the same one.
    await bob.t.parley.conversations.send(conversationId(bob, room), 'bob is back');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'bob is back'), 20_000, ircBefore);
    irc.raw(`PRIVMSG ${channel} :welcome back`);
    await expect.poll(() => bySender(bob, room)[ALICE], { timeout: 20_000 }).toEqual(['before the drop', 'welcome back']);
    const carolSince = () => carol.messages.slice(carolBefore).filter((m) => m.room === room).map((m) => `${m.sender}: ${m.text}`);
    await expect.poll(carolSince, { timeout: 20_000 }).toEqual([`${BOB}: bob is back`, `${ALICE}: welcome back`]);
    expect(bySender(bob, room)[ALICE]).toEqual(['before the drop', 'welcome back']);
    expect(irc.lines.slice(ircBefore).filter((l) => /^:sipeuser![^ ]+ JOIN /.test(l))).toEqual([]);
  });

  it('in a group SIPE made and leads, bob drops and comes back: SIPE takes him back into the same chat', async () => {
    const seen = irc.lines.length;
    const roomsBefore = joinedRooms(bob);
    irc.say(`chat with ${nick(BOB)}`);
    const channel = await channelAfter(irc, seen);
    await expect.poll(() => joinedRooms(bob).filter((r) => !roomsBefore.includes(r)).length, { timeout: 20_000 }).toBe(1);
    const room = joinedRooms(bob).find((r) => !roomsBefore.includes(r))!;
    irc.raw(`INVITE ${nick(CAROL)} ${channel}`);
    for (const p of [bob, carol]) await expect.poll(() => p.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await irc.waitFor(new RegExp(`^:${nick(CAROL)}![^ ]+ JOIN :?${escape(channel)}`), 20_000, seen);
    const sentAt = server.events.length;
    await bob.t.parley.conversations.send(conversationId(bob, room), 'bob before the drop');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'bob before the drop'), 20_000, seen);
    const callId = room.slice('multiparty:'.length);
    await expect.poll(() => server.events.slice(sentAt).filter((e) => e.kind === 'response' && e.detail === `200 MESSAGE ${callId}`).length, { timeout: 20_000 }).toBe(2);

    bob.rosters.clear();
    const ircBefore = irc.lines.length;
    const carolBefore = carol.messages.length;
    expect(server.dropConnectionsOf(BOB)).toBe(1);
    await expect.poll(() => bob.rosters.get(room), { timeout: 30_000 }).toEqual([ALICE, BOB, CAROL]);
    await bob.t.parley.conversations.send(conversationId(bob, room), 'bob back in');
    await irc.waitFor(channelMessage(channel, nick(BOB), 'bob back in'), 20_000, ircBefore);
    irc.raw(`PRIVMSG ${channel} :SIPE here too`);
    await expect.poll(() => bySender(bob, room)[ALICE], { timeout: 20_000 }).toEqual(['SIPE here too']);
    await expect.poll(() => carol.messages.slice(carolBefore).filter((m) => m.room === room).map((m) => `${m.sender}: ${m.text}`), { timeout: 20_000 }).toEqual([`${BOB}: bob back in`, `${ALICE}: SIPE here too`]);
    expect(irc.lines.slice(ircBefore).filter((l) => /^:sipeuser![^ ]+ JOIN /.test(l))).toEqual([]);
  });
});
