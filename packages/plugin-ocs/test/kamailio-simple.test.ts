/**
 * Plain SIP/SIMPLE against Kamailio (registrar, presence server, MESSAGE
 * proxy): two Parley accounts register with Digest, the server flavour is
 * detected as standard SIP, each watches the other's PIDF presence
 * (SUBSCRIBE/NOTIFY) as it PUBLISHes changes, and they exchange page-mode
 * MESSAGE IMs through the proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, Parley } from '@parley/core';
import { startKamailio, type Kamailio } from '../../../test/servers/kamailio.js';
import { startParley, type TestParley } from './helpers.js';
import type { OcsConnection } from '../src/connection.js';

let kamailio: Kamailio;
const running: TestParley[] = [];

beforeAll(async () => {
  kamailio = await startKamailio({ users: { alice: 'alice-kama', bob: 'bob-kama' }, domain: 'example.test', presence: true });
});
afterAll(async () => {
  if (process.env.KAMAILIO_DEBUG) console.log(kamailio?.log());
  while (running.length) await running.pop()!.cleanup();
  await kamailio?.stop();
});

async function signIn(user: 'alice' | 'bob') {
  const connections: OcsConnection[] = [];
  const t = await startParley({}, undefined, { connections, ...(process.env.KAMAILIO_DEBUG ? { log: (r) => console.log(user, r.level, r.scope, r.message, JSON.stringify(r.data ?? {})) } : {}) });
  running.push(t);
  const received: Message[] = [];
  t.parley.events.on('messageReceived', (m) => received.push(m));
  const account = await t.parley.accounts.add({
    protocol: 'ocs',
    username: `${user}@example.test`,
    settings: { server: `127.0.0.1:${kamailio.port}`, transport: 'tcp', authentication: 'digest' },
    secrets: { password: `${user}-kama` },
  });
  await t.parley.accounts.connect(account.id);
  return { parley: t.parley, id: account.id, received, connections };
}

const presenceOf = (parley: Parley, accountId: string, name: string) => parley.buddies.find(accountId, name)?.buddy.presence;

describe('two accounts on Kamailio (SIP/SIMPLE)', () => {
  let alice: Awaited<ReturnType<typeof signIn>>;
  let bob: Awaited<ReturnType<typeof signIn>>;

  it('register with Digest and are taken for a standard SIP server', async () => {
    alice = await signIn('alice');
    bob = await signIn('bob');
    expect(alice.parley.accounts.status(alice.id).state).toBe('online');
    expect(alice.connections[0]?.flavour).toBe('simple');
    expect(bob.connections[0]?.flavour).toBe('simple');
    await expect.poll(() => kamailio.log()).toMatch(/registered sip:bob@example\.test/);
  });

  it('see each other online and follow each presence change (PUBLISH, SUBSCRIBE, NOTIFY with PIDF)', async () => {
    await alice.parley.buddies.add(alice.id, 'bob@example.test');
    await bob.parley.buddies.add(bob.id, 'alice@example.test');
    await expect.poll(() => presenceOf(alice.parley, alice.id, 'bob@example.test')?.status, { timeout: 15_000 }).toBe('available');
    await expect.poll(() => presenceOf(bob.parley, bob.id, 'alice@example.test')?.status, { timeout: 15_000 }).toBe('available');
    await bob.parley.presence.set({ status: 'away', message: 'lunch' });
    await expect.poll(() => presenceOf(alice.parley, alice.id, 'bob@example.test'), { timeout: 15_000 }).toMatchObject({ status: 'away', message: 'lunch' });
    await alice.parley.presence.set({ status: 'busy', message: 'in a call' });
    await expect.poll(() => presenceOf(bob.parley, bob.id, 'alice@example.test'), { timeout: 15_000 }).toMatchObject({ status: 'busy', message: 'in a call' });
    await bob.parley.presence.set({ status: 'available' });
    await expect.poll(() => presenceOf(alice.parley, alice.id, 'bob@example.test')?.status, { timeout: 15_000 }).toBe('available');
    expect(kamailio.log()).toMatch(/subscribed sip:alice@example\.test to sip:bob@example\.test/);
    expect(kamailio.log()).toMatch(/published sip:bob@example\.test/);
  });

  it('exchange MESSAGE IMs through the proxy, UTF-8 intact', async () => {
    await alice.parley.conversations.sendIm(alice.id, 'bob@example.test', 'Hallo Bob — grüße über Kamailio');
    await expect.poll(() => bob.received.map((m) => [m.sender, m.text]), { timeout: 15_000 }).toContainEqual(['alice@example.test', 'Hallo Bob — grüße über Kamailio']);
    await bob.parley.conversations.sendIm(bob.id, 'alice@example.test', 'Hi Alice');
    await expect.poll(() => alice.received.map((m) => [m.sender, m.text]), { timeout: 15_000 }).toContainEqual(['bob@example.test', 'Hi Alice']);
    expect(kamailio.log()).toMatch(/MESSAGE sip:alice@example\.test -> sip:bob@example\.test/);
  });

  it('a contact who signs off is seen offline, and a message to them fails clearly', async () => {
    await bob.parley.accounts.disconnect(bob.id);
    await expect.poll(() => presenceOf(alice.parley, alice.id, 'bob@example.test')?.status, { timeout: 15_000 }).toBe('offline');
    const failed: string[] = [];
    alice.parley.events.on('messageFailed', (_m, _c, e) => failed.push(e.message));
    const message = await alice.parley.conversations.sendIm(alice.id, 'bob@example.test', 'are you there?');
    expect(message?.delivery).toBe('failed');
    expect(failed).toEqual(['Not sent: bob@example.test is offline or not available']);
  });
});
