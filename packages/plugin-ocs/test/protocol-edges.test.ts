/**
 * What the server (or a peer through it) can throw at a signed-in OCS
 * account, end to end: a NOTIFY for a subscription we do not have (481,
 * logged), an INVITE for a session we cannot take (488 and a notice), a
 * publication the server has moved on from (409 WrongDelta, published again
 * with the versions the fault names, [MS-PRES] 3.7.5), and subscriptions
 * refreshed before the expiry the server granted.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord, Message } from '@parley/core';
import { startOcsServer, type OcsServer, type ServiceOptions } from './ocs-server/server.js';
import { startParley, testCertificates, type TestParley } from './helpers.js';

const users = [
  { address: 'alice@example.test', login: 'alice', password: 'alice-pw', displayName: 'Alice' },
  { address: 'bob@example.test', login: 'bob', password: 'bob-pw', displayName: 'Bob' },
];
const contactLists = {
  'alice@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'bob@example.test', name: 'Bob', groups: [1] }] },
  'bob@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'alice@example.test', name: 'Alice', groups: [1] }] },
};

const running: TestParley[] = [];
const servers: OcsServer[] = [];
let server: OcsServer;

async function ocsServer(services: ServiceOptions = {}): Promise<OcsServer> {
  const { key, cert } = testCertificates();
  const s = await startOcsServer({ users, tls: { key, cert }, services: { contactLists, ...services } });
  servers.push(s);
  return s;
}

beforeAll(async () => {
  server = await ocsServer();
});
afterEach(async () => {
  while (running.length) await running.pop()!.cleanup();
});
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function signIn(on: OcsServer, address: string) {
  const logs: LogRecord[] = [];
  const written: Message[] = [];
  const received: Message[] = [];
  const t = await startParley({}, undefined, { log: (r) => logs.push(r) });
  running.push(t);
  t.parley.events.on('messageWritten', (m) => written.push(m));
  t.parley.events.on('messageReceived', (m) => received.push(m));
  const user = users.find((u) => u.address === address)!;
  const account = await t.parley.accounts.add({
    protocol: 'ocs',
    username: address,
    settings: { server: `127.0.0.1:${on.port}`, transport: 'tls', authentication: 'ntlm', login: user.login },
    secrets: { password: user.password },
  });
  await t.parley.accounts.connect(account.id);
  return { t, id: account.id, logs, written, received };
}

/** A request from `from` straight onto `to`'s connection, signed by the server. */
function request(method: string, to: string, from: string, headers: string[], body = ''): { text: string; callId: string } {
  const callId = randomBytes(8).toString('hex');
  const text = [
    `${method} sip:${to} SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:${server.port};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    `From: <sip:${from}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${to}>`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    ...headers,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return { text, callId };
}

const answered = (on: OcsServer, callId: string) => on.events.find((e) => e.kind === 'response' && e.detail.endsWith(` ${callId}`))?.detail.split(' ').slice(0, 2).join(' ');

describe('protocol edges on a signed-in OCS account', () => {
  it('a NOTIFY for a subscription it does not have: 481, a logged warning, and the account carries on', async () => {
    const alice = await signIn(server, 'alice@example.test');
    const bob = await signIn(server, 'bob@example.test');
    const { text, callId } = request('NOTIFY', 'bob@example.test', 'alice@example.test', [
      'Event: presence',
      'Subscription-State: active;expires=3600',
      'Content-Type: application/msrtc-event-categories+xml',
    ], '<categories xmlns="http://schemas.microsoft.com/2006/09/sip/categories" uri="sip:alice@example.test"/>');
    expect(server.sendRaw('bob@example.test', text, { sign: true })).toBe(1);
    await expect.poll(() => answered(server, callId), { timeout: 10_000 }).toBe('481 NOTIFY');
    expect(bob.logs.some((r) => r.level === 'warn' && /NOTIFY for a subscription we do not have \(presence\)/.test(r.message))).toBe(true);
    expect(bob.t.parley.accounts.status(bob.id).state).toBe('online');
    await alice.t.parley.conversations.sendIm(alice.id, 'bob@example.test', 'still there?');
    await expect.poll(() => bob.received.map((m) => m.text), { timeout: 10_000 }).toContain('still there?');
  });

  it('an INVITE offering audio: 488 with a reason, and a notice in the conversation with the caller', async () => {
    const bob = await signIn(server, 'bob@example.test');
    const sdp = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=call', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 5004 RTP/AVP 0 8', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
    const { text, callId } = request('INVITE', 'bob@example.test', 'alice@example.test', ['Contact: <sip:alice@example.test;opaque=user:epid:x;gruu>', 'Content-Type: application/sdp'], sdp);
    server.sendRaw('bob@example.test', text, { sign: true });
    await expect.poll(() => answered(server, callId), { timeout: 10_000 }).toBe('488 INVITE');
    await expect.poll(() => bob.written.find((m) => /audio session, which is not supported/.test(m.text))?.text, { timeout: 10_000 }).toBe(
      'alice@example.test tried to start an audio session, which is not supported',
    );
    expect(bob.logs.some((r) => r.level === 'warn' && /unsupported session offer \(audio\)/.test(r.message))).toBe(true);
    expect(bob.t.parley.accounts.status(bob.id).state).toBe('online');
  });

  it('a publication the server has moved on from: 409 WrongDelta, published again with the versions it names', async () => {
    const alice = await signIn(server, 'alice@example.test');
    const bob = await signIn(server, 'bob@example.test');
    await bob.t.parley.presence.set({ status: 'busy', message: 'first' });
    await expect.poll(() => alice.t.parley.buddies.find(alice.id, 'bob@example.test')?.buddy.presence.status, { timeout: 10_000 }).toBe('busy');
    expect(server.bumpPublications('bob@example.test')).toBeGreaterThan(0);
    const before = server.events.length;
    await bob.t.parley.presence.set({ status: 'away', message: 'second' });
    await expect.poll(() => alice.t.parley.buddies.find(alice.id, 'bob@example.test')?.buddy.presence, { timeout: 10_000 }).toMatchObject({ status: 'away', message: 'second' });
    const after = server.events.slice(before).filter((e) => e.kind === 'publish-conflict' || e.kind === 'published').map((e) => e.kind);
    expect(after.slice(0, 2)).toEqual(['publish-conflict', 'published']);
    expect(bob.logs.some((r) => /Presence publication was out of date/.test(r.message))).toBe(true);
  });

  it('is signed in only once the contact list is there, and a change made at once carries the list\'s deltaNum', async () => {
    const slow = await ocsServer({ holdContactLists: true });
    const t = await startParley();
    running.push(t);
    const account = await t.parley.accounts.add({
      protocol: 'ocs',
      username: 'alice@example.test',
      settings: { server: `127.0.0.1:${slow.port}`, transport: 'tls', authentication: 'ntlm', login: 'alice' },
      secrets: { password: 'alice-pw' },
    });
    const connected = t.parley.accounts.connect(account.id);
    // Everything else of the sign-in is done: the three subscriptions answered, and the
    // roaming-self and provisioning NOTIFYs answered by the client.
    const subscribed = () => slow.events.filter((e) => e.kind === 'subscribed' && / alice@example\.test/.test(e.detail)).length;
    const notifiesAnswered = () => slow.events.filter((e) => e.kind === 'response' && e.detail.startsWith('200 NOTIFY')).length;
    await expect.poll(() => subscribed(), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    await expect.poll(() => notifiesAnswered(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    expect(t.parley.accounts.status(account.id).state, 'not signed in while the contact list is held back').not.toBe('online');

    expect(slow.releaseContactList('alice@example.test')).toBe(1);
    await connected;
    expect(t.parley.buddies.find(account.id, 'bob@example.test'), 'the list is applied when sign-in completes').toBeDefined();
    // A new group and a contact in it: two primitives, each answered while the server's
    // full list arrives in a BENOTIFY; the second must carry the deltaNum the first left.
    await t.parley.buddies.add(account.id, 'carol@example.test', { group: 'Team' });
    expect(t.parley.buddies.find(account.id, 'carol@example.test')?.contact.group).toBe('Team');
    await t.parley.buddies.add(account.id, 'dave@example.test', { group: 'Team' });
    expect(slow.events.filter((e) => e.kind === 'service').map((e) => e.detail)).toEqual([
      'addGroup alice@example.test',
      'setContact alice@example.test',
      'setContact alice@example.test',
    ]);
  });

  it('refreshes its subscriptions before the expiry the server granted', async () => {
    const short = await ocsServer({ maxSubscriptionExpires: 3 });
    const alice = await signIn(short, 'alice@example.test');
    const refreshed = (event: RegExp) => short.events.filter((e) => e.kind === 'refreshed' && event.test(e.detail)).length;
    await expect.poll(() => refreshed(/^vnd-microsoft-roaming-contacts alice@/), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => refreshed(/^vnd-microsoft-roaming-self alice@/), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => refreshed(/^presence batched alice@example\.test bob@example\.test/), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(short.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
    expect(alice.t.parley.accounts.status(alice.id).state).toBe('online');
  });
});
