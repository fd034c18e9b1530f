/**
 * Sign-in and buddies on ergo: SASL PLAIN against ergo's own accounts
 * (https://ircv3.net/specs/extensions/sasl-3.1), MONITOR for a buddy's
 * online state, and away-notify for its away message
 * (https://ircv3.net/specs/extensions/away-notify) — the away message of
 * someone in a shared channel becomes the buddy's presence, not a line in a
 * conversation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionError } from '@parley/core';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, rawClient, waitFor, wireTap, type Harness, type WireTap } from './helpers.js';

let server: ErgoServer;
let h: Harness;
let tap: WireTap;

beforeAll(async () => {
  server = await startErgo();
  await server.registerAccount('dana', 'dana-secret');
  tap = await wireTap(server.port);
  h = await harness();
});

afterAll(async () => {
  await h?.close();
  await tap?.close();
  await server?.close();
});

describe('sign-in and buddies on ergo', () => {
  it('signs in with SASL PLAIN to an ergo account; a wrong password fails for good', async () => {
    const dana = await h.account('dana', { server: '127.0.0.1', port: tap.port, tls: false }, { password: 'dana-secret' });
    await h.parley.accounts.connect(dana);
    expect(tap.toServer).toContain('AUTHENTICATE PLAIN');
    // 900 RPL_LOGGEDIN names the account, 903 RPL_SASLSUCCESS ends the exchange.
    expect(tap.toClient.some((l) => / 900 \S+ \S+ dana :/.test(l))).toBe(true);
    expect(tap.toClient.some((l) => / 903 \S+ :/.test(l))).toBe(true);
    await h.parley.accounts.disconnect(dana);

    const other = await harness();
    try {
      const wrong = await other.account('dana', { server: '127.0.0.1', port: server.port, tls: false }, { password: 'not-it' });
      const failure = (await other.parley.accounts.connect(wrong).catch((e: unknown) => e)) as ConnectionError;
      expect(failure.reason).toBe('authentication-failed');
      expect(failure.fatal).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('a buddy is watched with MONITOR; its away message (away-notify, in a shared channel) becomes its presence', async () => {
    const dana = await h.account('fred', { server: '127.0.0.1', port: tap.port, tls: false });
    await h.parley.accounts.connect(dana);
    const presences: Array<[string, string, string | undefined]> = [];
    h.parley.events.on('buddyPresenceChanged', (_account, buddy, presence) => presences.push([buddy, presence.status, presence.message]));
    await h.parley.buddies.add(dana, 'erin');
    await waitFor(() => tap.toServer.some((l) => /^MONITOR \+ :?erin$/.test(l)), 'MONITOR + erin on the wire');

    const erin = await rawClient(server.port, 'erin', ['#shared']);
    await waitFor(() => presences.find(([b, s]) => b === 'erin' && s === 'available'), 'erin online');
    await h.parley.chats.join(dana, '#shared');
    erin.send('AWAY :out for lunch');
    await waitFor(() => presences.find(([b, s, m]) => b === 'erin' && s === 'away' && m === 'out for lunch'), 'erin away with her message');
    erin.send('AWAY');
    await waitFor(() => presences.filter(([b, s]) => b === 'erin' && s === 'available').length === 2, 'erin back');
    // Presence only: no conversation with erin was opened to say so.
    expect(h.parley.conversations.find(dana, 'im', 'erin')).toBeUndefined();
    erin.send('QUIT');
    await waitFor(() => presences.find(([b, s]) => b === 'erin' && s === 'offline'), 'erin offline');
    erin.close();
  });
});
