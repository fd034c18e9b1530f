/**
 * Typing in group conversations on the test OCS server. In a conference,
 * a participant's typing is an INFO with an RFC 3994 isComposing document
 * in its dialog with the IM MCU, which relays it to every other participant
 * with its author in `ms-sender` ([MS-CONFIM]); the others' Parley shows who
 * is typing (chatTypingChanged), and clears it on their message. A typing
 * INFO from the MCU that is malformed, another document, or names nobody
 * changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createParley, type Parley } from '@parley/core';
import { RecordingUi } from '../../../test/helpers/recording-ui.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { testCertificates } from './helpers.js';

const users = ['alice', 'bob', 'carol'].map((n) => ({ address: `${n}@example.test`, login: n, password: `${n}-pw` }));
const builtPlugin = fileURLToPath(new URL('../dist/index.js', import.meta.url));

let server: OcsServer;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({ users, tls: { key, cert } });
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(async () => {
  await server.close();
});

interface Account {
  parley: Parley;
  id: string;
  /** Every chatTypingChanged, as "participant:state". */
  typing: string[];
}

async function signIn(name: 'alice' | 'bob' | 'carol', isolation: 'none' | 'worker'): Promise<Account> {
  const user = users.find((u) => u.login === name)!;
  const home = mkdtempSync(join(tmpdir(), 'ocs-typing-'));
  const where = isolation === 'worker' ? { isolation, pluginModules: [builtPlugin] } : { plugins: [(await import('../src/index.js')).createOcsPlugin({ requestTimeoutMs: 10_000 })] };
  const parley = await createParley({ home, ...where, passphrase: 'test', secretStore: 'file', discover: false, history: false, tls: { ca: [testCertificates().caCert] }, ui: new RecordingUi((r) => (r.kind === 'confirm' ? true : undefined)), log: () => {} });
  cleanups.push(async () => {
    await parley.shutdown();
    rmSync(home, { recursive: true, force: true });
  });
  const account = await parley.accounts.add({
    protocol: 'ocs',
    username: user.address,
    settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'ntlm', login: name },
    secrets: { password: user.password },
  });
  const typing: string[] = [];
  parley.events.on('chatTypingChanged', (_c, participant, state) => typing.push(`${participant}:${state}`));
  await parley.accounts.connect(account.id);
  return { parley, id: account.id, typing };
}

const chat = (a: Account, room: string) => a.parley.conversations.find(a.id, 'chat', room);

async function threeInAConference(isolation: 'none' | 'worker') {
  const alice = await signIn('alice', isolation);
  const bob = await signIn('bob', isolation);
  const carol = await signIn('carol', isolation);
  const started = await alice.parley.runCommand('/conference Typing', { conversationId: alice.parley.conversations.openIm(alice.id, 'bob@example.test').id });
  const room = /Started a group conversation: (\S+)$/.exec(String(started))![1]!;
  const inAlice = chat(alice, room)!;
  await alice.parley.runCommand('/invite bob@example.test', { conversationId: inAlice.id });
  await alice.parley.runCommand('/invite carol@example.test', { conversationId: inAlice.id });
  for (const a of [alice, bob, carol]) await waitFor(() => chat(a, room)?.joined && chat(a, room)!.participants.size === 3, `${a.id} to see all three`);
  await waitFor(() => server.conferences.membersOf(room).filter((m) => m.inChat).length === 3, 'all three in the MCU');
  return { alice, bob, carol, room };
}

const has = (a: Account, entry: string) => () => a.typing.includes(entry);

describe.each(['none', 'worker'] as const)('typing in an OCS conference through the test MCU, isolation %s', (isolation) => {
  it('each participant sees the others typing; a message ends it', async () => {
    const { alice, bob, carol, room } = await threeInAConference(isolation);
    expect(alice.parley.plugins.protocol('ocs')?.capabilities.chatTyping).toBe(true);
    const relayedBefore = server.events.filter((e) => e.kind === 'mcu-relayed' && e.detail.startsWith('INFO')).length;

    await alice.parley.conversations.setTyping(chat(alice, room)!.id, 'typing');
    await waitFor(has(bob, 'alice@example.test:typing'), 'bob to see alice typing');
    await waitFor(has(carol, 'alice@example.test:typing'), 'carol to see alice typing');
    expect(chat(bob, room)!.chatTyping.get('alice@example.test')).toBe('typing');
    // The MCU relayed one INFO from alice, and she did not see herself typing.
    expect(server.events.filter((e) => e.kind === 'mcu-relayed' && e.detail.startsWith('INFO alice@example.test')).length).toBeGreaterThan(0);
    expect(server.events.filter((e) => e.kind === 'mcu-relayed' && e.detail.startsWith('INFO')).length).toBeGreaterThan(relayedBefore);

    // The other way: bob types, alice sees him.
    await bob.parley.conversations.setTyping(chat(bob, room)!.id, 'typing');
    await waitFor(has(alice, 'bob@example.test:typing'), 'alice to see bob typing');
    expect(alice.typing).not.toContain('alice@example.test:typing');

    // Alice's message ends her typing for the others.
    await alice.parley.conversations.send(chat(alice, room)!.id, 'the plan is ready');
    await waitFor(has(bob, 'alice@example.test:idle'), "bob to see alice's typing end");
    await waitFor(() => chat(carol, room)!.chatTyping.has('alice@example.test') === false, "carol to see alice's typing end");

    // Bob stops typing: alice hears it.
    await bob.parley.conversations.setTyping(chat(bob, room)!.id, 'idle');
    await waitFor(has(alice, 'bob@example.test:idle'), 'alice to see bob stop');
  });
});

describe('hostile typing notices from the MCU', () => {
  it('a malformed or foreign typing body changes nothing; a good one after them is shown', async () => {
    const { alice, room } = await threeInAConference('none');
    const iscomposing = 'application/im-iscomposing+xml';
    const hostile: Array<{ type: string; content: string }> = [
      { type: iscomposing, content: '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active' },
      { type: iscomposing, content: '<conference-info xmlns="urn:ietf:params:xml:ns:conference-info"/>' },
      { type: iscomposing, content: '\u0000\u0001 not xml at all' },
      { type: iscomposing, content: `<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state>${'<x>'.repeat(5000)}</isComposing>` },
      { type: 'application/xml', content: '<KeyboardActivity><status status="type"' },
      { type: 'text/plain', content: 'typing?' },
      { type: iscomposing, content: '' },
    ];
    for (const h of hostile) expect(server.conferences.mcuInfoRaw(room, 'alice@example.test', { type: h.type, content: h.content }, '<sip:bob@example.test>')).toBe(true);
    // In order: the good one after them is the definite sign they were all read.
    expect(server.conferences.mcuInfoRaw(room, 'alice@example.test', { type: iscomposing, content: '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state></isComposing>' }, '<sip:carol@example.test>')).toBe(true);
    await waitFor(() => alice.typing.length > 0, 'the good typing notice');
    expect(alice.typing).toEqual(['carol@example.test:typing']);
    expect(alice.parley.accounts.status(alice.id).state).toBe('online');
    expect(chat(alice, room)!.joined).toBe(true);
  });
});

