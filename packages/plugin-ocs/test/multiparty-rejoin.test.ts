/**
 * A group conversation without an MCU after a reconnect, between Parley
 * accounts on the test OCS server. Its dialogs end with the connection;
 * when the core rejoins the chat, the plugin makes the group again under
 * the same Call-ID with the parties it had (INVITEs as roster manager), the
 * others take the party back into their group, and the conversation goes
 * on in the same chat with its history. Once with one account dropped
 * (its retries held back so the test decides when it comes back), once
 * with the server dropping everyone.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '@parley/core';
import { recordStates, waitFor } from '../../../test/helpers/wait.js';
import type { OcsConnection } from '../src/connection.js';
import { addTestAccount, recordChats, startParley, tlsServerPerFile, type ChatRecord, type TestParley } from './helpers.js';

const users = ['alice', 'bob', 'carol'].map((n) => ({ address: `${n}@example.test`, login: n, password: `${n}-pw` }));

const ocs = tlsServerPerFile(users);
const running = ocs.running;

interface Party extends ChatRecord {
  t: TestParley;
  id: string;
  address: string;
  connections: OcsConnection[];
  states: string[];
}

/** Retries held back: the test reconnects the account itself, once the others have noticed it is gone. */
const HELD_BACK = { afterDropDelayMs: 600_000, initialDelayMs: 600_000, maxDelayMs: 600_000 };

async function signIn(name: string, reconnect?: typeof HELD_BACK): Promise<Party> {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { connections, ...(reconnect ? { reconnect } : {}) });
  running.push(t);
  const account = await addTestAccount(t.parley, ocs.server.port, name);
  const party: Party = { t, id: account.id, address: `${name}@example.test`, connections, ...recordChats(t.parley), states: recordStates(t.parley.events, account.id) };
  await t.parley.accounts.connect(account.id);
  return party;
}

const chat = (p: Party, room: string) => p.t.parley.conversations.find(p.id, 'chat', room);
const textsFrom = (p: Party, room: string) => p.messages.filter((m) => m.room === room).map((m) => `${m.sender}: ${m.text}`);
const invitesSince = (index: number) => ocs.server.events.slice(index).filter((e) => e.kind === 'routed' && e.detail.startsWith('INVITE ')).map((e) => e.detail);

async function rosterIs(p: Party, room: string, members: string[]): Promise<void> {
  await waitFor(() => p.rosters.get(room)?.join() === [...members].sort().join(), `${p.address} to see ${members.join(', ')} in the group`, 30_000);
}

describe('a group conversation without an MCU across a reconnect', () => {
  it('one account drops: back online it makes the group again with the same parties, in the same chat with its history; what it wrote offline goes out', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob', HELD_BACK);
    const carol = await signIn('carol');
    const room = await bob.connections.at(-1)!.features!.multiparty!.start(['alice@example.test', 'carol@example.test']);
    const everyone = users.map((u) => u.address);
    for (const p of [alice, bob, carol]) await rosterIs(p, room, everyone);
    const bobChat = chat(bob, room)!;
    await bob.t.parley.conversations.send(bobChat.id, 'before the drop');
    for (const p of [alice, carol]) await waitFor(() => textsFrom(p, room).includes('bob@example.test: before the drop'), `${p.address} to read bob`);

    expect(ocs.server.dropConnectionsOf('bob@example.test')).toBe(1);
    await waitFor(() => bob.states.includes('reconnecting'), "bob's loss to be reported");
    // Alice writes while bob is away: the server cannot reach him, so for her he has left; carol gets it,
    // and alice's Parley shows that message as not delivered to bob.
    const failed: Array<{ message: Message; code: string }> = [];
    alice.t.parley.events.on('messageFailed', (message, _c, error) => failed.push({ message, code: error.code }));
    const away = (await alice.t.parley.conversations.send(chat(alice, room)!.id, 'while bob was away'))!;
    await rosterIs(alice, room, ['alice@example.test', 'carol@example.test']);
    await waitFor(() => failed.length === 1, 'alice to be told the message missed bob');
    expect(failed[0]!.message.id).toBe(away.id);
    expect(failed[0]!.message.notDeliveredTo).toEqual(['bob@example.test']);
    expect(failed[0]!.code).toBe('not-delivered');
    expect(away.delivery).toBe('sent');
    await waitFor(() => textsFrom(carol, room).includes('alice@example.test: while bob was away'), 'carol to read alice');
    // Bob writes while offline: the core keeps it until he is back.
    expect((await bob.t.parley.conversations.send(bobChat.id, 'written while offline'))?.delivery).toBe('queued');

    const before = ocs.server.events.length;
    await bob.t.parley.accounts.connect(bob.id);
    // Bob invites both again, in the group's Call-ID, as roster manager; everyone sees all three again.
    for (const p of [alice, bob, carol]) await rosterIs(p, room, everyone);
    expect(invitesSince(before).sort()).toEqual(['INVITE bob@example.test -> alice@example.test', 'INVITE bob@example.test -> carol@example.test']);
    const callId = room.slice('multiparty:'.length);
    expect(ocs.server.events.slice(before).filter((e) => e.kind === 'response' && e.detail === `200 INVITE ${callId}`)).toHaveLength(2);
    // What bob wrote offline reaches both, after the group is made again.
    for (const p of [alice, carol]) await waitFor(() => textsFrom(p, room).includes('bob@example.test: written while offline'), `${p.address} to read what bob wrote offline`);

    // The same chat in bob's Parley, joined, with its history; the conversation goes on both ways.
    expect(chat(bob, room)!.id).toBe(bobChat.id);
    expect(chat(bob, room)!.joined).toBe(true);
    expect(chat(bob, room)!.messages.filter((m) => !m.flags.system).map((m) => m.text)).toEqual(['before the drop', 'written while offline']);
    await alice.t.parley.conversations.send(chat(alice, room)!.id, 'welcome back');
    await carol.t.parley.conversations.send(chat(carol, room)!.id, 'hi again');
    await waitFor(() => textsFrom(bob, room).length === 2, 'bob to read alice and carol');
    expect(textsFrom(bob, room)).toEqual(['alice@example.test: welcome back', 'carol@example.test: hi again']);
    await waitFor(() => textsFrom(carol, room).includes('alice@example.test: welcome back'), 'carol to read alice');
    await waitFor(() => textsFrom(alice, room).length === 3, 'alice to read carol');
    expect(textsFrom(alice, room)).toEqual(['bob@example.test: before the drop', 'bob@example.test: written while offline', 'carol@example.test: hi again']);
    expect(ocs.server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it('the server drops everyone: each account comes back and the group goes on in the same chat; a group left is not made again', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const room = await bob.connections.at(-1)!.features!.multiparty!.start(['alice@example.test']);
    const both = ['alice@example.test', 'bob@example.test'];
    for (const p of [alice, bob]) await rosterIs(p, room, both);
    const ids = [chat(alice, room)!.id, chat(bob, room)!.id];

    for (const p of [alice, bob]) p.rosters.clear();
    ocs.server.dropConnections();
    // Both reconnect by themselves and make the group again (whichever invites first, the other takes it).
    for (const p of [alice, bob]) await rosterIs(p, room, both);
    for (const p of [alice, bob]) expect(p.states).toEqual(expect.arrayContaining(['reconnecting', 'online']));
    expect([chat(alice, room)!.id, chat(bob, room)!.id]).toEqual(ids);
    await alice.t.parley.conversations.send(ids[0]!, 'after the drop');
    await bob.t.parley.conversations.send(ids[1]!, 'here too');
    await waitFor(() => textsFrom(bob, room).includes('alice@example.test: after the drop'), 'bob to read alice');
    await waitFor(() => textsFrom(alice, room).includes('bob@example.test: here too'), 'alice to read bob');

    // Alice leaves; after the next drop bob makes the group again without her, and she has no chat to rejoin.
    const bobLeft: string[] = [];
    bob.t.parley.events.on('chatLeft', (c, reason) => {
      if (c.name === room) bobLeft.push(reason ?? '');
    });
    await alice.t.parley.chats.leave(ids[0]!);
    await rosterIs(bob, room, ['bob@example.test']);
    const before = ocs.server.events.length;
    const onlineAgain = (p: Party) => p.states.length;
    const marks = [onlineAgain(alice), onlineAgain(bob)];
    ocs.server.dropConnections();
    await waitFor(() => alice.states.slice(marks[0]).includes('online') && bob.states.slice(marks[1]).includes('online'), 'both to be back online');
    // Bob's rejoin has nobody to invite: the chat is over for him, with the reason; nobody invited alice.
    await waitFor(() => bobLeft.length > 0, "bob's group to end");
    expect(bobLeft).toEqual(['The group conversation ended when the connection was lost; start a new one']);
    expect(chat(bob, room)?.joined).toBe(false);
    expect(invitesSince(before)).toEqual([]);
    expect(chat(alice, room)?.joined).toBe(false);
  });
});
