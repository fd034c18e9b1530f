import { afterEach, describe, expect, it } from 'vitest';
import { addLoopbackAccount, loopbackParley, startServer } from '../../../test/helpers/loopback.js';
import { until, waitForEvent } from '../../../test/helpers/wait.js';
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
    const sentByAlice = a.parley.conversations.find(alice.id, 'im', 'bob')!.messages.filter((m) => m.direction === 'outgoing');
    expect(sentByAlice.map((m) => m.flags.autoReply)).toEqual([true]);

    await b.parley.conversations.sendIm(bob.id, 'alice', 'hello??');
    await until(() => server.received.filter((m) => m.op === 'msg' && m.user === 'bob').length === 2, 5000, 'second message');
    await new Promise((r) => setTimeout(r, 200));
    expect(server.received.filter((m) => m.op === 'msg' && m.user === 'alice')).toHaveLength(1);

    await a.parley.presence.set({ status: 'available' });
    await b.parley.conversations.sendIm(bob.id, 'alice', 'back?');
    await until(() => server.received.filter((m) => m.op === 'msg' && m.user === 'bob').length === 3, 5000, 'third message');
    await new Promise((r) => setTimeout(r, 200));
    expect(server.received.filter((m) => m.op === 'msg' && m.user === 'alice')).toHaveLength(1);
  });
});
