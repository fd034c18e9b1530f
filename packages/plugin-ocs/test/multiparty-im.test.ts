/**
 * Group conversations without an MCU (Office Communicator 2005's multiparty
 * IM, which pidgin-sipe speaks) between Parley accounts on the test OCS
 * server: a third person added to a running IM (the newcomer's triggered
 * INVITE turns the other party's IM into the group), messages from each
 * party in order, the roster, a party leaving with BYE; and INVITEs with
 * hostile multiparty headers injected by the server.
 */
import { describe, expect, it } from 'vitest';
import type { Parley } from '@parley/core';
import { addTestAccount, recordChats, startParley, tlsServerPerFile, type ChatRecord, type TestParley } from './helpers.js';
import type { OcsConnection } from '../src/connection.js';

const users = ['alice', 'bob', 'carol', 'mallory'].map((n) => ({ address: `${n}@example.test`, login: n, password: `${n}-pw` }));

const ocs = tlsServerPerFile(users);
const running = ocs.running;

interface Party extends ChatRecord {
  t: TestParley;
  id: string;
  connection: OcsConnection;
  system: string[];
}

async function signIn(name: string): Promise<Party> {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { connections });
  running.push(t);
  const account = await addTestAccount(t.parley, ocs.server.port, name);
  const party: Party = { t, id: account.id, connection: undefined as unknown as OcsConnection, ...recordChats(t.parley), system: [] };
  await t.parley.accounts.connect(account.id);
  party.connection = connections[connections.length - 1]!;
  return party;
}

const chatRooms = (parley: Parley, accountId: string) =>
  parley.conversations
    .list()
    .filter((c) => c.accountId === accountId && c.kind === 'chat' && c.joined)
    .map((c) => c.name);

const conversationId = (p: Party, room: string) => p.t.parley.conversations.find(p.id, 'chat', room)!.id;

describe('group conversations without an MCU between Parley accounts', () => {
  it('a third person added to a running IM: all three in one group, messages in order, a party leaving is seen', async () => {
    const [alice, bob, carol] = [await signIn('alice'), await signIn('bob'), await signIn('carol')];
    await bob.t.parley.conversations.sendIm(bob.id, 'alice@example.test', 'Hi Alice, just us so far');
    await expect.poll(() => alice.connection.features?.im.isOpen('bob@example.test'), { timeout: 15_000 }).toBe(true);

    // Bob adds Carol: his IM with Alice keeps its Call-ID and becomes the group.
    const room = await bob.connection.features!.multiparty!.start(['alice@example.test', 'carol@example.test']);
    expect(room).toMatch(/^multiparty:/);
    for (const p of [alice, bob, carol]) {
      await expect.poll(() => chatRooms(p.t.parley, p.id), { timeout: 20_000 }).toEqual([room]);
      await expect.poll(() => p.rosters.get(room), { timeout: 20_000 }).toEqual(['alice@example.test', 'bob@example.test', 'carol@example.test']);
    }
    // Carol's triggered INVITE reached Alice, with the IM's Call-ID; Alice's IM became the group.
    expect(ocs.server.events.some((e) => e.kind === 'routed' && e.detail === 'INVITE carol@example.test -> alice@example.test')).toBe(true);
    expect(alice.connection.features?.im.isOpen('bob@example.test')).toBe(false);
    // The group chat starts with the IM's messages for the two who had it, not for Carol.
    const scrollback = (p: Party) => p.t.parley.conversations.find(p.id, 'chat', room)!.messages.filter((m) => !m.flags.system).map((m) => m.text);
    for (const p of [alice, bob]) expect(scrollback(p)).toEqual(['Hi Alice, just us so far']);
    expect(scrollback(carol)).toEqual([]);

    // Each party's messages reach the two others, in the order sent.
    for (const [from, texts] of [
      [carol, ['carol 1', 'carol 2']],
      [alice, ['alice 1', 'alice 2 — ünïcödé']],
      [bob, ['bob 1']],
    ] as const) {
      for (const text of texts) await from.t.parley.conversations.send(conversationId(from, room), text);
    }
    const names = new Map([[alice, 'alice@example.test'], [bob, 'bob@example.test'], [carol, 'carol@example.test']]);
    const expected = (p: Party) =>
      [
        ['carol@example.test', 'carol 1'],
        ['carol@example.test', 'carol 2'],
        ['alice@example.test', 'alice 1'],
        ['alice@example.test', 'alice 2 — ünïcödé'],
        ['bob@example.test', 'bob 1'],
      ].filter(([sender]) => sender !== names.get(p));
    for (const p of [alice, bob, carol]) {
      await expect.poll(() => p.messages.filter((m) => m.room === room).map((m) => [m.sender, m.text]), { timeout: 20_000 }).toEqual(expected(p));
    }

    // Carol leaves: a BYE in each of her dialogs; Alice and Bob see her go and go on together.
    await carol.t.parley.chats.leave(conversationId(carol, room));
    for (const p of [alice, bob]) await expect.poll(() => p.rosters.get(room), { timeout: 15_000 }).toEqual(['alice@example.test', 'bob@example.test']);
    await alice.t.parley.conversations.send(conversationId(alice, room), 'still here');
    await expect.poll(() => bob.messages.map((m) => m.text), { timeout: 15_000 }).toContain('still here');
    expect(carol.messages.map((m) => m.text)).not.toContain('still here');
    expect(ocs.server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });
});

describe('hostile multiparty INVITEs', () => {
  /** An INVITE from mallory (signed in nowhere) that the ocs.server signs for bob's association. */
  const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=session\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=x-ms-message 5060 sip null\r\n';
  const hostileInvite = (callId: string, headers: string[]) =>
    [
      `INVITE sip:bob@example.test SIP/2.0`,
      `Via: SIP/2.0/TLS 127.0.0.1:${ocs.server.port};branch=z9hG4bK${callId.replace(/\W/g, '')}`,
      'From: <sip:mallory@example.test>;tag=m1;epid=0123456789',
      'To: <sip:bob@example.test>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      'Contact: <sip:mallory@example.test>',
      ...headers,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(SDP)}`,
      '',
      SDP,
    ].join('\r\n');
  const answered = (callId: string) => ocs.server.events.find((e) => e.kind === 'response' && e.detail.endsWith(`INVITE ${callId}`))?.detail.split(' ')[0];

  it('EndPoints entries with line breaks, other schemes or no address are dropped; the group works without a roster manager', async () => {
    const bob = await signIn('bob');
    const alice = await signIn('alice');
    const before = ocs.server.events.length;
    // Folded across lines (legal), one entry with a bare LF inside, one tel: URI, one nonsense; no Roster-Manager.
    expect(
      ocs.server.sendRaw('bob@example.test', hostileInvite('hostile-lf', ['EndPoints: <sip:mallory@example.test>, <sip:bob@example.test>,', ' <sip:evil@example.test\nVia: SIP/2.0/TLS evil>, <tel:+1555>, <sip:alice@example.test>, junk', 'TriggeredInvite: TRUE']), { sign: true }),
    ).toBe(1);
    await expect.poll(() => answered('hostile-lf'), { timeout: 15_000 }).toBe('200');
    await expect.poll(() => chatRooms(bob.t.parley, bob.id), { timeout: 15_000 }).toEqual(['multiparty:hostile-lf']);
    // Bob connects to Alice (a triggered INVITE, the same Call-ID), and to nobody else.
    await expect.poll(() => bob.rosters.get('multiparty:hostile-lf'), { timeout: 15_000 }).toEqual(['alice@example.test', 'bob@example.test', 'mallory@example.test']);
    await expect.poll(() => alice.rosters.get('multiparty:hostile-lf'), { timeout: 15_000 }).toEqual(['alice@example.test', 'bob@example.test']);
    const invites = ocs.server.events.slice(before).filter((e) => e.kind === 'routed' && e.detail.startsWith('INVITE bob@example.test')).map((e) => e.detail);
    expect(invites).toEqual(['INVITE bob@example.test -> alice@example.test']);
    expect(ocs.server.events.filter((e) => e.kind === 'unparseable')).toEqual([]);
  });

  it('an INVITE naming hundreds of parties is declined with a reason, and nobody is invited', async () => {
    const bob = await signIn('bob');
    const notices: string[] = [];
    bob.t.parley.events.on('messageWritten', (m, c) => {
      if (c.kind === 'im' && c.name === 'mallory@example.test') notices.push(m.text);
    });
    const many = Array.from({ length: 400 }, (_, i) => `<sip:user${i}@example.test>`).join(', ');
    const before = ocs.server.events.length;
    ocs.server.sendRaw('bob@example.test', hostileInvite('hostile-many', ['Roster-Manager: sip:mallory@example.test', `EndPoints: <sip:mallory@example.test>, <sip:bob@example.test>, ${many}`, 'Require: com.microsoft.rtc-multiparty']), { sign: true });
    await expect.poll(() => answered('hostile-many'), { timeout: 15_000 }).toBe('486');
    expect(chatRooms(bob.t.parley, bob.id)).toEqual([]);
    expect(ocs.server.events.slice(before).filter((e) => e.kind === 'request' && e.detail === 'INVITE')).toEqual([]);
    await expect.poll(() => notices, { timeout: 15_000 }).toEqual(['mallory@example.test invited you to a group conversation with more than 32 parties; it was declined']);
  });

  it('an INVITE with a Call-ID that cannot name a conversation, or from no address, is refused', async () => {
    const bob = await signIn('bob');
    ocs.server.sendRaw('bob@example.test', hostileInvite('x'.repeat(300), ['Require: com.microsoft.rtc-multiparty', 'EndPoints: <sip:mallory@example.test>, <sip:bob@example.test>']), { sign: true });
    await expect.poll(() => answered('x'.repeat(300)), { timeout: 15_000 }).toBe('400');
    expect(chatRooms(bob.t.parley, bob.id)).toEqual([]);
  });

  it('in-dialog requests from a party: malformed election XML, a SetRM for someone else, REFERs when not roster manager or with a bad target, a stranger, a BYE with wrong tags', async () => {
    const bob = await signIn('bob');
    const carol = await signIn('carol');
    const callId = 'hostile-dialog';
    ocs.server.sendRaw('bob@example.test', hostileInvite(callId, ['EndPoints: <sip:mallory@example.test>, <sip:bob@example.test>', 'Require: com.microsoft.rtc-multiparty']), { sign: true });
    await expect.poll(() => answered(callId), { timeout: 15_000 }).toBe('200');
    const room = `multiparty:${callId}`;
    await expect.poll(() => bob.rosters.get(room), { timeout: 15_000 }).toEqual(['bob@example.test', 'mallory@example.test']);
    let cseq = 1;
    const inDialog = (method: string, from: string, headers: string[], body = '', type?: string) =>
      [
        `${method} sip:bob@example.test SIP/2.0`,
        `Via: SIP/2.0/TLS 127.0.0.1:${ocs.server.port};branch=z9hG4bK${method}${++cseq}x`,
        `From: <sip:${from}>;tag=m1`,
        'To: <sip:bob@example.test>;tag=unknown',
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
        ...headers,
        ...(type ? [`Content-Type: ${type}`] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
    // Bob's answers to what we send him (carol's answers to bob's INVITE are left out).
    const responses = () => ocs.server.events.filter((e) => e.kind === 'response' && e.detail.endsWith(` ${callId}`) && !e.detail.includes(' INVITE ')).map((e) => e.detail.split(' ').slice(0, 2).join(' '));
    const send = async (text: string, expected: string) => {
      const count = responses().length;
      ocs.server.sendRaw('bob@example.test', text, { sign: true });
      await expect.poll(() => responses().slice(count), { timeout: 15_000 }).toEqual([expected]);
    };
    const mim = (inner: string) => `<?xml version="1.0"?><action xmlns="http://schemas.microsoft.com/sip/multiparty/">${inner}</action>`;
    await send(inDialog('INFO', 'mallory@example.test', [], '<!DOCTYPE a [<!ENTITY x "y">]><action/>', 'application/x-ms-mim'), '400 INFO');
    await send(inDialog('INFO', 'mallory@example.test', [], mim('<RequestRM uri="sip:mallory@example.test" bid="5"/>'), 'application/x-ms-mim'), '200 INFO');
    // Mallory names eve roster manager: ignored. Bob is not it either, so a REFER is refused.
    await send(inDialog('INFO', 'mallory@example.test', [], mim('<SetRM uri="sip:eve@example.test"/>'), 'application/x-ms-mim'), '200 INFO');
    await send(inDialog('REFER', 'mallory@example.test', ['Refer-To: <sip:carol@example.test>']), '403 REFER');
    // A stranger's MESSAGE in the conversation: 481, nothing shown.
    await send(inDialog('MESSAGE', 'carol@example.test', [], 'I was never invited', 'text/plain'), '481 MESSAGE');
    // Mallory makes bob the roster manager: a REFER naming bob himself is refused, a good one invites.
    // (One whose Refer-To is no SIP URI at all never gets past sip.js's parser.)
    await send(inDialog('INFO', 'mallory@example.test', [], mim('<SetRM uri="sip:bob@example.test"/>'), 'application/x-ms-mim'), '200 INFO');
    await send(inDialog('REFER', 'mallory@example.test', ['Refer-To: <sip:bob@example.test>']), '400 REFER');
    await send(inDialog('REFER', 'mallory@example.test', ['Refer-To: <sip:carol@example.test>', 'Referred-By: <sip:mallory@example.test>']), '202 REFER');
    await expect.poll(() => carol.rosters.get(room), { timeout: 15_000 }).toEqual(['bob@example.test', 'carol@example.test']);
    await expect.poll(() => bob.rosters.get(room), { timeout: 15_000 }).toEqual(['bob@example.test', 'carol@example.test', 'mallory@example.test']);
    // The roster manager reports how an invitation went (Event: refer); another event is refused.
    await send(inDialog('NOTIFY', 'mallory@example.test', ['Event: refer', 'Subscription-State: terminated'], 'SIP/2.0 200 OK\r\n', 'message/sipfrag'), '200 NOTIFY');
    await send(inDialog('NOTIFY', 'mallory@example.test', ['Event: presence'], 'x', 'text/plain'), '489 NOTIFY');
    // A BYE whose tags match no dialog ends nothing.
    await send(inDialog('BYE', 'mallory@example.test', []), '481 BYE');
    expect(bob.rosters.get(room)).toEqual(['bob@example.test', 'carol@example.test', 'mallory@example.test']);
    expect(bob.messages).toEqual([]);
  });
});
