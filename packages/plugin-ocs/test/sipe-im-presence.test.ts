/**
 * Interop with the real pidgin-sipe 1.25 (through BitlBee) on the same test
 * OCS server: it reads the roaming contact list, subscribes to presence,
 * publishes its own state, and chats (messages and typing) and exchanges
 * presence with a Parley account both ways. BitlBee relays the SIPE contact's
 * messages as IRC PRIVMSGs, typing as CTCP TYPING, and presence as joins and
 * voice changes. pidgin-sipe runs with test/sipe-sax-shim.c preloaded (see
 * there why).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/core';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { IrcControl, relay, sendPrivmsg, signInSipe, startBitlBee, trustForPurple, type BitlBee } from './bitlbee.js';
import { addTestAccount, startParley, testCertificates, type TestParley } from './helpers.js';

/** BitlBee names a contact after its handle, `sip:bob@example.test`. */
const BOB_NICK = 'sipbob';
let server: OcsServer;
let bee: BitlBee;
let irc: IrcControl;
let t: TestParley;
let bobId: string;
const atParley: Message[] = [];

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({
    users: [
      { address: 'alice@example.test', login: 'EXAMPLE\\alice', password: 'Passw0rd', displayName: 'Alice (SIPE)' },
      { address: 'bob@example.test', login: 'bob', password: 'bob-pw', displayName: 'Bob (Parley)' },
    ],
    tls: { key, cert },
    services: {
      contactLists: {
        'alice@example.test': { groups: [{ id: 1, name: '~' }, { id: 2, name: 'Parley' }], contacts: [{ uri: 'bob@example.test', name: 'Bob', groups: [2] }] },
        'bob@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'alice@example.test', name: 'Alice', groups: [1] }] },
      },
    },
  });
  bee = await startBitlBee();
  t = await startParley();
  const account = await addTestAccount(t.parley, server.port, 'bob');
  bobId = account.id;
  t.parley.events.on('messageReceived', (m) => atParley.push(m));
  await t.parley.accounts.connect(account.id);

  trustForPurple(bee, 'sipeuser', '127.0.0.1', cert);
  irc = await IrcControl.connect(bee.port, 'sipeuser');
  // BitlBee relays typing as CTCP TYPING only when asked to.
  await signInSipe(bee, irc, server.port, ['set typing_notice true']);
});
afterAll(async () => {
  if (process.env.OCS_DEBUG_SIPE) console.log(JSON.stringify(server.events.filter((e) => !['register'].includes(e.kind)), null, 0), irc?.lines.join('\n'), process.env.OCS_DEBUG_SIPE === '2' ? bee.log() : '');
  irc?.close();
  await bee?.stop();
  await t?.cleanup();
  await server?.close();
});

describe('pidgin-sipe and a Parley account on the test OCS server', () => {
  it('SIPE reads its roaming contact list, subscribes to presence and publishes its state', async () => {
    await expect.poll(() => server.events.some((e) => e.kind === 'subscribed' && e.detail.startsWith('vnd-microsoft-roaming-contacts alice')), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => server.events.some((e) => e.kind === 'subscribed' && /^presence .*alice@example\.test.*bob@example\.test/.test(e.detail)), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => server.events.some((e) => e.kind === 'published' && e.detail.startsWith('alice@example.test')), { timeout: 15_000 }).toBe(true);
    // Parley sees SIPE online; SIPE (BitlBee) sees Parley's bob online.
    await expect.poll(() => t.parley.buddies.find(bobId, 'alice@example.test')?.buddy.presence.status, { timeout: 15_000 }).toBe('available');
    await irc.waitFor(relay.joined(BOB_NICK), 15_000);
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it('a message from Parley reaches SIPE, and SIPE answers in the same conversation', async () => {
    await t.parley.conversations.sendIm(bobId, 'alice@example.test', 'Hello from Parley — ünïcödé');
    await irc.waitFor(relay.privmsgFrom(BOB_NICK, 'Hello from Parley — ünïcödé'), 15_000);
    sendPrivmsg(irc, BOB_NICK, 'Hi Parley, SIPE here');
    await expect.poll(() => atParley.map((m) => m.text), { timeout: 15_000 }).toContain('Hi Parley, SIPE here');
    expect(atParley.find((m) => m.text === 'Hi Parley, SIPE here')?.sender).toBe('alice@example.test');
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it('typing goes both ways (INFO with KeyboardActivity)', async () => {
    const conversation = t.parley.conversations.openIm(bobId, 'alice@example.test');
    await t.parley.conversations.setTyping(conversation.id, 'typing');
    await irc.waitFor(new RegExp(`^:${BOB_NICK}![^ ]+ PRIVMSG [^ ]+ :\x01TYPING 1\x01`), 15_000);
    const seen: string[] = [];
    t.parley.events.on('typingChanged', (_target, peer, state) => {
      if (peer === 'alice@example.test') seen.push(state);
    });
    irc.raw(`PRIVMSG ${BOB_NICK} :\x01TYPING 1\x01`);
    await expect.poll(() => seen, { timeout: 15_000 }).toContain('typing');
    await t.parley.conversations.setTyping(conversation.id, 'idle');
  });

  it('presence changes go both ways', async () => {
    // Parley away: SIPE's BitlBee takes bob's voice; back: gives it again.
    await t.parley.presence.set({ status: 'away', message: 'back soon' });
    await irc.waitFor(relay.voice(BOB_NICK, false), 15_000);
    await t.parley.presence.set({ status: 'available' });
    await irc.waitFor(relay.voice(BOB_NICK, true), 15_000);
    // SIPE away (BitlBee picks the state named at the start of the away text and keeps the
    // whole text as the message): Parley
    // shows alice away, with SIPE's note as her status message.
    irc.raw('AWAY :Away in a meeting with SIPE');
    const alice = () => t.parley.buddies.find(bobId, 'alice@example.test')?.buddy.presence;
    await expect.poll(() => alice()?.status, { timeout: 15_000 }).toBe('away');
    await expect.poll(() => alice()?.message, { timeout: 15_000 }).toBe('Away in a meeting with SIPE');
    irc.raw('AWAY');
    await expect.poll(() => alice()?.status, { timeout: 15_000 }).toBe('available');
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });
});
