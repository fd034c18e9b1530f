/**
 * Group conversations through the test OCS server's focus factory, focus,
 * conference event package and IM MCU ([MS-CONFBAS], [MS-CONFPRO],
 * [MS-CONFIM]): two and three Parley accounts in one conference (created,
 * invited, roster with names and roles, messages in order, a leave seen by
 * the others, rejoined after the connection drops), a one-to-one
 * conversation turned into a group one, invitations declined, and hostile
 * servers (a roster NOTIFY with unknown elements and a CR/LF display name,
 * a truncated C3P answer, an MCU that drops mid-conference).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createParley, type ConversationView, type Message, type Parley, type UiRequest } from '@parley/core';
import { RecordingUi } from '../../../test/helpers/recording-ui.js';
import { waitFor } from '../../../test/helpers/wait.js';
import type { OcsConnection } from '../src/connection.js';
import { addTestAccount, startParley, testCertificates, tlsServerPerFile, type TestParley } from './helpers.js';

const users = [
  { address: 'alice@example.test', login: 'alice', password: 'alice-pw', displayName: 'Alice Liddell' },
  { address: 'bob@example.test', login: 'bob', password: 'bob-pw', displayName: 'Bob Builder' },
  { address: 'carol@example.test', login: 'carol', password: 'carol-pw', displayName: 'Carol' },
];

const ocs = tlsServerPerFile(users, (server) => {
  server.conferences.options = {};
});
const running = ocs.running;

interface Account {
  t: TestParley;
  id: string;
  address: string;
  ui: RecordingUi;
  received: Message[];
  connection(): OcsConnection;
  chat(room: string): ConversationView | undefined;
}

const accepting = (request: UiRequest) => (request.kind === 'confirm' ? true : undefined);

async function signIn(name: 'alice' | 'bob' | 'carol', answer: (request: UiRequest) => unknown = accepting): Promise<Account> {
  const user = users.find((u) => u.login === name)!;
  const connections: OcsConnection[] = [];
  const ui = new RecordingUi(answer);
  const t = await startParley({}, undefined, { connections, ui });
  running.push(t);
  const account = await addTestAccount(t.parley, ocs.server.port, name);
  const received: Message[] = [];
  t.parley.events.on('messageReceived', (m) => received.push(m));
  await t.parley.accounts.connect(account.id);
  return {
    t,
    id: account.id,
    address: user.address,
    ui,
    received,
    connection: () => connections[connections.length - 1]!,
    chat: (room) => t.parley.conversations.find(account.id, 'chat', room),
  };
}

const nicks = (c: ConversationView | undefined) => [...(c?.participants.keys() ?? [])].sort();
const systemLines = (c: ConversationView | undefined) => (c?.messages ?? []).filter((m) => m.flags.system).map((m) => m.text);
const textsIn = (a: Account, room: string) => a.received.filter((m) => m.conversationId === a.chat(room)?.id).map((m) => `${m.sender}: ${m.text}`);

async function inRoom(a: Account, room: string, members: string[]): Promise<ConversationView> {
  return waitFor(() => {
    const c = a.chat(room);
    return c?.joined && nicks(c).join() === [...members].sort().join() ? c : undefined;
  }, `${a.address} to see ${members.join(', ')} in the conversation`);
}

describe('group conversations on the test OCS server', () => {
  it('three accounts in one conference: invited, roster with names and roles, messages in order, a leave seen by the others', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const carol = await signIn('carol');
    const room = await alice.connection().createConference('Quarterly plans', ['bob@example.test']);
    expect(room).toMatch(/^sip:alice@example\.test;gruu;opaque=app:conf:focus:id:[0-9A-F]{32}$/);
    // Bob was asked, accepted, and is in by the invitation alone; Carol joins by the address, as typed after /join.
    expect(bob.ui.requests.map((r) => r.request.title)).toEqual(['alice@example.test invites you to a group conversation']);
    const typed = `conf:${room}`;
    await carol.t.parley.chats.join(carol.id, typed);
    const everyone = ['alice@example.test', 'bob@example.test', 'carol@example.test'];
    const inAlice = await inRoom(alice, room, everyone);
    await inRoom(bob, room, everyone);
    await inRoom(carol, typed, everyone);
    expect(inAlice.participants.get('alice@example.test')).toEqual({ nick: 'alice@example.test', realName: 'Alice Liddell', role: 'owner', roleLabel: 'organizer' });
    expect(inAlice.participants.get('carol@example.test')).toEqual({ nick: 'carol@example.test', realName: 'Carol', role: 'member', roleLabel: 'attendee' });
    expect(inAlice.topic).toBe('Quarterly plans');
    expect(inAlice.title).toBe('Quarterly plans');
    expect(systemLines(inAlice)).toEqual(expect.arrayContaining(['bob@example.test joined', 'carol@example.test joined']));

    // Messages in order, each with its author, from all three.
    for (let i = 1; i <= 5; i++) await alice.t.parley.conversations.send(inAlice.id, `alice ${i}`);
    await bob.t.parley.conversations.send(bob.chat(room)!.id, 'bob here');
    await carol.t.parley.conversations.send(carol.chat(typed)!.id, 'carol here');
    const fromAlice = ['alice@example.test: alice 1', 'alice@example.test: alice 2', 'alice@example.test: alice 3', 'alice@example.test: alice 4', 'alice@example.test: alice 5'];
    await waitFor(() => textsIn(bob, room).length === 6 && textsIn(carol, typed).length === 6, 'bob and carol to read six messages');
    expect(textsIn(bob, room)).toEqual([...fromAlice, 'carol@example.test: carol here']);
    expect(textsIn(carol, typed)).toEqual([...fromAlice, 'bob@example.test: bob here']);
    await waitFor(() => textsIn(alice, room).length === 2, 'alice to read two messages');
    expect(textsIn(alice, room)).toEqual(['bob@example.test: bob here', 'carol@example.test: carol here']);
    expect(ocs.server.conferences.conferences.get(room.split(':id:')[1]!)!.messages).toHaveLength(7);

    // Carol leaves: the others see it; she is out of the focus too (BYE to the MCU and the focus).
    await carol.t.parley.chats.leave(carol.chat(typed)!.id);
    expect(carol.chat(typed)?.joined).toBe(false);
    await inRoom(alice, room, ['alice@example.test', 'bob@example.test']);
    await inRoom(bob, room, ['alice@example.test', 'bob@example.test']);
    expect(systemLines(bob.chat(room))).toContain('carol@example.test left');
    await waitFor(() => ocs.server.conferences.membersOf(room).every((m) => m.address !== 'carol@example.test'), 'carol to be out of the focus');
    expect(ocs.server.events.some((e) => e.kind === 'conference-unsubscribed' && e.detail.startsWith('carol@example.test'))).toBe(true);

    // The subject changes through the focus and reaches everyone.
    await alice.t.parley.chats.setTopic(inAlice.id, 'Plans, revised');
    await waitFor(() => bob.chat(room)?.topic === 'Plans, revised', 'bob to see the new subject');
  });

  it('a dropped connection: each account rejoins the conference and the conversation goes on', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    // Bob is in by the invitation: the core rejoins what the plugin reported joined, too.
    const room = await alice.connection().createConference('', ['bob@example.test']);
    const both = ['alice@example.test', 'bob@example.test'];
    await inRoom(alice, room, both);
    await inRoom(bob, room, both);
    const before = ocs.server.events.filter((e) => e.kind === 'mcu-joined').length;
    ocs.server.dropConnections();
    // Both sign in again and the core rejoins the chat: two new MCU sessions.
    await waitFor(() => ocs.server.events.filter((e) => e.kind === 'mcu-joined').length >= before + 2, 'both to rejoin the MCU');
    await inRoom(alice, room, both);
    await inRoom(bob, room, both);
    await alice.t.parley.conversations.send(alice.chat(room)!.id, 'after the drop');
    await waitFor(() => textsIn(bob, room).includes('alice@example.test: after the drop'), 'bob to read the message sent after the drop');

    // The conference is gone when they come back: the rejoin fails and the chat says so.
    ocs.server.conferences.conferences.delete(room.split(':id:')[1]!);
    ocs.server.dropConnections();
    for (const a of [alice, bob]) {
      await waitFor(() => a.chat(room)?.joined === false, `${a.address}'s chat to be left`);
      expect(systemLines(a.chat(room)).some((t) => /^Not in this conversation: The conference refused us: 404/.test(t))).toBe(true);
    }
  });

  it('a one-to-one conversation becomes a group conversation when a third person is added', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const carol = await signIn('carol');
    await alice.t.parley.conversations.sendIm(alice.id, 'bob@example.test', 'just us so far');
    await waitFor(() => bob.received.find((m) => m.text === 'just us so far'), 'bob to read the first message');
    // Bob is in a conversation with Alice: her invitation moves it, without asking him.
    const room = await alice.connection().inviteToConversation({ kind: 'im', peer: 'bob@example.test' }, 'carol@example.test');
    const everyone = ['alice@example.test', 'bob@example.test', 'carol@example.test'];
    await inRoom(alice, room, everyone);
    await inRoom(bob, room, everyone);
    await inRoom(carol, room, everyone);
    expect(bob.ui.requests).toEqual([]);
    expect(carol.ui.requests).toHaveLength(1);
    expect(systemLines(alice.t.parley.conversations.find(alice.id, 'im', 'bob@example.test'))).toEqual(expect.arrayContaining([expect.stringContaining('continues as a group conversation')]));
    expect(systemLines(bob.chat(room))).toContain('Continued from the conversation with alice@example.test');
    // The group chat starts with the one-to-one conversation's messages, for both of them (and not for the newcomer).
    for (const a of [alice, bob]) expect(a.chat(room)!.messages.filter((m) => !m.flags.system).map((m) => m.text)).toEqual(['just us so far']);
    expect(carol.chat(room)!.messages.filter((m) => !m.flags.system)).toEqual([]);
    await waitFor(() => !alice.connection().features!.im.isOpen('bob@example.test') && !bob.connection().features!.im.isOpen('alice@example.test'), 'the two-party session to be closed');
    await bob.t.parley.conversations.send(bob.chat(room)!.id, 'now with carol');
    await waitFor(() => textsIn(carol, room).includes('bob@example.test: now with carol') && textsIn(alice, room).includes('bob@example.test: now with carol'), 'alice and carol to read bob');
  });

  it('on a server that gives no conference, /invite in a one-to-one conversation makes a multiparty IM instead', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const carol = await signIn('carol');
    ocs.server.conferences.options = { refuseCreate: 'conferencingNotEnabled' };
    const conferences = ocs.server.conferences.conferences.size;
    await alice.t.parley.conversations.sendIm(alice.id, 'bob@example.test', 'before the group');
    await waitFor(() => bob.received.find((m) => m.text === 'before the group'), 'bob to read the first message');
    const room = await alice.connection().inviteToConversation({ kind: 'im', peer: 'bob@example.test' }, 'carol@example.test');
    expect(room).toMatch(/^multiparty:/);
    const everyone = ['alice@example.test', 'bob@example.test', 'carol@example.test'];
    for (const a of [alice, bob, carol]) await inRoom(a, room, everyone);
    expect(ocs.server.conferences.conferences.size).toBe(conferences);
  });

  it('a declined invitation: the inviter is told, the invitee is not in the conference', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob', () => false);
    const room = await alice.connection().createConference('Declined');
    await expect(alice.connection().inviteToConversation({ kind: 'chat', room }, 'bob@example.test')).rejects.toMatchObject({ code: 'ocs-conference-failed', message: expect.stringContaining('declined') });
    expect(bob.ui.requests).toHaveLength(1);
    expect(ocs.server.conferences.membersOf(room).map((m) => m.address)).toEqual(['alice@example.test']);
    await expect(bob.t.parley.chats.join(bob.id, 'conf:sip:bob@example.test')).rejects.toMatchObject({ code: 'ocs-invalid-address' });
  });

  it('hostile rosters: unknown elements, a CR/LF display name and a truncated document change nothing they should not', async () => {
    const alice = await signIn('alice');
    const room = await alice.connection().createConference('Hostile');
    await inRoom(alice, room, ['alice@example.test']);
    // Versions that follow the server's own, so that none of these asks for the full state again.
    const next = ocs.server.conferences.conferences.get(room.split(':id:')[1]!)!.version + 1;
    const ci = (inner: string, version: number) =>
      `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" xmlns:x="urn:example:x" entity="${room}" state="partial" version="${version}">${inner}</conference-info>`;
    const hostile = ci(
      `<x:surprise><x:deeper a="1"/></x:surprise><users><user entity="sip:mallory@example.test" state="full"><display-text>Mallory&#13;&#10;Via: SIP/2.0/TLS evil</display-text><x:shoe/>` +
        `<roles><entry>presenter</entry></roles><endpoint entity="sip:mallory@example.test;gruu" session-type="chat"><status>connected</status><x:extra/></endpoint></user></users>`,
      next,
    );
    expect(ocs.server.conferences.notifyRaw(room, { type: 'application/conference-info+xml', content: hostile })).toBe(1);
    const c = await inRoom(alice, room, ['alice@example.test', 'mallory@example.test']);
    expect(c.participants.get('mallory@example.test')?.realName).toBe('Mallory Via: SIP/2.0/TLS evil');
    ocs.server.conferences.notifyRaw(room, { type: 'application/conference-info+xml', content: ci('<users><user entity="sip:mallory@example.test" state="deleted"/>', next + 1).slice(0, -25) });
    ocs.server.conferences.notifyRaw(room, { type: 'application/conference-info+xml', content: ci('<users><user entity="sip:mallory@example.test" state="deleted"/></users>', next + 1) });
    await inRoom(alice, room, ['alice@example.test']);
    expect(alice.t.parley.accounts.status(alice.id).state).toBe('online');
  });

  it('a truncated C3P answer from the focus factory is a clear error, and nothing is joined', async () => {
    const alice = await signIn('alice');
    ocs.server.conferences.options = { createAnswer: (body) => body.slice(0, body.length - 30) };
    await expect(alice.connection().createConference('Cut short')).rejects.toMatchObject({ code: 'ocs-conference-failed', message: expect.stringContaining('cannot be read') });
    ocs.server.conferences.options = { refuseCreate: 'conferencingDisabled' };
    await expect(alice.connection().createConference('Refused')).rejects.toMatchObject({ code: 'ocs-conference-failed', message: expect.stringContaining('conferencingDisabled') });
    expect(alice.t.parley.conversations.list().filter((c) => c.kind === 'chat')).toEqual([]);
  });

  it('an MCU that drops mid-conference: Parley gets back in; one that then refuses ends the conversation with a reason', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const room = await alice.connection().createConference('Fragile', ['bob@example.test']);
    await bob.t.parley.chats.join(bob.id, room);
    const both = ['alice@example.test', 'bob@example.test'];
    await inRoom(alice, room, both);
    await inRoom(bob, room, both);
    expect(ocs.server.conferences.dropMcu(room)).toBe(2);
    await waitFor(() => systemLines(alice.chat(room)).includes('Back in the conversation') && systemLines(bob.chat(room)).includes('Back in the conversation'), 'both to be back');
    await inRoom(alice, room, both);
    await alice.t.parley.conversations.send(alice.chat(room)!.id, 'still here');
    await waitFor(() => textsIn(bob, room).includes('alice@example.test: still here'), 'bob to read alice after the MCU came back');
    ocs.server.conferences.dropMcu(room, true);
    await waitFor(() => alice.chat(room)?.joined === false && bob.chat(room)?.joined === false, 'both to be out');
    expect(systemLines(alice.chat(room)).some((t) => t.startsWith('You are no longer in this conversation: its service dropped us'))).toBe(true);
    await waitFor(() => ocs.server.conferences.membersOf(room).length === 0, 'both to have left the focus');
  });
});

describe('group conversations with the plugin in its worker thread', () => {
  const builtPlugin = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  async function inWorker(name: 'alice' | 'bob' | 'carol'): Promise<{ parley: Parley; id: string; ui: RecordingUi; received: Message[] }> {
    const user = users.find((u) => u.login === name)!;
    const home = mkdtempSync(join(tmpdir(), 'ocs-conf-worker-'));
    const ui = new RecordingUi(accepting);
    const parley = await createParley({ home, isolation: 'worker', pluginModules: [builtPlugin], passphrase: 'test', secretStore: 'file', discover: false, history: false, tls: { ca: [testCertificates().caCert] }, ui, log: () => {} });
    cleanups.push(async () => {
      await parley.shutdown();
      rmSync(home, { recursive: true, force: true });
    });
    const account = await parley.accounts.add({
      protocol: 'ocs',
      username: user.address,
      settings: { server: `127.0.0.1:${ocs.server.port}`, transport: 'tls', authentication: 'ntlm', login: name },
      secrets: { password: user.password },
    });
    const received: Message[] = [];
    parley.events.on('messageReceived', (m) => received.push(m));
    await parley.accounts.connect(account.id);
    return { parley, id: account.id, ui, received };
  }

  it('/conference and /invite run across the boundary, the invitation is put to the user there, and a one-to-one conversation moves into a conference', async () => {
    const alice = await inWorker('alice');
    const bob = await inWorker('bob');
    const carol = await inWorker('carol');
    // /conference (typed in any conversation of the account) starts one; /invite in it invites bob, who is asked through his UI.
    const started = await alice.parley.runCommand('/conference Worker plans', { conversationId: alice.parley.conversations.openIm(alice.id, 'carol@example.test').id });
    const room = /Started a group conversation: (\S+)$/.exec(String(started))![1]!;
    const inAlice = alice.parley.conversations.find(alice.id, 'chat', room)!;
    expect(inAlice.joined).toBe(true);
    expect(await alice.parley.runCommand('/invite bob@example.test', { conversationId: inAlice.id })).toBe('Invited bob@example.test');
    expect(bob.ui.requests.map((r) => [r.request.title, r.context.purpose])).toEqual([['alice@example.test invites you to a group conversation', 'plugin']]);
    const inBob = await waitFor(() => bob.parley.conversations.find(bob.id, 'chat', room)?.joined && bob.parley.conversations.find(bob.id, 'chat', room), 'bob in the conference');
    await waitFor(() => inAlice.participants.size === 2 && inBob.participants.size === 2, 'both rosters');
    await bob.parley.conversations.send(inBob.id, 'from the worker');
    await waitFor(() => alice.received.find((m) => m.text === 'from the worker' && m.conversationId === inAlice.id), 'alice to read bob');

    // In a one-to-one conversation /invite makes a group one, with the messages so far.
    await carol.parley.conversations.sendIm(carol.id, 'bob@example.test', 'carol and bob');
    await waitFor(() => bob.received.find((m) => m.text === 'carol and bob'), 'bob to read carol');
    const im = carol.parley.conversations.find(carol.id, 'im', 'bob@example.test')!;
    const moved = await carol.parley.runCommand('/invite alice@example.test', { conversationId: im.id });
    const group = /continues as a group conversation: (\S+)$/.exec(String(moved))![1]!;
    for (const p of [alice, bob, carol]) await waitFor(() => p.parley.conversations.find(p.id, 'chat', group)?.participants.size === 3, 'all three in the new conference');
    expect(bob.parley.conversations.find(bob.id, 'chat', group)!.messages.filter((m) => !m.flags.system).map((m) => m.text)).toEqual(['carol and bob']);
  });
});
