import { afterEach, describe, expect, it } from 'vitest';
import { UiRelay, connectToParley, elect, type TypingState } from '@parley/core';
import { addLoopbackAccount, loopbackParley, startServer } from './helpers/loopback.js';
import { tempHome } from './helpers/temp.js';
import { until, waitForEvent } from './helpers/wait.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

const fixture = new URL('./fixtures/parley-plugin-loopback/index.js', import.meta.url).href;

/** Alice and Bob in the room "lobby" of one loopback server, each on their own core. */
async function inOneRoom(isolation: 'none' | 'worker', options: { chatTypingTimeoutMs?: number; home?: string } = {}) {
  const server = await startServer({ alice: 'alice-pw', bob: 'bob-pw' });
  cleanup.push(() => server.stop());
  const where = isolation === 'worker' ? { plugins: [], pluginModules: [fixture], isolation } : {};
  const a = await loopbackParley({ ...where, ...(options.home === undefined ? {} : { home: options.home }) });
  cleanup.push(() => a.parley.shutdown());
  const b = await loopbackParley({ ...where, ...(options.chatTypingTimeoutMs === undefined ? {} : { chatTypingTimeoutMs: options.chatTypingTimeoutMs }) });
  cleanup.push(() => b.parley.shutdown());
  const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'alice-pw');
  const bob = await addLoopbackAccount(b.parley, server.port, 'bob', 'bob-pw');
  await a.parley.accounts.connect(alice.id);
  await b.parley.accounts.connect(bob.id);
  await a.parley.chats.join(alice.id, 'lobby');
  const aliceSeen = waitForEvent(b.parley.events, 'conversationParticipantsChanged', (_c, list) => list.some((p) => p.nick === 'alice'));
  const bobArrives = waitForEvent(a.parley.events, 'conversationParticipantsChanged', (_c, list) => list.some((p) => p.nick === 'bob'));
  await b.parley.chats.join(bob.id, 'lobby');
  await Promise.all([aliceSeen, bobArrives]);
  const aliceRoom = a.parley.conversations.find(alice.id, 'chat', 'lobby')!;
  const bobRoom = b.parley.conversations.find(bob.id, 'chat', 'lobby')!;
  return { server, a, b, alice, bob, aliceRoom, bobRoom };
}

const typingOf = (nick: string, state: TypingState) => (_c: unknown, participant: string, s: TypingState) => participant === nick && s === state;

describe.each(['none', 'worker'] as const)('typing in group chats over the loopback protocol, isolation %s', (isolation) => {
  it("each participant sees the other typing; a message, a leave and the user's own stop clear it", async () => {
    const { a, b, aliceRoom, bobRoom } = await inOneRoom(isolation);
    expect(b.parley.plugins.protocol('loopback')?.capabilities.chatTyping).toBe(true);

    const bobSees = waitForEvent(b.parley.events, 'chatTypingChanged', typingOf('alice', 'typing'));
    await a.parley.conversations.setTyping(aliceRoom.id, 'typing');
    const [conversation] = await bobSees;
    expect(conversation).toMatchObject({ id: bobRoom.id, kind: 'chat', name: 'lobby' });
    expect([...b.parley.conversations.get(bobRoom.id)!.chatTyping]).toEqual([['alice', 'typing']]);
    // The IM state is untouched: a group's typing is per participant.
    expect(b.parley.conversations.get(bobRoom.id)!.typing).toBe('idle');

    // Both ways at once: Bob types too, Alice sees him.
    const aliceSees = waitForEvent(a.parley.events, 'chatTypingChanged', typingOf('bob', 'typing'));
    await b.parley.conversations.setTyping(bobRoom.id, 'typing');
    await aliceSees;

    // Her message ends her typing, in the order the server delivered them.
    const cleared = waitForEvent(b.parley.events, 'chatTypingChanged', typingOf('alice', 'idle'));
    const heard = waitForEvent(b.parley.events, 'messageReceived', (m) => m.text === 'done');
    await a.parley.conversations.send(aliceRoom.id, 'done');
    await Promise.all([cleared, heard]);
    expect(b.parley.conversations.get(bobRoom.id)!.chatTyping.size).toBe(0);

    // Paused, then stopped by the user.
    const paused = waitForEvent(b.parley.events, 'chatTypingChanged', typingOf('alice', 'paused'));
    await a.parley.conversations.setTyping(aliceRoom.id, 'paused');
    await paused;
    expect(b.parley.conversations.get(bobRoom.id)!.chatTyping.get('alice')).toBe('paused');
    const stopped = waitForEvent(b.parley.events, 'chatTypingChanged', typingOf('alice', 'idle'));
    await a.parley.conversations.setTyping(aliceRoom.id, 'idle');
    await stopped;

    // Leaving the room ends Bob's typing on Alice's side.
    expect(a.parley.conversations.get(aliceRoom.id)!.chatTyping.get('bob')).toBe('typing');
    const bobGone = waitForEvent(a.parley.events, 'chatTypingChanged', typingOf('bob', 'idle'));
    await b.parley.chats.leave(bobRoom.id);
    await bobGone;
    expect(a.parley.conversations.get(aliceRoom.id)!.chatTyping.size).toBe(0);
  });
});

describe('typing in group chats: what the core guards', () => {
  it('a typing that is not repeated lapses after the timeout', async () => {
    const { a, b, aliceRoom, bobRoom } = await inOneRoom('none', { chatTypingTimeoutMs: 300 });
    const states: string[] = [];
    b.parley.events.on('chatTypingChanged', (_c, nick, state) => states.push(`${nick}:${state}`));
    const lapsed = waitForEvent(b.parley.events, 'chatTypingChanged', typingOf('alice', 'idle'));
    await a.parley.conversations.setTyping(aliceRoom.id, 'typing');
    await lapsed;
    expect(states).toEqual(['alice:typing', 'alice:idle']);
    expect(b.parley.conversations.get(bobRoom.id)!.chatTyping.size).toBe(0);
  });

  it('typing for a room the account is not in, or with a bad state or nick, changes nothing', async () => {
    const { server, b, bobRoom } = await inOneRoom('none');
    const seen: string[] = [];
    b.parley.events.on('chatTypingChanged', (_c, nick, state) => seen.push(`${nick}:${state}`));
    server.sendRaw('bob', `${JSON.stringify({ op: 'room-typing', room: 'elsewhere', from: 'mallory', state: 'typing' })}\n`);
    server.sendRaw('bob', `${JSON.stringify({ op: 'room-typing', room: 'lobby', from: 'mallory', state: 'shouting' })}\n`);
    server.sendRaw('bob', `${JSON.stringify({ op: 'room-typing', room: 'lobby', from: 42, state: 'typing' })}\n`);
    // A definite signal after the three: the server delivers in order.
    server.sendRaw('bob', `${JSON.stringify({ op: 'room-typing', room: 'lobby', from: 'carol', state: 'typing' })}\n`);
    await until(() => seen.length > 0, 10_000, 'the valid typing notice');
    expect(seen).toEqual(['carol:typing']);
    expect(b.parley.conversations.find(b.parley.accounts.list()[0]!.id, 'chat', 'elsewhere')).toBeUndefined();
    expect([...b.parley.conversations.get(bobRoom.id)!.chatTyping.keys()]).toEqual(['carol']);
    expect(b.logs.filter((r) => r.message.includes('bad input to chats.typing'))).toHaveLength(2);
  });

  it('a client of the owner over the remote API sets typing in a group and hears chatTypingChanged', async () => {
    const home = tempHome('parley-rpc-');
    const election = await elect({ home });
    if (election.role !== 'owner') throw new Error('expected to own a fresh home');
    const relay = new UiRelay(undefined);
    const { a, b, aliceRoom, bobRoom } = await inOneRoom('none', { home });
    // Released before the cores shut down, as the owner does.
    cleanup.push(() => election.claim.release());
    await election.claim.serve(a.parley, { kind: 'test', relay, onStopRequested: () => {} });
    const remote = await connectToParley({ home });
    cleanup.push(() => remote.close());
    expect(remote.owner.protocolVersion).toBe('1.7');

    const bobSees = waitForEvent(b.parley.events, 'chatTypingChanged', typingOf('alice', 'typing'));
    await remote.conversations.setTyping(aliceRoom.id, 'typing');
    await bobSees;

    const heard = new Promise<[string, string, string]>((resolve) => remote.events.on('chatTypingChanged', (c, nick, state) => resolve([c.id, nick, state])));
    await b.parley.conversations.setTyping(bobRoom.id, 'typing');
    expect(await heard).toEqual([aliceRoom.id, 'bob', 'typing']);
    const snapshot = await remote.snapshot();
    expect(snapshot.conversations.find((c) => c.id === aliceRoom.id)?.chatTyping.get('bob')).toBe('typing');
  });
});
