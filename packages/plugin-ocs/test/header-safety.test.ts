/**
 * Every value the user gives that reaches a SIP header (a peer's address in
 * a send, typing, adding or changing a buddy) or the contact list's XML (a
 * display name, a group name) is checked where it enters the plugin, and
 * refused with a typed error when it does not fit. Nothing of the refused
 * request reaches the server, and nothing is rewritten into something else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, ParleyError } from '@parley/core';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { rejection, startParley, testCertificates, type TestParley } from './helpers.js';
import type { OcsConnection } from '../src/connection.js';

const INJECTED = 'bob@example.test>\r\nX-Injected: yes';
const users = [
  { address: 'alice@example.test', login: 'alice', password: 'alice-pw' },
  { address: 'bob@example.test', login: 'bob', password: 'bob-pw' },
];
const contactLists = {
  'alice@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'bob@example.test', name: 'Bob', groups: [1] }] },
};

let server: OcsServer;
let alice: TestParley;
let accountId: string;
const connections: OcsConnection[] = [];
const failed: Array<{ message: Message; error: ParleyError }> = [];

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({ users, tls: { key, cert }, services: { contactLists } });
  alice = await startParley({}, undefined, { connections });
  alice.parley.events.on('messageFailed', (message, _conversation, error) => failed.push({ message, error }));
  const account = await alice.parley.accounts.add({
    protocol: 'ocs',
    username: 'alice@example.test',
    settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'ntlm', login: 'alice' },
    secrets: { password: 'alice-pw' },
  });
  accountId = account.id;
  await alice.parley.accounts.connect(accountId);
});
afterAll(async () => {
  await alice?.cleanup();
  await server?.close();
});

/** Requests alice's client sent after sign-in that a refused value would have caused. */
const sent = () => server.events.filter((e) => (e.kind === 'request' && ['INVITE', 'MESSAGE', 'INFO', 'SUBSCRIBE'].includes(e.detail)) || (e.kind === 'service' && /^(setContact|deleteContact|addGroup|modifyGroup)/.test(e.detail)));

describe('OCS plugin refuses user-given values that cannot go into SIP headers', () => {
  it('a send to an address with a line break fails with invalid-address, is kept as failed, and never reaches the server', async () => {
    const before = sent().length;
    const message = await alice.parley.conversations.sendIm(accountId, INJECTED, 'hello');
    expect(message?.delivery).toBe('failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error.code).toBe('invalid-address');
    expect(failed[0]!.error.message).toBe('"bob@example.test>\\r\\nX-Injected: yes" is not a SIP address like user@company.com');
    expect(failed[0]!.message.text).toBe('hello');
    expect(sent().length).toBe(before);
  });

  it('typing to such an address is refused the same way', async () => {
    const before = sent().length;
    const error = (await rejection(connections[0]!.setTyping(INJECTED, 'typing'))) as ParleyError;
    expect(error.code).toBe('ocs-invalid-address');
    expect(sent().length).toBe(before);
  });

  it('adding or changing a buddy with a bad address, display name or group name is refused; the server list is untouched', async () => {
    const before = sent().length;
    const bad = [
      alice.parley.buddies.add(accountId, INJECTED),
      alice.parley.buddies.add(accountId, 'carol@example.test', { alias: 'Carol\r\nX-Injected: yes' }),
      alice.parley.buddies.add(accountId, 'carol@example.test', { group: 'Team\nX: 1' }),
      connections[0]!.updateBuddy({ name: 'bob@example.test', alias: 'Bob\0' }),
      connections[0]!.updateBuddy({ name: 'bob@example.test>', alias: 'Bob' }),
    ];
    const codes = [];
    for (const attempt of bad) codes.push(((await rejection(attempt)) as ParleyError).code);
    expect(codes).toEqual(['ocs-invalid-address', 'ocs-invalid-input', 'ocs-invalid-input', 'ocs-invalid-input', 'ocs-invalid-address']);
    expect(sent().length).toBe(before);
    expect(alice.parley.buddies.find(accountId, INJECTED)).toBeUndefined();
    expect(alice.parley.buddies.find(accountId, 'carol@example.test')).toBeUndefined();
    expect(alice.parley.buddies.find(accountId, 'bob@example.test')?.buddy.alias).toBe('Bob');
  });

  it('removing a name that is no address sends nothing; good values still work after the refusals', async () => {
    const before = sent().length;
    await connections[0]!.removeBuddy(INJECTED);
    expect(sent().length).toBe(before);

    await alice.parley.buddies.add(accountId, 'sip:Carol@Example.test', { alias: 'Carol', group: 'Team' });
    expect(server.events.filter((e) => e.kind === 'service').map((e) => e.detail)).toEqual(expect.arrayContaining(['addGroup alice@example.test', 'setContact alice@example.test']));
  });
});
