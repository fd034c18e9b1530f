// A server that took a message and reports later that it missed some
// recipients (an OCS conference's IM service, per participant): the core
// marks the message with whom it missed, emits messageFailed with code
// not-delivered and writes a line naming them; reports it cannot match, or
// that are malformed, change nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { createParley, defineProtocolPlugin, type ConnectionContext, type Message, type ParleyError, type Parley } from '@parley/core';
import { tempHome } from './helpers/temp.js';
import { until } from './helpers/wait.js';

let parley: Parley | undefined;
afterEach(async () => {
  await parley?.shutdown();
  parley = undefined;
});

async function setup(): Promise<{ ctx: ConnectionContext; p: Parley; accountId: string }> {
  let ctx: ConnectionContext | undefined;
  let sent = 0;
  const plugin = defineProtocolPlugin({
    id: 'reports',
    name: 'Reports',
    options: {},
    capabilities: { groupChat: true },
    createConnection(context) {
      ctx = context;
      return {
        connect: async () => {},
        disconnect: async () => {},
        sendMessage: async () => ({ protocolId: `m${++sent}` }),
        joinChat: async (room: string) => context.chats.joined(room),
        leaveChat: async () => {},
      };
    },
  });
  const p = await createParley({ home: tempHome(), discover: false, plugins: [plugin], secretStore: 'file', passphrase: 'test', history: false, log: () => {} });
  parley = p;
  const account = await p.accounts.add({ protocol: 'reports', username: 'me' });
  await p.accounts.connect(account.id);
  return { ctx: ctx!, p, accountId: account.id };
}

describe('delivery failure reports', () => {
  it('name the recipients a sent group message missed, once each, and leave the message in place', async () => {
    const { ctx, p, accountId } = await setup();
    ctx.chats.joined('room');
    const chat = p.conversations.find(accountId, 'chat', 'room')!;
    const failures: Array<[Message, ParleyError]> = [];
    p.events.on('messageFailed', (m, _c, e) => failures.push([m, e]));
    const first = (await p.conversations.send(chat.id, 'lunch at noon'))!;
    const second = (await p.conversations.send(chat.id, 'or one'))!;
    expect(first.protocolId).toBe('m1');

    ctx.messageNotDelivered!('m1', { recipients: ['carol@example.test'], reason: '408 Request Timeout' });
    // The same report again, and reports for messages never sent or with nothing usable: ignored.
    ctx.messageNotDelivered!('m1', { recipients: ['carol@example.test'], reason: '408 Request Timeout' });
    ctx.messageNotDelivered!('never-sent', { recipients: ['dave@example.test'], reason: 'x' });
    ctx.messageNotDelivered!('m2', { recipients: 'carol' as unknown as string[], reason: 'x' });
    ctx.messageNotDelivered!('m2', undefined as unknown as { recipients: string[]; reason: string });
    ctx.messageNotDelivered!(42 as unknown as string, { recipients: [], reason: 'x' });
    await until(() => chat.messages.some((m) => m.flags.error === true));
    expect(failures).toHaveLength(1);
    const [message, error] = failures[0]!;
    expect(message.id).toBe(first.id);
    expect(message.notDeliveredTo).toEqual(['carol@example.test']);
    expect(message.delivery).toBe('sent');
    expect(error.code).toBe('not-delivered');
    expect(error.message).toBe('Not delivered to carol@example.test: 408 Request Timeout');
    const lines = chat.messages.filter((m) => m.flags.error === true).map((m) => m.text);
    expect(lines).toEqual(['Not delivered to carol@example.test: 408 Request Timeout: "lunch at noon"']);
    // Both messages stay, in order; the second is untouched.
    expect(chat.messages.filter((m) => m.direction === 'outgoing' && !m.flags.system).map((m) => m.text)).toEqual(['lunch at noon', 'or one']);
    expect(second.notDeliveredTo).toBeUndefined();

    // A second recipient missed later adds to the list; a report naming nobody means it reached no one.
    ctx.messageNotDelivered!('m1', { recipients: ['carol@example.test', 'dave@example.test'], reason: 'offline\r\nInjected: yes' });
    ctx.messageNotDelivered!('m2', { recipients: [], reason: 'the service dropped it' });
    await until(() => failures.length === 3);
    expect(first.notDeliveredTo).toEqual(['carol@example.test', 'dave@example.test']);
    expect(failures[1]![1].message).toBe('Not delivered to dave@example.test: offline Injected: yes');
    expect(failures[2]![0].delivery).toBe('failed');
    expect(failures[2]![1].message).toBe('Not delivered: the service dropped it');
  });
});

describe('messages awaiting a receipt', () => {
  it('are the newest few thousand only: a receipt for an older one changes nothing, a newer one still counts', async () => {
    const { RECEIPT_WINDOW } = await import('../packages/core/src/conversations/conversation-manager.js');
    const { ctx, p, accountId } = await setup();
    const im = p.conversations.openIm(accountId, 'bob');
    const sent: Message[] = [];
    for (let i = 0; i <= RECEIPT_WINDOW; i++) sent.push((await p.conversations.send(im.id, `n${i}`))!);
    const delivered: string[] = [];
    p.events.on('messageDelivered', (m) => delivered.push(m.text));
    // m1 fell out of the window when message RECEIPT_WINDOW + 1 was sent; m2 is the oldest still in it.
    ctx.messageDelivered('m1');
    ctx.messageDelivered('m2');
    await until(() => delivered.length > 0);
    expect(delivered).toEqual(['n1']);
    expect(sent[0]!.delivery).toBe('sent');
    expect(sent[1]!.delivery).toBe('delivered');
  });
});
