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
});
