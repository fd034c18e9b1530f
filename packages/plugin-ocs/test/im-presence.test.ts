/**
 * Two Parley OCS accounts on the test OCS server ([MS-SIP], [MS-PRES]):
 * the roaming contact list with groups, presence changes and notes both
 * ways (batched and single subscriptions), IM sessions with the first
 * message in the INVITE, typing, several conversations, reopening after the
 * other side closed, contact management going back to the server, and the
 * failures a user must see (offline, declined) with nothing lost.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message, Parley } from '@parley/core';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { startParley, testCertificates, type TestParley } from './helpers.js';
import type { OcsConnection } from '../src/connection.js';

const users = [
  { address: 'alice@example.test', login: 'alice', password: 'alice-pw', displayName: 'Alice Liddell' },
  { address: 'bob@example.test', login: 'bob', password: 'bob-pw', displayName: 'Bob Builder' },
  { address: 'carol@example.test', login: 'carol', password: 'carol-pw' },
  { address: 'dave@example.test', login: 'dave', password: 'dave-pw' },
];
const contactLists = {
  'alice@example.test': {
    groups: [
      { id: 1, name: '~' },
      { id: 2, name: 'Team' },
    ],
    contacts: [
      { uri: 'bob@example.test', name: 'Bob', groups: [2] },
      { uri: 'carol@example.test', groups: [1] },
      { uri: 'dave@example.test', groups: [2] },
    ],
  },
  'bob@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'sip:alice@example.test', groups: [1] }] },
};

let server: OcsServer;
const running: TestParley[] = [];

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({ users, tls: { key, cert }, services: { contactLists, answerInvitesFor: { 'dave@example.test': { status: 603, reason: 'Decline' } } } });
});
afterEach(async () => {
  while (running.length) await running.pop()!.cleanup();
});
afterAll(async () => {
  await server.close();
});

async function signIn(address: string, password: string, settings: Record<string, unknown> = {}): Promise<{ t: TestParley; id: string; connections: OcsConnection[] }> {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { connections });
  running.push(t);
  const account = await t.parley.accounts.add({
    protocol: 'ocs',
    username: address,
    settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'ntlm', login: address.split('@')[0], ...settings },
    secrets: { password },
  });
  await t.parley.accounts.connect(account.id);
  return { t, id: account.id, connections };
}

function received(parley: Parley): Message[] {
  const list: Message[] = [];
  parley.events.on('messageReceived', (m) => list.push(m));
  return list;
}

const presenceOf = (parley: Parley, accountId: string, name: string) => parley.buddies.find(accountId, name)?.buddy.presence;

describe('two OCS accounts through the test server', () => {
  it('loads the roaming contact list with its groups and sees presence and notes change both ways', async () => {
    const alice = await signIn('alice@example.test', 'alice-pw');
    const bob = await signIn('bob@example.test', 'bob-pw');
    const groups = alice.t.parley.buddies.contacts().map((c) => ({ name: c.buddies[0]!.name, group: c.group }));
    expect(groups).toEqual(
      expect.arrayContaining([
        { name: 'bob@example.test', group: 'Team' },
        { name: 'carol@example.test', group: 'Other Contacts' },
      ]),
    );
    expect(alice.t.parley.buddies.find(alice.id, 'bob@example.test')?.buddy.alias).toBe('Bob');
    // Batched subscription to alice's own URI with all her contacts.
    expect(server.events.some((e) => e.kind === 'subscribed' && e.detail.startsWith('presence batched alice@example.test'))).toBe(true);
    await expect.poll(() => presenceOf(alice.t.parley, alice.id, 'bob@example.test')?.status, { timeout: 10_000 }).toBe('available');
    expect(presenceOf(alice.t.parley, alice.id, 'carol@example.test')?.status).toBe('offline');

    await bob.t.parley.presence.set({ status: 'busy', label: 'In a meeting', message: 'Planning 🗓 until 3' });
    await expect.poll(() => presenceOf(alice.t.parley, alice.id, 'bob@example.test')).toMatchObject({ status: 'busy', label: 'In a meeting', message: 'Planning 🗓 until 3' });

    await alice.t.parley.presence.set({ status: 'away', message: 'Lunch' });
    await expect.poll(() => presenceOf(bob.t.parley, bob.id, 'alice@example.test')).toMatchObject({ status: 'away', label: 'Away', message: 'Lunch' });

    await bob.t.parley.accounts.disconnect(bob.id);
    await expect.poll(() => presenceOf(alice.t.parley, alice.id, 'bob@example.test')?.status).toBe('offline');
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it('exchanges messages (first in the INVITE, then in the dialog), typing, HTML and UTF-8', async () => {
    const alice = await signIn('alice@example.test', 'alice-pw');
    const bob = await signIn('bob@example.test', 'bob-pw');
    const atBob = received(bob.t.parley);
    const atAlice = received(alice.t.parley);
    const typing: string[] = [];
    bob.t.parley.events.on('typingChanged', (_c, peer, state) => typing.push(`${peer}:${state}`));

    const first = await alice.t.parley.conversations.sendIm(alice.id, 'bob@example.test', 'Hello Bob — grüße 👋');
    expect(first?.delivery).toBe('sent');
    await expect.poll(() => atBob.map((m) => m.text)).toEqual(['Hello Bob — grüße 👋']);
    expect(atBob[0]!.sender).toBe('alice@example.test');
    expect(server.events.filter((e) => e.kind === 'routed').map((e) => e.detail)).toContain('INVITE alice@example.test -> bob@example.test');

    const conversation = alice.t.parley.conversations.find(alice.id, 'im', 'bob@example.test')!;
    await alice.t.parley.conversations.setTyping(conversation.id, 'typing');
    await expect.poll(() => typing).toContain('alice@example.test:typing');
    await alice.t.parley.conversations.send(conversation.id, 'second line\nwith <b>markup</b> as text');
    await expect.poll(() => atBob.map((m) => m.text)).toEqual(['Hello Bob — grüße 👋', 'second line\nwith <b>markup</b> as text']);
    expect(typing.at(-1)).toBe('alice@example.test:idle');
    expect(server.events.filter((e) => e.kind === 'routed' && e.detail.startsWith('INVITE')).length).toBe(1);
    expect(server.events.some((e) => e.kind === 'routed' && e.detail.startsWith('MESSAGE alice'))).toBe(true);

    // The answer goes back in the same dialog bob accepted.
    await bob.t.parley.conversations.sendIm(bob.id, 'alice@example.test', 'Hi Alice');
    await expect.poll(() => atAlice.map((m) => m.text)).toEqual(['Hi Alice']);
    expect(server.events.filter((e) => e.kind === 'routed' && e.detail.startsWith('INVITE')).length).toBe(1);
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it('reopens a conversation the other side closed, and keeps several at once', async () => {
    const alice = await signIn('alice@example.test', 'alice-pw');
    const bob = await signIn('bob@example.test', 'bob-pw');
    const carol = await signIn('carol@example.test', 'carol-pw');
    const atBob = received(bob.t.parley);
    const atCarol = received(carol.t.parley);
    await alice.t.parley.conversations.sendIm(alice.id, 'bob@example.test', 'to bob 1');
    await alice.t.parley.conversations.sendIm(alice.id, 'carol@example.test', 'to carol 1');
    await expect.poll(() => atBob.length + atCarol.length).toBe(2);
    // Bob closes the conversation window: the core asks the plugin to end the dialog, a BYE to alice.
    const invitesBefore = server.events.filter((e) => e.kind === 'routed' && e.detail.startsWith('INVITE alice')).length;
    const byes = () => server.events.filter((e) => e.kind === 'routed' && e.detail === 'BYE bob@example.test -> alice@example.test').length;
    const byesBefore = byes();
    bob.t.parley.conversations.close(bob.t.parley.conversations.find(bob.id, 'im', 'alice@example.test')!.id);
    await expect.poll(byes).toBe(byesBefore + 1);
    await alice.t.parley.conversations.sendIm(alice.id, 'bob@example.test', 'to bob 2');
    await alice.t.parley.conversations.sendIm(alice.id, 'carol@example.test', 'to carol 2');
    await expect.poll(() => [atBob.map((m) => m.text), atCarol.map((m) => m.text)]).toEqual([
      ['to bob 1', 'to bob 2'],
      ['to carol 1', 'to carol 2'],
    ]);
    expect(server.events.filter((e) => e.kind === 'routed' && e.detail.startsWith('INVITE alice')).length).toBe(invitesBefore + 1);
  });

  it('a contact who is offline or declines: the message is marked failed with a clear error, and kept', async () => {
    const alice = await signIn('alice@example.test', 'alice-pw');
    const failed: Array<{ text: string; code: string; message: string }> = [];
    alice.t.parley.events.on('messageFailed', (m, _c, e) => failed.push({ text: m.text, code: e.code, message: e.message }));
    const offline = await alice.t.parley.conversations.sendIm(alice.id, 'carol@example.test', 'are you there?');
    expect(offline?.delivery).toBe('failed');
    const declined = await alice.t.parley.conversations.sendIm(alice.id, 'dave@example.test', 'meeting?');
    expect(declined?.delivery).toBe('failed');
    expect(failed).toEqual([
      { text: 'are you there?', code: 'send-failed', message: 'Not sent: carol@example.test is offline or not available' },
      { text: 'meeting?', code: 'send-failed', message: 'Not sent: dave@example.test declined the conversation' },
    ]);
    const conversation = alice.t.parley.conversations.find(alice.id, 'im', 'carol@example.test')!;
    const lines = () => alice.t.parley.conversations.get(conversation.id)?.messages ?? [];
    // Kept in the conversation, marked failed there too.
    await expect.poll(() => lines().filter((m) => m.direction === 'outgoing').map((m) => [m.text, m.delivery])).toEqual([['are you there?', 'failed']]);
    await expect.poll(() => lines().some((m) => m.flags.error === true && m.text.includes('offline or not available'))).toBe(true);
  });

  it('adds, moves and removes contacts and groups on the server (SERVICE with deltaNum)', async () => {
    const alice = await signIn('alice@example.test', 'alice-pw');
    const p = alice.t.parley;
    await p.buddies.add(alice.id, 'carol@example.test', { group: 'Friends', alias: 'Carol C.' });
    expect(server.events.filter((e) => e.kind === 'service').map((e) => e.detail)).toEqual(['addGroup alice@example.test', 'setContact alice@example.test']);
    await expect.poll(() => p.buddies.find(alice.id, 'carol@example.test')?.contact.group).toBe('Friends');
    const bob = p.buddies.find(alice.id, 'bob@example.test')!;
    await p.buddies.move(bob.contact.id, 'Friends');
    const dave = p.buddies.find(alice.id, 'dave@example.test')!;
    await p.buddies.move(dave.contact.id, 'Friends');
    // Team lost its last member: deleted.
    expect(server.events.filter((e) => e.kind === 'service').map((e) => e.detail.split(' ')[0])).toEqual(['addGroup', 'setContact', 'setContact', 'setContact', 'deleteGroup']);
    await p.buddies.remove(alice.id, 'dave@example.test');
    expect(server.events.filter((e) => e.kind === 'service').at(-1)?.detail).toBe('deleteContact alice@example.test');
    // Signing in again shows the server's list as changed.
    await p.accounts.disconnect(alice.id);
    const again = await signIn('alice@example.test', 'alice-pw');
    await expect.poll(() => again.t.parley.buddies.contacts().map((c) => `${c.buddies[0]!.name}:${c.group}`).sort()).toEqual(['bob@example.test:Friends', 'carol@example.test:Friends']);
  });

  it('without adhoclist support it subscribes to each contact on its own', async () => {
    const { key, cert } = testCertificates();
    const single = await startOcsServer({ users, tls: { key, cert }, batchedPresence: false, services: { contactLists } });
    try {
      const t = await startParley();
      running.push(t);
      const account = await t.parley.accounts.add({
        protocol: 'ocs',
        username: 'alice@example.test',
        settings: { server: `127.0.0.1:${single.port}`, transport: 'tls', authentication: 'ntlm', login: 'alice' },
        secrets: { password: 'alice-pw' },
      });
      await t.parley.accounts.connect(account.id);
      await expect.poll(() => single.events.filter((e) => e.kind === 'subscribed' && e.detail.startsWith('presence ')).map((e) => e.detail.split(' ').at(-1)).sort()).toEqual([
        'bob@example.test',
        'carol@example.test',
        'dave@example.test',
      ]);
      await expect.poll(() => presenceOf(t.parley, account.id, 'carol@example.test')?.status).toBe('offline');
    } finally {
      await single.close();
    }
  });
});
