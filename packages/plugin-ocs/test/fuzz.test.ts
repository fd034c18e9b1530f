/**
 * Property-based fuzzing of what an OCS server sends to a signed-in account,
 * end to end over the test server's TLS connection: hostile documents in
 * NOTIFYs on the account's own subscriptions (roaming contacts, presence
 * categories and RLMI, roaming-self), signed SIP requests with mutated
 * headers and bodies, and junk on the stream between messages. After each
 * batch the account must still be online, nothing may have escaped to the
 * process, and an IM from a peer must still arrive. In a conference: hostile
 * conference-info NOTIFYs on the roster subscription and hostile
 * invitations, after which a message through the MCU must still arrive.
 * Seed and replay: test/helpers/fuzz.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Message } from '@parley/core';
import { fc, fuzzName, hostileString, runFuzz, watchEscapes } from '../../../test/helpers/fuzz.js';
import { waitForEvent } from '../../../test/helpers/wait.js';
import { anyDocument, categories, conferenceInfo, conferenceInfoPartial, conferenceInvite, contactDelta, contactList, multipart, pidf, rlmi, roamingSelf } from './fuzz-documents.js';
import type { OcsConnection } from '../src/connection.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { startParley, testCertificates, type TestParley } from './helpers.js';

const users = [
  { address: 'alice@example.test', login: 'alice', password: 'alice-pw', displayName: 'Alice' },
  { address: 'bob@example.test', login: 'bob', password: 'bob-pw', displayName: 'Bob' },
];
const contactLists = {
  'alice@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'bob@example.test', name: 'Bob', groups: [1] }] },
  'bob@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'alice@example.test', name: 'Alice', groups: [1] }] },
};

/** What one step of a hostile batch does. */
type Step =
  | { kind: 'notify'; event: string; contentType: string; body: string }
  | { kind: 'request'; text: string }
  | { kind: 'junk'; text: string };

const notify: fc.Arbitrary<Step> = fc.oneof(
  anyDocument(contactList, contactDelta).map((body) => ({ kind: 'notify' as const, event: 'vnd-microsoft-roaming-contacts', contentType: 'application/vnd-microsoft-roaming-contacts+xml', body })),
  anyDocument(categories, pidf).map((body) => ({ kind: 'notify' as const, event: 'presence', contentType: 'application/msrtc-event-categories+xml', body })),
  anyDocument(rlmi).map((body) => ({ kind: 'notify' as const, event: 'presence', contentType: 'application/rlmi+xml', body })),
  multipart.map(({ contentType, body }) => ({ kind: 'notify' as const, event: 'presence', contentType, body })),
  anyDocument(roamingSelf).map((body) => ({ kind: 'notify' as const, event: 'vnd-microsoft-roaming-self', contentType: 'application/vnd-microsoft-roaming-self+xml', body })),
  fc.tuple(fc.constantFrom('presence', 'vnd-microsoft-roaming-contacts', 'vnd-microsoft-roaming-self'), hostileString(60), hostileString(300)).map(([event, contentType, body]) => ({
    kind: 'notify' as const,
    event,
    contentType: contentType.replace(/[\r\n]/g, ' '),
    body,
  })),
);

/**
 * A signed request from "a peer" through the server, with mutated headers.
 * Left out: registration-notify (the server signing the user off is not
 * hostile input; the account rightly goes offline).
 */
const headerLine = fc.oneof(
  fc.constantFrom(
    'Content-Type: text/plain',
    'Content-Type: text/html',
    'Content-Type: application/im-iscomposing+xml',
    'Content-Type: multipart/alternative;boundary=x',
    'Content-Type: application/sdp',
    'Event: presence',
    'Subscription-State: terminated;reason=rejected',
    'Contact: <sip:bob@example.test;opaque=user:epid:x;gruu>',
    'Contact: <>',
    'Contact: garbage',
    'Record-Route: <sip:127.0.0.1;lr>',
    'Supported: ms-text-format',
    'Ms-Text-Format: text/plain; charset=UTF-8;msgr=WAAtAE0ATQBTAC0ASQBNAC0ARgBvAHIAbQBhAHQAOgA',
    'Require: foo',
    'Expires: -1',
    'Max-Forwards: 0',
    'CSeq: 99999999999 MESSAGE',
    'CSeq: x',
    'From: <sip:@>;tag=',
    'To: <sip:alice@example.test>;tag=nonexistent',
  ),
  fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z-]{0,15}$/), hostileString(80, false)).map(([n, v]) => `${n}: ${v.replace(/[\r\n]/g, ' ')}`),
);
const request: fc.Arbitrary<Step> = fc
  .record({
    method: fc.constantFrom('MESSAGE', 'INVITE', 'INFO', 'NOTIFY', 'BENOTIFY', 'BYE', 'CANCEL', 'ACK', 'OPTIONS', 'UPDATE', 'REFER', 'SUBSCRIBE', 'PRACK', 'FOO'),
    from: fc.constantFrom('bob@example.test', 'alice@example.test', 'nobody@example.test', 'x@y', '@'),
    headers: fc.array(headerLine, { maxLength: 6 }),
    body: fc.oneof(hostileString(300), fc.constantFrom('v=0\r\nm=message 5060 sip null\r\n', '<KeyboardActivity><status status="type"/></KeyboardActivity>', '<b>bold</b> <script>x</script>')),
  })
  .map(({ method, from, headers, body }) => {
    const text = [
      `${method} sip:alice@example.test SIP/2.0`,
      `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
      `From: <sip:${from}>;tag=${randomBytes(4).toString('hex')}`,
      'To: <sip:alice@example.test>',
      `Call-ID: ${randomBytes(8).toString('hex')}`,
      `CSeq: 1 ${method}`,
      ...headers,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    return { kind: 'request' as const, text };
  });

/** Junk the framer cuts at a blank line (no Content-Length): a "message" the SIP layer must ignore. */
const junk: fc.Arbitrary<Step> = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
      fc.constantFrom('SIP/2.0 200 OK', 'SIP/2.0 999', 'INVITE', 'MESSAGE sip:x SIP/3.0', 'Via: SIP/2.0/TLS x', 'CSeq: 1 MESSAGE', ' continuation'),
    ).map((s) => s.replace(/[\r\n]/g, '')).filter((s) => s !== '' && !/^(content-length|l)[ \t]*:/i.test(s)),
    { minLength: 1, maxLength: 6 },
  )
  .chain((lines) => fc.constantFrom('', '\r\n', '\r\n\r\n').map((keepAlive) => ({ kind: 'junk' as const, text: `${keepAlive}${lines.join('\r\n')}\r\n\r\n` })));

const batch = fc.array(fc.oneof({ weight: 3, arbitrary: notify }, { weight: 2, arbitrary: request }, { weight: 1, arbitrary: junk }), { minLength: 1, maxLength: 16 });

let server: OcsServer;
const running: TestParley[] = [];

async function signIn(address: string, logs: LogRecord[] = [], connections: OcsConnection[] = []) {
  const t = await startParley({}, undefined, { log: (record) => logs.push(record), connections });
  running.push(t);
  const user = users.find((u) => u.address === address)!;
  const account = await t.parley.accounts.add({
    protocol: 'ocs',
    username: address,
    settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'ntlm', login: user.login },
    secrets: { password: user.password },
  });
  await t.parley.accounts.connect(account.id);
  return { t, id: account.id };
}

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({ users, tls: { key, cert }, services: { contactLists } });
});
afterAll(async () => {
  while (running.length) await running.pop()!.cleanup();
  await server?.close();
});

describe('fuzzing what an OCS server sends', () => {
  it(fuzzName('in a conference, survives hostile rosters and invitations: still in, the next message through the MCU arrives'), async () => {
    const logs: LogRecord[] = [];
    const connections: OcsConnection[] = [];
    const alice = await signIn('alice@example.test', logs, connections);
    const bob = await signIn('bob@example.test');
    const room = await connections[0]!.createConference('Fuzzed');
    const inBob = await bob.t.parley.chats.join(bob.id, room);
    const rosterStep = fc.oneof(
      anyDocument(conferenceInfo, conferenceInfoPartial).map((content) => ({ kind: 'roster' as const, type: 'application/conference-info+xml', content })),
      fc.tuple(hostileString(60), anyDocument(conferenceInfo)).map(([type, content]) => ({ kind: 'roster' as const, type: type.replace(/[\r\n]/g, ' '), content })),
      fc.tuple(fc.constantFrom('bob@example.test', 'nobody@example.test', '@'), anyDocument(conferenceInvite)).map(([from, body]) => ({
        kind: 'invite' as const,
        text: [
          'INVITE sip:alice@example.test SIP/2.0',
          `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
          `From: <sip:${from}>;tag=${randomBytes(4).toString('hex')}`,
          'To: <sip:alice@example.test>',
          `Call-ID: ${randomBytes(8).toString('hex')}`,
          'CSeq: 1 INVITE',
          'Content-Type: application/ms-conf-invite+xml',
          `Content-Length: ${Buffer.byteLength(body)}`,
          '',
          body,
        ].join('\r\n'),
      })),
    );
    const escapes = watchEscapes();
    let serial = 0;
    await runFuzz(
      'ocs conference input',
      fc.asyncProperty(fc.array(rosterStep, { minLength: 1, maxLength: 8 }), async (steps) => {
        // A document that says the conference is gone rightly takes Alice out: she joins again.
        if (!alice.t.parley.conversations.find(alice.id, 'chat', room)?.joined) await alice.t.parley.chats.join(alice.id, room);
        for (const step of steps) {
          if (step.kind === 'roster') server.conferences.notifyRaw(room, { type: step.type, content: step.content });
          else server.sendRaw('alice@example.test', step.text, { sign: true });
        }
        const marker = `through the conference ${++serial}`;
        const arrived = waitForEvent(alice.t.parley.events, 'messageReceived', (m: Message) => m.text === marker, 15_000);
        await bob.t.parley.conversations.send(inBob.id, marker);
        await arrived;
        expect(alice.t.parley.accounts.status(alice.id).state).toBe('online');
        for (const p of alice.t.parley.conversations.find(alice.id, 'chat', room)?.participants.values() ?? []) {
          expect(p.nick).toMatch(/^[^@\s<>"]+@[^@\s<>"]+$/);
          expect(p.realName ?? '').not.toMatch(/[\r\n]/);
        }
      }),
      { runs: 100, timeLimitMs: 8_000 },
    );
    expect(escapes()).toEqual([]);
    expect(server.events.filter((e) => e.kind === 'unparseable')).toEqual([]);
    expect(logs.some((r) => r.level === 'warn' && /conference roster that cannot be read/.test(r.message))).toBe(true);
    while (running.length) await running.pop()!.cleanup();
  });

  it(fuzzName('survives any batch of documents, requests and junk: still online, the next IM arrives'), async () => {
    const logs: LogRecord[] = [];
    const alice = await signIn('alice@example.test', logs);
    const bob = await signIn('bob@example.test');
    // The account's own subscriptions must exist for the NOTIFYs to reach its readers.
    await expect.poll(() => server.notifyRaw('alice@example.test', 'vnd-microsoft-roaming-self', { type: 'application/vnd-microsoft-roaming-self+xml', content: '<roamingData xmlns="http://schemas.microsoft.com/2006/09/sip/roaming-self"/>' }), { timeout: 15_000 }).toBeGreaterThan(0);
    const escapes = watchEscapes();
    let serial = 0;
    await runFuzz(
      'ocs server input',
      fc.asyncProperty(batch, async (steps) => {
        if (alice.t.parley.accounts.status(alice.id).state !== 'online') await alice.t.parley.accounts.connect(alice.id);
        for (const step of steps) {
          if (step.kind === 'notify') server.notifyRaw('alice@example.test', step.event, { type: step.contentType, content: step.body });
          else if (step.kind === 'request') server.sendRaw('alice@example.test', step.text, { sign: true });
          else server.sendRaw('alice@example.test', step.text);
        }
        const marker = `after the batch ${++serial}`;
        const arrived = waitForEvent(alice.t.parley.events, 'messageReceived', (m: Message) => m.text === marker, 15_000);
        await bob.t.parley.conversations.sendIm(bob.id, 'alice@example.test', marker);
        await arrived;
        const status = alice.t.parley.accounts.status(alice.id);
        expect(status.state, `${status.error?.reason}: ${status.error?.message}`).toBe('online');
      }),
      { runs: 300, timeLimitMs: 8_000 },
    );
    expect(escapes()).toEqual([]);
    // Nothing the account sent in answer was beyond what a server can read (the server would drop the link).
    expect(server.events.filter((e) => e.kind === 'unparseable')).toEqual([]);
    const final = alice.t.parley.accounts.status(alice.id);
    expect(final.state, `${final.error?.reason}: ${final.error?.message}`).toBe('online');
    // The batches reached the readers: the hostile documents and junk were read and refused, with a warning.
    const warned = (pattern: RegExp) => logs.some((r) => r.level === 'warn' && pattern.test(r.message));
    expect(warned(/notification we could not read/)).toBe(true);
    expect(warned(/Ignoring a malformed SIP message/)).toBe(true);
  });
});
