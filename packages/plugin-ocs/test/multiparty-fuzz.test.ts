/**
 * Fuzzing a group conversation without an MCU through the test OCS server:
 * while bob and alice hold one, the server hands alice batches of hostile
 * multiparty INVITEs (in the group's Call-ID and in new ones) and hostile
 * in-dialog requests (election INFOs, REFERs, BYEs with unknown tags,
 * MESSAGEs of any type), each signed for her. After each batch alice is
 * online, still in the group with bob, every participant a plain address,
 * and bob's next message to the group arrives. Seed and replay:
 * test/helpers/fuzz.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Message } from '@parley/core';
import { fc, fuzzName, hostileString, runFuzz, watchEscapes } from '../../../test/helpers/fuzz.js';
import { waitForEvent } from '../../../test/helpers/wait.js';
import type { OcsConnection } from '../src/connection.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { addTestAccount, startParley, testCertificates, type TestParley } from './helpers.js';

const users = ['alice', 'bob', 'mallory'].map((n) => ({ address: `${n}@example.test`, login: n, password: `${n}-pw` }));
let server: OcsServer;
const running: TestParley[] = [];

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({ users, tls: { key, cert } });
});
afterAll(async () => {
  while (running.length) await running.pop()!.cleanup();
  await server?.close();
});

async function signIn(name: string, logs: LogRecord[] = []) {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { log: (record) => logs.push(record), connections });
  running.push(t);
  const account = await addTestAccount(t.parley, server.port, name);
  await t.parley.accounts.connect(account.id);
  return { t, id: account.id, connection: () => connections[connections.length - 1]! };
}

/** One header line's value: no CR or LF (the framer would cut the message there), anything else goes. */
const oneLine = (text: string) => text.replace(/[\r\n]/g, ' ');
const address = fc.constantFrom('bob@example.test', 'mallory@example.test', 'alice@example.test', 'nobody@example.test', 'Bob@Example.TEST');
const endpoints = fc
  .array(fc.oneof(address.map((a) => `<sip:${a}>`), address.map((a) => `<sip:${a}>;epid=${randomBytes(3).toString('hex')}`), hostileString(30, false)), { maxLength: 12 })
  .map((items) => oneLine(items.join(', ')));
const mimBody = fc.oneof(
  fc.constantFrom('RequestRM', 'SetRM', 'RequestRMResponse', 'Other').chain((name) =>
    fc.tuple(fc.oneof(address.map((a) => `sip:${a}`), hostileString(40, false)), fc.integer()).map(
      ([uri, bid]) => `<?xml version="1.0"?><action xmlns="http://schemas.microsoft.com/sip/multiparty/"><${name} uri="${uri.replace(/[<&"]/g, '')}" bid="${bid}"/></action>`,
    ),
  ),
  hostileString(300),
);

function request(method: string, callId: string, from: string, headers: string[], body = '', type?: string): string {
  return [
    `${method} sip:alice@example.test SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    `From: <sip:${from}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:alice@example.test>${method === 'INVITE' ? '' : `;tag=${randomBytes(4).toString('hex')}`}`,
    `Call-ID: ${callId}`,
    `CSeq: ${1 + (randomBytes(1)[0] ?? 0)} ${method}`,
    `Contact: <sip:${from}>`,
    ...headers,
    ...(type !== undefined ? [`Content-Type: ${type}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=session\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=x-ms-message 5060 sip null\r\n';

describe('fuzzing a group conversation without an MCU', () => {
  it(fuzzName('survives hostile multiparty INVITEs and in-dialog requests: still in the group, the next message arrives'), async () => {
    const logs: LogRecord[] = [];
    const alice = await signIn('alice', logs);
    const bob = await signIn('bob');
    const room = await bob.connection().features!.multiparty!.start(['alice@example.test']);
    const callId = room.slice('multiparty:'.length);
    await expect.poll(() => alice.t.parley.conversations.find(alice.id, 'chat', room)?.participants.has('bob@example.test'), { timeout: 15_000 }).toBe(true);
    const inBob = bob.t.parley.conversations.find(bob.id, 'chat', room)!;
    const anyCallId = fc.oneof(fc.constant(callId), fc.constant(`fuzz-${randomBytes(4).toString('hex')}`), hostileString(40, false).map(oneLine));
    const step = fc.oneof(
      fc
        .tuple(anyCallId, fc.constantFrom('mallory@example.test', 'nobody@example.test', 'alice@example.test'), endpoints, fc.option(fc.oneof(address.map((a) => `sip:${a}`), hostileString(40, false).map(oneLine))), fc.boolean(), fc.boolean())
        .map(([id, from, list, rm, triggered, require]) =>
          request('INVITE', id, from, [`EndPoints: ${list}`, ...(rm !== null ? [`Roster-Manager: ${rm}`] : []), ...(triggered ? ['TriggeredInvite: TRUE'] : []), ...(require ? ['Require: com.microsoft.rtc-multiparty'] : [])], SDP, 'application/sdp'),
        ),
      fc.tuple(fc.constantFrom('mallory@example.test', 'bob@example.test'), mimBody).map(([from, body]) => request('INFO', callId, from, [], body, 'application/x-ms-mim')),
      fc.tuple(fc.constantFrom('mallory@example.test', 'bob@example.test'), address).map(([from, target]) => request('REFER', callId, from, [`Refer-To: <sip:${target}>`])),
      fc.constantFrom('mallory@example.test', 'bob@example.test').map((from) => request('BYE', callId, from, [])),
      fc.tuple(fc.constantFrom('mallory@example.test', 'nobody@example.test'), hostileString(200), fc.constantFrom('text/plain', 'text/html', 'application/x-ms-mim', 'image/png')).map(([from, body, type]) => request('MESSAGE', callId, from, [], body, type)),
    );
    const escapes = watchEscapes();
    let serial = 0;
    await runFuzz(
      'ocs multiparty input',
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        for (const text of steps) server.sendRaw('alice@example.test', text, { sign: true });
        const marker = `to the group ${++serial}`;
        const arrived = waitForEvent(alice.t.parley.events, 'messageReceived', (m: Message) => m.text === marker, 15_000);
        await bob.t.parley.conversations.send(inBob.id, marker);
        await arrived;
        expect(alice.t.parley.accounts.status(alice.id).state).toBe('online');
        for (const conversation of alice.t.parley.conversations.list()) {
          for (const p of conversation.participants.values()) expect(p.nick).toMatch(/^[^@\s<>"]+@[^@\s<>"]+$/);
        }
        expect(alice.t.parley.conversations.find(alice.id, 'chat', room)?.participants.has('bob@example.test')).toBe(true);
      }),
      { runs: 100, timeLimitMs: 8_000 },
    );
    expect(escapes()).toEqual([]);
    expect(server.events.filter((e) => e.kind === 'unparseable')).toEqual([]);
    expect(logs.some((r) => r.level === 'warn' && /EndPoints entries|group conversation/.test(r.message))).toBe(true);
  });
});
