/**
 * Delivery reports from a conference's IM MCU ([MS-CONFIM] 3.3.5.2) on the
 * test OCS server: the MCU takes a message with a 202 and its Message-Id,
 * relays it, and reports to the sender in an `application/ms-imdn+xml`
 * BENOTIFY whom it could not reach. A participant the MCU cannot reach →
 * the sender's Parley shows that message as not delivered to that
 * participant (messageFailed, code not-delivered, a line in the chat);
 * everyone else gets it, and nothing else is lost. Hostile reports
 * (malformed XML, another document, an unknown message id, a report for a
 * message never sent, a CR/LF recipient) change nothing. A MESSAGE the MCU
 * refuses outright fails at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createParley, type ConversationInfo, type ConversationView, type Message, type ParleyError } from '@parley/core';
import { RecordingUi } from '../../../test/helpers/recording-ui.js';
import { waitFor } from '../../../test/helpers/wait.js';
import type { OcsConnection } from '../src/connection.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { addTestAccount, startParley, testCertificates, type TestParley } from './helpers.js';

const users = ['alice', 'bob', 'carol'].map((n) => ({ address: `${n}@example.test`, login: n, password: `${n}-pw` }));

let server: OcsServer;
const running: TestParley[] = [];

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({ users, tls: { key, cert } });
});
beforeEach(() => {
  reportsBefore = allReports().length;
});
afterEach(async () => {
  server.conferences.unreachable.clear();
  server.conferences.options = {};
  while (running.length) await running.pop()!.cleanup();
});
afterAll(async () => {
  await server.close();
});

interface Account {
  t: TestParley;
  id: string;
  address: string;
  received: Message[];
  failures: Array<{ message: Message; conversation: ConversationInfo; error: ParleyError }>;
  connection(): OcsConnection;
  chat(room: string): ConversationView | undefined;
}

async function signIn(name: 'alice' | 'bob' | 'carol'): Promise<Account> {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { connections, ui: new RecordingUi((r) => (r.kind === 'confirm' ? true : undefined)) });
  running.push(t);
  const account = await addTestAccount(t.parley, server.port, name);
  const received: Message[] = [];
  const failures: Account['failures'] = [];
  t.parley.events.on('messageReceived', (m) => received.push(m));
  t.parley.events.on('messageFailed', (message, conversation, error) => failures.push({ message, conversation, error }));
  await t.parley.accounts.connect(account.id);
  return {
    t,
    id: account.id,
    address: `${name}@example.test`,
    received,
    failures,
    connection: () => connections[connections.length - 1]!,
    chat: (room) => t.parley.conversations.find(account.id, 'chat', room),
  };
}

const textsIn = (a: Account, room: string) => a.received.filter((m) => m.conversationId === a.chat(room)?.id).map((m) => `${m.sender}: ${m.text}`);
const errorLines = (c: ConversationView | undefined) => (c?.messages ?? []).filter((m) => m.flags.error === true).map((m) => m.text);
/** The MCU's reports since the test began (the server runs for the whole file). */
let reportsBefore = 0;
const allReports = () => server.events.filter((e) => e.kind === 'mcu-report').map((e) => e.detail);
const reports = () => allReports().slice(reportsBefore);

async function threeInAConference(): Promise<{ alice: Account; bob: Account; carol: Account; room: string }> {
  const alice = await signIn('alice');
  const bob = await signIn('bob');
  const carol = await signIn('carol');
  const room = await alice.connection().createConference('', ['bob@example.test', 'carol@example.test']);
  const everyone = users.map((u) => u.address).sort().join();
  for (const a of [alice, bob, carol]) {
    await waitFor(() => {
      const c = a.chat(room);
      return c?.joined && [...c.participants.keys()].sort().join() === everyone;
    }, `${a.address} to see all three in the conference`);
  }
  await waitFor(() => server.conferences.membersOf(room).filter((m) => m.inChat).length === 3, 'all three in the MCU');
  return { alice, bob, carol, room };
}

describe('delivery reports from the conference IM service', () => {
  it('a participant the MCU cannot reach: the sender sees which message missed whom; the others get it, nothing else is lost', async () => {
    server.conferences.options.relayTimeoutMs = 1500;
    const { alice, bob, carol, room } = await threeInAConference();
    const chat = alice.chat(room)!;

    // Carol is cut off from the MCU: what it relays to her is lost, and after its timeout it reports 408 for her.
    server.conferences.unreachable.add('carol@example.test');
    const sent = (await alice.t.parley.conversations.send(chat.id, 'budget is due friday'))!;
    expect(sent.delivery).toBe('sent');
    expect(sent.protocolId).toBeDefined();
    await waitFor(() => alice.failures.length === 1, 'alice to be told the message missed carol');
    const { message, conversation, error } = alice.failures[0]!;
    expect(message.id).toBe(sent.id);
    expect(message.text).toBe('budget is due friday');
    expect(message.notDeliveredTo).toEqual(['carol@example.test']);
    expect(message.delivery).toBe('sent');
    expect(conversation.id).toBe(chat.id);
    expect(error.code).toBe('not-delivered');
    expect(error.message).toMatch(/^Not delivered to carol@example\.test: 408 \(did not answer in time\): Request Timeout$/);
    expect(errorLines(chat)).toEqual([`${error.message}: "budget is due friday"`]);
    expect(reports()).toContain('alice@example.test 1 bob@example.test=200,carol@example.test=408');
    await waitFor(() => textsIn(bob, room).includes('alice@example.test: budget is due friday'), 'bob to read the message');
    expect(textsIn(carol, room)).toEqual([]);

    // Reachable again: the next messages reach everyone and no failure is reported for them.
    server.conferences.unreachable.clear();
    await alice.t.parley.conversations.send(chat.id, 'and the slides');
    await bob.t.parley.conversations.send(bob.chat(room)!.id, 'noted');
    await waitFor(() => textsIn(carol, room).length === 2, 'carol to read the two later messages');
    expect(textsIn(carol, room)).toEqual(['alice@example.test: and the slides', 'bob@example.test: noted']);
    await waitFor(() => reports().length === 3, 'the MCU to report on all three messages');
    expect(reports().slice(1)).toEqual(['alice@example.test 2 bob@example.test=200,carol@example.test=200', 'bob@example.test 3 alice@example.test=200,carol@example.test=200']);
    await waitFor(() => textsIn(alice, room).includes('bob@example.test: noted'), 'alice to read bob');
    expect(alice.failures).toHaveLength(1);
    expect(bob.failures).toEqual([]);
    // Alice's conversation keeps all she wrote, in order, with the one line about carol.
    expect(chat.messages.filter((m) => m.direction === 'outgoing' && !m.flags.system).map((m) => m.text)).toEqual(['budget is due friday', 'and the slides']);
    expect(errorLines(chat)).toHaveLength(1);
  });

  it('an MCU that refuses a message outright: it fails at once as not sent, and the next one goes through', async () => {
    const { alice, bob, carol, room } = await threeInAConference();
    const chat = alice.chat(room)!;
    server.conferences.options.refuseMessages = { status: 503, reason: 'Service Unavailable' };
    const refused = (await alice.t.parley.conversations.send(chat.id, 'refused one'))!;
    expect(refused.delivery).toBe('failed');
    expect(alice.failures).toHaveLength(1);
    expect(alice.failures[0]!.error.code).toBe('send-failed');
    expect(alice.failures[0]!.error.message).toBe('Not sent: the conference refused it (503 Service Unavailable)');
    expect(alice.failures[0]!.message.notDeliveredTo).toBeUndefined();
    expect(server.events.some((e) => e.kind === 'mcu-refused' && e.detail === 'alice@example.test 503')).toBe(true);

    server.conferences.options.refuseMessages = undefined;
    await alice.t.parley.conversations.send(chat.id, 'this one goes');
    for (const p of [bob, carol]) await waitFor(() => textsIn(p, room).length === 1, `${p.address} to read alice`);
    for (const p of [bob, carol]) expect(textsIn(p, room)).toEqual(['alice@example.test: this one goes']);
    expect(chat.messages.filter((m) => m.direction === 'outgoing' && !m.flags.system).map((m) => [m.text, m.delivery])).toEqual([
      ['refused one', 'failed'],
      ['this one goes', 'sent'],
    ]);
    expect(alice.failures).toHaveLength(1);
  });

  it('hostile reports from the MCU change nothing: malformed, another document, unknown or never-sent message ids, CR/LF recipients', async () => {
    const { alice, bob, room } = await threeInAConference();
    const chat = alice.chat(room)!;
    await alice.t.parley.conversations.send(chat.id, 'first');
    // The MCU's own report for it (everyone reached) comes first: later ones for this id are stale.
    await waitFor(() => reports().length === 1, 'the MCU to report on the first message');
    const imdn = (inner: string) => `<?xml version="1.0"?><imdn xmlns="http://schemas.microsoft.com/rtc/2005/08/imdn">${inner}</imdn>`;
    const failing = (id: string, uri: string) => imdn(`<message-id>${id}</message-id><recipient uri="${uri}"><status>480</status></recipient>`);
    const hostile = [
      '<imdn xmlns="http://schemas.microsoft.com/rtc/2005/08/imdn"><message-id>1</message-id><recipient uri="&lt;sip:bob@example.test&gt;"><status>408',
      '<conference-info xmlns="urn:ietf:params:xml:ns:conference-info"/>',
      imdn('<recipient uri="&lt;sip:bob@example.test&gt;"><status>408</status></recipient>'),
      failing('999', '&lt;sip:bob@example.test&gt;'),
      failing('x'.repeat(500), '&lt;sip:bob@example.test&gt;'),
      failing('1', '&lt;sip:bob@example.test&gt;'),
      failing('2', '&lt;sip:bob@example.test&#13;&#10;Injected: yes&gt;'),
      '\u0000\u0001 not xml at all',
      '',
    ];
    for (const content of hostile) expect(server.conferences.mcuBenotifyRaw(room, 'alice@example.test', { type: 'application/ms-imdn+xml', content })).toBe(true);
    expect(server.conferences.mcuBenotifyRaw(room, 'alice@example.test', { type: 'text/plain', content: 'hello' })).toBe(true);
    // Processed in order: the message sent after them is the definite sign they were all read.
    await bob.t.parley.conversations.send(bob.chat(room)!.id, 'still here');
    await waitFor(() => textsIn(alice, room).includes('bob@example.test: still here'), 'alice to read bob after the hostile reports');
    expect(alice.failures).toEqual([]);
    expect(errorLines(chat)).toEqual([]);
    expect(alice.t.parley.accounts.status(alice.id).state).toBe('online');

    // A report for a message alice did send and the MCU has not reported on yet, naming a recipient
    // by an address with a CR/LF and a reason with one: the failure is shown, on one line, unnamed.
    server.conferences.options.relayTimeoutMs = 3000;
    server.conferences.unreachable.add('bob@example.test');
    const second = (await alice.t.parley.conversations.send(chat.id, 'second'))!;
    const id = second.protocolId!.split('/').pop()!;
    const crlf = imdn(
      `<message-id>${id}</message-id><recipient uri="&lt;sip:bob@example.test&#13;&#10;Injected: yes&gt;"><status>480</status>` +
        `<entry><key>ms-diagnostics</key><value>15;reason="gone&#13;&#10;Injected: yes"</value></entry></recipient>`,
    );
    expect(server.conferences.mcuBenotifyRaw(room, 'alice@example.test', { type: 'application/ms-imdn+xml', content: crlf })).toBe(true);
    await waitFor(() => alice.failures.length === 1, 'alice to be told of the failure');
    expect(alice.failures[0]!.message.id).toBe(second.id);
    expect(alice.failures[0]!.message.notDeliveredTo).toEqual(['a participant the server did not name']);
    expect(alice.failures[0]!.error.message).toBe('Not delivered to a participant the server did not name: 480 (is not available): gone Injected: yes');
    // The MCU's own report, after its timeout, comes second: the message was reported on already.
    await waitFor(() => reports().includes(`alice@example.test ${id} bob@example.test=408,carol@example.test=200`), 'the MCU to report on the second message');
    server.conferences.unreachable.clear();
    await bob.t.parley.conversations.send(bob.chat(room)!.id, 'back');
    await waitFor(() => textsIn(alice, room).includes('bob@example.test: back'), 'alice to read bob again');
    expect(alice.failures).toHaveLength(1);
  });
});

describe('delivery reports with the plugin in its worker thread', () => {
  const builtPlugin = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it('the report crosses the boundary: the sender in a worker sees which message missed whom', async () => {
    server.conferences.options.relayTimeoutMs = 1500;
    const home = mkdtempSync(join(tmpdir(), 'ocs-imdn-worker-'));
    const parley = await createParley({ home, isolation: 'worker', pluginModules: [builtPlugin], passphrase: 'test', secretStore: 'file', discover: false, history: false, tls: { ca: [testCertificates().caCert] }, log: () => {} });
    cleanups.push(async () => {
      await parley.shutdown();
      rmSync(home, { recursive: true, force: true });
    });
    const account = await parley.accounts.add({
      protocol: 'ocs',
      username: 'alice@example.test',
      settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'ntlm', login: 'alice' },
      secrets: { password: 'alice-pw' },
    });
    const failures: Array<{ message: Message; error: ParleyError }> = [];
    parley.events.on('messageFailed', (message, _c, error) => failures.push({ message, error }));
    await parley.accounts.connect(account.id);
    const bob = await signIn('bob');
    const carol = await signIn('carol');
    const started = await parley.runCommand('/conference', { conversationId: parley.conversations.openIm(account.id, 'bob@example.test').id });
    const room = /Started a group conversation: (\S+)$/.exec(String(started))![1]!;
    const inAlice = parley.conversations.find(account.id, 'chat', room)!;
    for (const who of ['bob@example.test', 'carol@example.test']) await parley.runCommand(`/invite ${who}`, { conversationId: inAlice.id });
    await waitFor(() => server.conferences.membersOf(room).filter((m) => m.inChat).length === 3, 'all three in the MCU');

    server.conferences.unreachable.add('bob@example.test');
    const sent = (await parley.conversations.send(inAlice.id, 'across the boundary'))!;
    await waitFor(() => failures.length === 1, 'alice to be told the message missed bob');
    expect(failures[0]!.message.id).toBe(sent.id);
    expect(failures[0]!.message.notDeliveredTo).toEqual(['bob@example.test']);
    expect(failures[0]!.error.code).toBe('not-delivered');
    await waitFor(() => textsIn(carol, room).includes('alice@example.test: across the boundary'), 'carol to read alice');
    expect(textsIn(bob, room)).toEqual([]);
  });
});
