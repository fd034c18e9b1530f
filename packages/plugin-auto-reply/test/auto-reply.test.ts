import { afterEach, describe, expect, it } from 'vitest';
import { addLoopbackAccount, loopbackParley, startServer } from '../../../test/helpers/loopback.js';
import { waitFor, waitForEvent } from '../../../test/helpers/wait.js';
import autoReply from '../src/index.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

describe('auto-reply', () => {
  it('answers once per conversation while away, flagged as automatic, and not when available', async () => {
    const server = await startServer({ alice: 'pa', bob: 'pb' });
    cleanup.push(() => server.stop());
    const a = await loopbackParley();
    const b = await loopbackParley();
    cleanup.push(() => a.parley.shutdown(), () => b.parley.shutdown());
    await a.parley.plugins.use(autoReply);
    const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'pa');
    const bob = await addLoopbackAccount(b.parley, server.port, 'bob', 'pb');
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    await a.parley.presence.set({ status: 'away', message: 'At the dentist' });

    const answer = waitForEvent(b.parley.events, 'messageReceived');
    await b.parley.conversations.sendIm(bob.id, 'alice', 'are you there?');
    expect((await answer)[0].text).toBe('At the dentist');
    // Bob can have the answer before alice's core has written it into her conversation: wait for it there.
    const sentByAlice = await waitFor(() => {
      const outgoing = a.parley.conversations.find(alice.id, 'im', 'bob')?.messages.filter((m) => m.direction === 'outgoing') ?? [];
      return outgoing.length > 0 ? outgoing : undefined;
    }, "the answer in alice's conversation");
    expect(sentByAlice.map((m) => m.flags.autoReply)).toEqual([true]);

    // The plugin's decision about each message is the signal: it says why it did not answer.
    const decision = (text: string) => {
      const id = a.parley.conversations.find(alice.id, 'im', 'bob')?.messages.find((m) => m.direction === 'incoming' && m.text === text)?.id;
      return id === undefined ? undefined : a.logs.find((r) => r.scope.includes('auto-reply') && r.message.startsWith('not answering') && r.data?.message === id)?.message;
    };
    await b.parley.conversations.sendIm(bob.id, 'alice', 'hello??');
    expect(await waitFor(() => decision('hello??'), 'the decision about the second message')).toBe('not answering: answered in this conversation recently');
    expect(server.received.filter((m) => m.op === 'msg' && m.user === 'alice')).toHaveLength(1);

    await a.parley.presence.set({ status: 'available' });
    await b.parley.conversations.sendIm(bob.id, 'alice', 'back?');
    expect(await waitFor(() => decision('back?'), 'the decision about the third message')).toBe('not answering: the user is not away');
    expect(server.received.filter((m) => m.op === 'msg' && m.user === 'alice')).toHaveLength(1);
  });
});
