/**
 * Property-based fuzzing of the stanzas an XMPP account receives: messages
 * (chat, groupchat, headline, error; bodies, delays, receipts, chat states),
 * presence (from contacts and from a MUC room, with muc#user items and
 * status codes), roster pushes, carbons wrapping generated messages, and
 * IQs. They go into the real stream of a signed-in account through a relay
 * between it and a real Prosody (see stanza-relay.ts), so they can claim to
 * come from the server, a room or the account itself, as only the server's
 * stanzas could. After each batch the account must still be online, nothing
 * may have escaped to the process, and an IM that follows must arrive.
 * Seed and replay: test/helpers/fuzz.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { fc, fuzzName, runFuzz, watchEscapes } from '../../../test/helpers/fuzz.js';
import { waitForEvent } from '../../../test/helpers/wait.js';
import { startProsody, type ProsodyServer } from '../../../test/servers/prosody.mjs';
import type { TestProsody } from '../../../test/servers/prosody.js';
import { harness, waitFor, type Harness } from './helpers.js';
import { startStanzaRelay, type StanzaRelay } from './stanza-relay.js';
import { OWN_FULL, ROOM, stanza } from './fuzz-stanzas.js';

/**
 * Found by this fuzzer: a stanza whose `to` or `from` the library cannot read
 * as a JID ("@", "alice@") threw inside the stream parser and ended the
 * session as malformed XML at the next stanza.
 */
const EXAMPLES: Element[][][] = [
  [[xml('message', { from: 'bob@localhost/raw', to: '@' }, xml('body', {}, 'x')), xml('presence', { from: 'bob@localhost/raw', to: OWN_FULL })]],
  [[xml('presence', { from: 'alice@', to: OWN_FULL }), xml('iq', { type: 'get', id: 'x', from: '@localhost', to: OWN_FULL }, xml('ping', { xmlns: 'urn:xmpp:ping' }))]],
];

const batch = fc.array(stanza, { minLength: 1, maxLength: 12 });

let prosody: ProsodyServer;
let relay: StanzaRelay;
let h: Harness;
let alice: string;
let bob: string;

beforeAll(async () => {
  // Plaintext c2s on loopback: the relay reads and writes the stream as it is.
  prosody = await startProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' } });
  relay = await startStanzaRelay({ host: prosody.host, port: prosody.port });
  h = await harness(prosody as TestProsody, { trustCa: false });
  alice = await h.account('alice', 'alice-pw', { resource: 'fuzz', security: 'plain', port: relay.port });
  bob = await h.account('bob', 'bob-pw', { resource: 'fuzz', security: 'plain' });
  await Promise.all([h.parley.accounts.connect(alice), h.parley.accounts.connect(bob)]);
  // A real room: stanzas from its JID then reach the plugin's MUC code.
  await h.parley.chats.join(alice, ROOM);
});

afterAll(async () => {
  await h?.close();
  await relay?.close();
  await prosody?.stop();
});

describe('fuzzing the stanzas an XMPP account receives', () => {
  it(fuzzName('survives any batch of stanzas: still online, the next IM arrives'), async () => {
    const escapes = watchEscapes();
    let serial = 0;
    await runFuzz(
      'xmpp stanzas',
      fc.asyncProperty(batch, async (stanzas: Element[]) => {
        if (h.parley.accounts.status(alice).state !== 'online') {
          await h.parley.accounts.connect(alice);
          await h.parley.chats.join(alice, ROOM);
        }
        for (const s of stanzas) await relay.inject(s.toString());
        const marker = `after the batch ${++serial}`;
        const arrived = waitForEvent(h.parley.events, 'messageWritten', (m: Message) => m.accountId === alice && m.text === marker, 15_000);
        await h.parley.conversations.sendIm(bob, 'alice@localhost', marker);
        await arrived;
        const status = h.parley.accounts.status(alice);
        expect(status.state, `${status.error?.reason}: ${status.error?.message}`).toBe('online');
      }),
      { runs: 300, timeLimitMs: 8_000, examples: EXAMPLES },
    );
    expect(escapes()).toEqual([]);
    // The stanzas were read, not lost on the way: the plugin skipped the worst with a warning.
    expect(relay.injected).toBeGreaterThan(0);
    await waitFor(() => h.parley.accounts.status(alice).state === 'online', 'alice still online');
    // Time for a failure to shrink (the bound on a passing run is the fuzz time limit).
  }, 180_000);

  it('skips a stanza with an address the library cannot read, and the session goes on', async () => {
    const before = h.logs.length;
    await relay.inject(xml('message', { from: 'bob@localhost/raw', to: 'alice@' }, xml('body', {}, 'unreadable')).toString());
    const arrived = waitForEvent(h.parley.events, 'messageWritten', (m: Message) => m.accountId === alice && m.text === 'after the bad address', 15_000);
    await h.parley.conversations.sendIm(bob, 'alice@localhost', 'after the bad address');
    await arrived;
    expect(h.logs.slice(before).some((r) => r.level === 'warn' && r.message === 'Skipped a stanza with an unreadable address')).toBe(true);
    expect(h.messages.some((m) => m.text === 'unreadable')).toBe(false);
    expect(h.parley.accounts.status(alice).state).toBe('online');
  });
});
