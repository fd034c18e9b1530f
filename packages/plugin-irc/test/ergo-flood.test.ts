/**
 * Outgoing flood control on ergo with its flood protection on (fake lag: a
 * burst of 5 lines, then 8 a second here; ergo ships 2 a second, which made
 * the paste alone take half a minute for the same pacing code): a 60-line
 * paste goes out paced, the account stays online, every line arrives once and
 * in order; messages still waiting when the link drops go out on the next one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/core';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { harness, rawClient, waitFor, wireTap, type Harness, type RawClient, type WireTap } from './helpers.js';

let server: ErgoServer;
let h: Harness;
let tap: WireTap;
let watcher: RawClient;

/** ergo's allowance after its burst, and so the accounts' pace (floodInterval) where a test follows it. */
const LINES_PER_SECOND = 8;
const PACE_MS = 1000 / LINES_PER_SECOND;

beforeAll(async () => {
  server = await startErgo({ config: { fakelag: { 'messages-per-window': LINES_PER_SECOND } } });
  tap = await wireTap(server.port);
  h = await harness();
  watcher = await rawClient(server.port, 'watcher', ['#paste']);
});

afterAll(async () => {
  watcher?.close();
  await h?.close();
  await tap?.close();
  await server?.close();
});

const relayed = (prefix: string) => watcher.lines.filter((l) => l.startsWith(`:${prefix}!`) && l.includes(' PRIVMSG #paste :')).map((l) => l.slice(l.indexOf(' :', l.indexOf('PRIVMSG')) + 2));

describe('flood control on ergo', () => {
  it('a 60-line paste into a channel: paced, still online, all 60 lines once and in order', { timeout: 120_000 }, async () => {
    // Paced at ergo's own allowance (the account setting): 56 lines after the burst take 7 s, so the user is told the paste is queued.
    const alice = await h.account('alice', { server: '127.0.0.1', port: tap.port, tls: false, autoJoin: ['#paste'], floodBurst: 4, floodInterval: PACE_MS });
    await h.parley.accounts.connect(alice);
    let dropped = 0;
    h.parley.events.on('accountDisconnected', (account) => {
      if (account.id === alice) dropped++;
    });
    const conversation = h.parley.conversations.find(alice, 'chat', '#paste')!;
    const paste = Array.from({ length: 60 }, (_, i) => `line ${String(i + 1).padStart(2, '0')} of the paste`).join('\n');
    const errors: string[] = [];
    h.parley.events.on('messageFailed', (_m, _c, e) => errors.push(`${e.code}: ${e.message}`));
    const sent = await h.parley.conversations.send(conversation.id, paste);
    expect(errors).toEqual([]);
    // Each line went out with its own label, and each label was answered.
    const labelsOut = tap.toServer.filter((l) => l.startsWith('@label=') && l.includes(' PRIVMSG #paste :line ')).map((l) => /^@label=([^ ;]+)/.exec(l)![1]);
    expect(labelsOut).toHaveLength(60);
    const answered = new Set(tap.toClient.map((l) => /(?:^@|;)label=([^ ;]+)/.exec(l)?.[1]).filter(Boolean));
    expect(labelsOut.filter((l) => !answered.has(l))).toEqual([]);
    expect(sent?.delivery).toBe('sent');
    await waitFor(() => relayed('alice').length >= 60, 'all 60 lines at the watcher', 60_000);
    expect(relayed('alice')).toEqual(paste.split('\n'));
    expect(h.parley.accounts.status(alice).state).toBe('online');
    expect(dropped).toBe(0);
    // The echoes (some came back while later lines still waited) confirmed the message, none became a message of its own.
    expect(h.parley.conversations.get(conversation.id)!.messages.filter((m: Message) => m.flags.system !== true && m.text.includes('of the paste'))).toHaveLength(1);
    // The user was told the paste is queued.
    expect(h.parley.conversations.get(conversation.id)!.messages.some((m: Message) => m.flags.system === true && /^Sending \(\d+ lines queued\)/.test(m.text))).toBe(true);
  });

  it('messages waiting for flood control when the link drops go out on the next link, once and in order', { timeout: 120_000 }, async () => {
    const bob = await h.account('bob', { server: '127.0.0.1', port: tap.port, tls: false, autoJoin: ['#paste'], floodBurst: 1, floodInterval: 500 });
    await h.parley.accounts.connect(bob);
    const conversation = h.parley.conversations.find(bob, 'chat', '#paste')!;
    const texts = Array.from({ length: 6 }, (_, i) => `queued ${i + 1}`);
    const sends = texts.map((t) => h.parley.conversations.send(conversation.id, t));
    await waitFor(() => relayed('bob').includes('queued 1'), 'the first message');
    // Cut the link while the rest wait; the core reconnects.
    tap.drop();
    const results = await Promise.all(sends);
    const delivered = results.map((m) => m?.delivery);
    // The first went out before the drop; each of the others is sent on the new link or, if it was
    // on the wire when the link died, reported as possibly lost — never silently gone.
    expect(delivered.every((d) => d === 'sent' || d === 'failed')).toBe(true);
    const sentTexts = texts.filter((_, i) => delivered[i] === 'sent');
    expect(sentTexts.length).toBeGreaterThanOrEqual(texts.length - 2);
    await waitFor(() => sentTexts.every((t) => relayed('bob').includes(t)), 'every sent message at the watcher');
    const seen = relayed('bob').filter((t) => t.startsWith('queued '));
    // Once each, in order.
    expect(seen).toEqual([...new Set(seen)]);
    expect(seen.filter((t) => sentTexts.includes(t))).toEqual(sentTexts);
  });

  it('a burst of JOINs and WHOs at sign-in goes through flood control: every channel joined once, still online', { timeout: 120_000 }, async () => {
    const rooms = Array.from({ length: 12 }, (_, i) => `#burst${i + 1}`);
    const carol = await h.account('carol', { server: '127.0.0.1', port: tap.port, tls: false, autoJoin: rooms, floodBurst: 2, floodInterval: PACE_MS });
    await h.parley.accounts.connect(carol);
    await waitFor(() => rooms.every((room) => h.parley.conversations.find(carol, 'chat', room) !== undefined), 'every channel joined', 60_000);
    await waitFor(() => rooms.every((room) => tap.toServer.includes(`WHO ${room} %tcnfar,152`)), 'a WHOX query for each', 60_000);
    for (const room of rooms) expect(tap.toServer.filter((l) => l === `JOIN ${room}`)).toHaveLength(1);
    // Each JOIN went out before its channel's query, in the order asked.
    const joins = tap.toServer.filter((l) => /^JOIN #burst\d+$/.test(l)).map((l) => l.slice(5));
    expect(joins).toEqual(rooms);
    for (const room of rooms) expect(tap.toServer.indexOf(`JOIN ${room}`)).toBeLessThan(tap.toServer.indexOf(`WHO ${room} %tcnfar,152`));
    expect(h.parley.accounts.status(carol).state).toBe('online');
  });
});
