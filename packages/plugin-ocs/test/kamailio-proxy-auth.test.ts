/**
 * Plain SIP/SIMPLE through a proxy that challenges more than REGISTER:
 * Kamailio answers PUBLISH, SUBSCRIBE and MESSAGE with 407
 * Proxy-Authenticate (RFC 3261 22.3) until they carry Digest credentials for
 * the account's password. Two Parley accounts still see each other's
 * presence and exchange IMs, and the server saw the credentials.
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, Parley } from '@parley/core';
import { startKamailio, type Kamailio } from '../../../test/servers/kamailio.js';
import { startParley, type TestParley } from './helpers.js';

let kamailio: Kamailio;
const running: TestParley[] = [];

beforeAll(async () => {
  kamailio = await startKamailio({ users: { alice: 'alice-proxy', bob: 'bob-proxy' }, domain: 'example.test', presence: true, authenticateRequests: true });
});
afterAll(async () => {
  while (running.length) await running.pop()!.cleanup();
  await kamailio?.stop();
});

async function signIn(user: 'alice' | 'bob') {
  const t = await startParley();
  running.push(t);
  const received: Message[] = [];
  t.parley.events.on('messageReceived', (m) => received.push(m));
  const account = await t.parley.accounts.add({
    protocol: 'ocs',
    username: `${user}@example.test`,
    settings: { server: `127.0.0.1:${kamailio.port}`, transport: 'tcp', authentication: 'auto' },
    secrets: { password: `${user}-proxy` },
  });
  await t.parley.accounts.connect(account.id);
  return { parley: t.parley, id: account.id, received };
}

/** One request on a fresh TCP connection; resolves with the first response's head. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString();
      const end = data.indexOf('\r\n\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(data.slice(0, end));
      }
    });
    socket.on('error', reject);
  });
}

const presenceOf = (parley: Parley, accountId: string, name: string) => parley.buddies.find(accountId, name)?.buddy.presence;

describe('Kamailio challenging PUBLISH, SUBSCRIBE and MESSAGE (407 Proxy-Authenticate)', () => {
  let alice: Awaited<ReturnType<typeof signIn>>;
  let bob: Awaited<ReturnType<typeof signIn>>;

  it('answers the proxy challenges: both accounts see each other and exchange IMs', async () => {
    alice = await signIn('alice');
    bob = await signIn('bob');
    await alice.parley.buddies.add(alice.id, 'bob@example.test');
    await bob.parley.buddies.add(bob.id, 'alice@example.test');
    await expect.poll(() => presenceOf(alice.parley, alice.id, 'bob@example.test')?.status, { timeout: 15_000 }).toBe('available');
    await expect.poll(() => presenceOf(bob.parley, bob.id, 'alice@example.test')?.status, { timeout: 15_000 }).toBe('available');
    await bob.parley.presence.set({ status: 'away', message: 'lunch' });
    await expect.poll(() => presenceOf(alice.parley, alice.id, 'bob@example.test'), { timeout: 15_000 }).toMatchObject({ status: 'away', message: 'lunch' });

    await alice.parley.conversations.sendIm(alice.id, 'bob@example.test', 'Hallo Bob, über den Proxy');
    await expect.poll(() => bob.received.map((m) => [m.sender, m.text]), { timeout: 15_000 }).toContainEqual(['alice@example.test', 'Hallo Bob, über den Proxy']);
    const reply = await bob.parley.conversations.sendIm(bob.id, 'alice@example.test', 'Hi Alice');
    expect(reply).toBeDefined();
    expect(reply!.delivery).not.toBe('failed');
    await expect.poll(() => alice.received.map((m) => [m.sender, m.text]), { timeout: 15_000 }).toContainEqual(['bob@example.test', 'Hi Alice']);

    const log = kamailio.log();
    for (const method of ['PUBLISH', 'SUBSCRIBE', 'MESSAGE']) {
      expect(log).toMatch(new RegExp(`challenge ${method} from sip:alice@example\\.test`));
      expect(log).toMatch(new RegExp(`authenticated ${method} from sip:alice@example\\.test as alice`));
      expect(log).toMatch(new RegExp(`authenticated ${method} from sip:bob@example\\.test as bob`));
    }
    expect(log).toMatch(/MESSAGE sip:alice@example\.test -> sip:bob@example\.test/);
  });

  it('the server refuses a MESSAGE from a registered user that carries no credentials', async () => {
    const head = await rawRequest(
      kamailio.port,
      [
        'MESSAGE sip:bob@example.test SIP/2.0',
        'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-noauth-1',
        'Max-Forwards: 70',
        'From: <sip:alice@example.test>;tag=x1',
        'To: <sip:bob@example.test>',
        'Call-ID: noauth-1',
        'CSeq: 1 MESSAGE',
        'Content-Type: text/plain',
        'Content-Length: 2',
        '',
        'hi',
      ].join('\r\n'),
    );
    expect(head).toMatch(/^SIP\/2\.0 407 /);
    expect(head).toMatch(/^Proxy-Authenticate: Digest realm="example\.test", nonce="[^"]+", qop="auth"/im);
    expect(bob.received.map((m) => m.text)).not.toContain('hi');
  });
});
