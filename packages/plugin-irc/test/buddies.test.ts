import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { harness, rawClient, waitFor, type Harness } from './helpers.js';

let server: NgircdServer;
let h: Harness;
let alice: string;

beforeAll(async () => {
  server = await startNgircd();
  h = await harness();
  alice = await h.account('alice', { server: '127.0.0.1', port: server.port, tls: false, isonInterval: 1, realName: 'Alice Liddell' });
  await h.parley.accounts.connect(alice);
});

afterAll(async () => {
  await h?.close();
  await server?.close();
});

describe('buddies, WHOIS and away on ngircd (no MONITOR: ISON polling)', () => {
  it('tracks a buddy coming online and going offline', async () => {
    const changes: Array<[string, string]> = [];
    h.parley.events.on('buddyPresenceChanged', (_acc, buddy, presence) => changes.push([buddy, presence.status]));
    await h.parley.buddies.add(alice, 'carol');
    const carol = await rawClient(server.port, 'carol');
    await waitFor(() => changes.some(([b, s]) => b === 'carol' && s === 'available'), 'carol to be seen online');
    carol.send('QUIT :bye');
    await waitFor(() => changes.some(([b, s]) => b === 'carol' && s === 'offline'), 'carol to be seen offline');
    carol.close();
  });

  it('watches a buddy added while the account was offline, once it signs on', async () => {
    await h.parley.accounts.disconnect(alice);
    await h.parley.buddies.add(alice, 'frank');
    const changes: Array<[string, string]> = [];
    h.parley.events.on('buddyPresenceChanged', (_acc, buddy, presence) => changes.push([buddy, presence.status]));
    await h.parley.accounts.connect(alice);
    expect(h.parley.buddies.find(alice, 'frank')).toBeDefined();
    const frank = await rawClient(server.port, 'frank');
    await waitFor(() => changes.some(([b, s]) => b === 'frank' && s === 'available'), 'frank to be seen online');
    frank.close();
  });

  it('fills buddy info from WHOIS', async () => {
    const dave = await rawClient(server.port, 'dave');
    const info = await h.parley.buddies.info(alice, 'dave');
    expect(info).toMatchObject({ Nick: 'dave', 'Real name': 'dave', Host: '127.0.0.1' });
    dave.close();
    await expect(h.parley.buddies.info(alice, 'nobody-here')).rejects.toMatchObject({ code: 'irc-server-refused' });
  });

  it('maps away status to AWAY, and back', async () => {
    const eve = await rawClient(server.port, 'eve');
    await h.parley.presence.set({ status: 'away', message: 'at lunch\r\nQUIT' }, alice);
    eve.send('WHOIS alice');
    const away = await waitFor(() => eve.lines.find((l) => / 301 eve alice /.test(l)), 'the away reply');
    expect(away).toContain(':at lunch QUIT');
    await h.parley.presence.set({ status: 'available' }, alice);
    eve.lines.length = 0;
    eve.send('WHOIS alice');
    await waitFor(() => eve.lines.some((l) => / 318 eve alice /.test(l)), 'the end of WHOIS');
    expect(eve.lines.some((l) => / 301 eve alice /.test(l))).toBe(false);
    expect(h.parley.accounts.status(alice).state).toBe('online');
    eve.close();
  });

  it('runs /join, /topic, /whois, /part and /quote', async () => {
    const im = h.parley.conversations.openIm(alice, 'someone');
    await h.parley.runCommand('/join #cmds', { conversationId: im.id });
    const chat = await waitFor(() => h.parley.conversations.find(alice, 'chat', '#cmds'), 'the chat');
    expect(chat.joined).toBe(true);
    await h.parley.runCommand('/topic commands work', { conversationId: chat.id });
    await waitFor(() => h.parley.conversations.get(chat.id)?.topic === 'commands work', 'the topic');
    const whois = await h.parley.runCommand('/whois alice', { conversationId: chat.id });
    expect(whois).toContain('Real name: Alice Liddell');
    await h.parley.runCommand('/quote TOPIC #cmds :set raw', { conversationId: chat.id });
    await waitFor(() => h.parley.conversations.get(chat.id)?.topic === 'set raw', 'the raw topic');
    await expect(h.parley.runCommand('/quote TOPIC #cmds :x\nQUIT', { conversationId: chat.id })).rejects.toThrow();
    await h.parley.runCommand('/part', { conversationId: chat.id });
    await waitFor(() => h.parley.conversations.get(chat.id)?.joined === false, 'the part');
    expect(h.parley.accounts.status(alice).state).toBe('online');
  });
});
