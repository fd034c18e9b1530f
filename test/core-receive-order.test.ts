// The incoming path handles a burst without a promise per message when every
// hook tap answers at once, yet keeps what the slower path guaranteed:
// messages in the order they arrived (a tap that answers later holds the rest
// back), nothing handled inside the plugin's own call, and a failing listener
// costs only its message.
import { afterEach, describe, expect, it } from 'vitest';
import { createParley, defineFeaturePlugin, defineProtocolPlugin, type ConnectionContext, type Parley } from '@parley/core';
import { tempHome } from './helpers/temp.js';
import { until } from './helpers/wait.js';

let parley: Parley | undefined;
afterEach(async () => {
  await parley?.shutdown();
  parley = undefined;
});

async function setup(): Promise<{ ctx: ConnectionContext; received: string[] }> {
  let ctx: ConnectionContext | undefined;
  const plugin = defineProtocolPlugin({
    id: 'burst',
    name: 'Burst',
    options: {},
    capabilities: {},
    createConnection(context) {
      ctx = context;
      return { connect: async () => {}, disconnect: async () => {}, sendMessage: async () => {} };
    },
  });
  parley = await createParley({ home: tempHome(), discover: false, plugins: [plugin], secretStore: 'file', passphrase: 'test', history: false, log: () => {} });
  await parley.plugins.use(
    defineFeaturePlugin({
      name: 'slow-sometimes',
      apply(api) {
        // Answers at once, except for a message starting with "slow".
        api.hooks.receivingMessage.tap((m) => (m.text.startsWith('slow') ? new Promise((resolve) => setTimeout(() => resolve({ ...m, text: `${m.text} (checked)` }), 20)) : undefined));
        api.hooks.writingToConversation.tap((m) => ({ ...m, text: m.text.trim() }));
      },
    }),
  );
  const account = await parley.accounts.add({ protocol: 'burst', username: 'me' });
  await parley.accounts.connect(account.id);
  const received: string[] = [];
  parley.events.on('messageReceived', (m) => {
    received.push(m.text);
    if (m.text === 'boom') throw new Error('a listener failed');
  });
  return { ctx: ctx!, received };
}

describe('incoming messages', () => {
  it('come out in the order they arrived, after the plugin call returns, past a slow tap and a failing listener', async () => {
    const { ctx, received } = await setup();
    const texts = ['one ', 'slow two', 'boom', 'four', 'slow five', ...Array.from({ length: 200 }, (_, i) => `burst ${i}`)];
    for (const text of texts) ctx.receiveMessage({ conversation: { kind: 'im', peer: 'bob' }, sender: 'bob', text });
    expect(received).toEqual([]);
    await until(() => received.length === texts.length);
    expect(received).toEqual(['one', 'slow two (checked)', 'boom', 'four', 'slow five (checked)', ...texts.slice(5)]);
    // A message arriving after the queue ran dry is handled too.
    ctx.receiveMessage({ conversation: { kind: 'im', peer: 'bob' }, sender: 'bob', text: 'later' });
    await until(() => received.length === texts.length + 1);
    expect(received.at(-1)).toBe('later');
  });

  it('keep what the plugin handed over, share one conversation per peer whatever the spelling, and give listeners nothing to change', async () => {
    const { ctx, received } = await setup();
    const p = parley!;
    const infos: unknown[] = [];
    p.events.on('messageWritten', (_m, info) => {
      infos.push(info);
      // A listener that tries to rename the conversation changes nothing the core or the next listener sees.
      try {
        (info as { name: string }).name = 'mallory';
      } catch {
        // Frozen: refused in strict code.
      }
    });
    p.events.on('messageReceived', (_m, info) => infos.push(info));
    const handed = { conversation: { kind: 'im' as const, peer: 'Bob' }, sender: 'Bob', text: 'first', protocolId: 'p1', timestamp: -5 };
    ctx.receiveMessage(handed);
    // Changed by the plugin after its call, before the core ran: the message as handed over is what arrives.
    handed.text = 'changed';
    handed.sender = 'eve';
    ctx.receiveMessage({ conversation: { kind: 'im', peer: 'bob' }, sender: 'bob', text: 'second' });
    await until(() => received.length === 2);
    expect(received).toEqual(['first', 'second']);
    const bob = p.conversations.list();
    expect(bob).toHaveLength(1);
    expect(bob[0]!.name).toBe('Bob');
    expect(bob[0]!.messages.map((m) => [m.sender, m.text])).toEqual([['Bob', 'first'], ['bob', 'second']]);
    // A timestamp that is not a time is replaced by the time of arrival.
    expect(bob[0]!.messages[0]!.timestamp).toBeGreaterThan(0);
    expect(infos).toHaveLength(4);
    for (const info of infos) expect(info).toEqual({ id: bob[0]!.id, kind: 'im', accountId: bob[0]!.accountId, name: 'Bob' });
    // Closed, then written to again: a new conversation, not the closed one.
    p.conversations.close(bob[0]!.id);
    ctx.receiveMessage({ conversation: { kind: 'im', peer: 'Bob' }, sender: 'Bob', text: 'third' });
    await until(() => received.length === 3);
    const again = p.conversations.list();
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(bob[0]!.id);
    expect(again[0]!.messages.map((m) => m.text)).toEqual(['third']);
  });
});
