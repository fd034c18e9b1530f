/**
 * Typing in a group conversation without an MCU (Office Communicator 2005's
 * multiparty IM) between Parley accounts on the test OCS server: each party
 * sends its typing to every other party in its own dialog, an INFO with
 * Communicator's KeyboardActivity document, as in a two-party IM; the
 * others see who is typing, and a party's message or leaving ends it.
 */
import { describe, expect, it } from 'vitest';
import type { ConversationInfo } from '@parley/core';
import { addTestAccount, startParley, tlsServerPerFile, type TestParley } from './helpers.js';
import type { OcsConnection } from '../src/connection.js';

const users = ['alice', 'bob', 'carol'].map((n) => ({ address: `${n}@example.test`, login: n, password: `${n}-pw` }));

const ocs = tlsServerPerFile(users);
const running = ocs.running;

interface Party {
  t: TestParley;
  id: string;
  connection: OcsConnection;
  /** Every chatTypingChanged, as "room participant:state". */
  typing: string[];
}

async function signIn(name: string): Promise<Party> {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { connections });
  running.push(t);
  const account = await addTestAccount(t.parley, ocs.server.port, name);
  const party: Party = { t, id: account.id, connection: undefined as unknown as OcsConnection, typing: [] };
  t.parley.events.on('chatTypingChanged', (c: ConversationInfo, participant: string, state: string) => party.typing.push(`${c.name} ${participant}:${state}`));
  await t.parley.accounts.connect(account.id);
  party.connection = connections[connections.length - 1]!;
  return party;
}

const conversationId = (p: Party, room: string) => p.t.parley.conversations.find(p.id, 'chat', room)!.id;

describe('typing in a group conversation without an MCU', () => {
  it("each party sees the others typing; a message and a party's leaving end it", async () => {
    const [alice, bob, carol] = [await signIn('alice'), await signIn('bob'), await signIn('carol')];
    const room = await bob.connection.features!.multiparty!.start(['alice@example.test', 'carol@example.test']);
    for (const p of [alice, bob, carol]) {
      await expect.poll(() => p.t.parley.conversations.find(p.id, 'chat', room)?.participants.size, { timeout: 20_000 }).toBe(3);
    }
    const infosBefore = ocs.server.events.filter((e) => e.kind === 'routed' && e.detail.startsWith('INFO alice@example.test')).length;

    await alice.t.parley.conversations.setTyping(conversationId(alice, room), 'typing');
    for (const p of [bob, carol]) await expect.poll(() => p.typing, { timeout: 15_000 }).toContain(`${room} alice@example.test:typing`);
    // One INFO to each of the two others, in alice's own dialogs with them.
    const infos = ocs.server.events.filter((e) => e.kind === 'routed' && e.detail.startsWith('INFO alice@example.test')).slice(infosBefore).map((e) => e.detail);
    expect(infos.sort()).toEqual(['INFO alice@example.test -> bob@example.test', 'INFO alice@example.test -> carol@example.test']);

    // Her message ends it.
    await alice.t.parley.conversations.send(conversationId(alice, room), 'typed it');
    for (const p of [bob, carol]) await expect.poll(() => p.typing, { timeout: 15_000 }).toContain(`${room} alice@example.test:idle`);

    // Carol types, then leaves: the others see her typing end with her.
    await carol.t.parley.conversations.setTyping(conversationId(carol, room), 'typing');
    for (const p of [alice, bob]) await expect.poll(() => p.typing, { timeout: 15_000 }).toContain(`${room} carol@example.test:typing`);
    await carol.t.parley.chats.leave(conversationId(carol, room));
    for (const p of [alice, bob]) await expect.poll(() => p.typing, { timeout: 15_000 }).toContain(`${room} carol@example.test:idle`);
    expect(alice.typing.filter((t) => t.includes('alice@example.test'))).toEqual([]);
  });
});
