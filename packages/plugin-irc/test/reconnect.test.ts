import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { harness, rawClient, waitFor, type Harness } from './helpers.js';

let server: NgircdServer;
let h: Harness;

beforeAll(async () => {
  server = await startNgircd();
  // Long retry delays, the quick first one after a drop included: the test starts the retry itself once the
  // receiving side is back, so Parley cannot rejoin the channel before the receiver has set its key again.
  h = await harness({ reconnect: { afterDropDelayMs: 60_000, initialDelayMs: 60_000, maxDelayMs: 60_000 } });
});

afterAll(async () => {
  await h?.close();
  await server?.close();
});

describe('server restart', () => {
  it('reports a non-fatal loss, reconnects, rejoins (keyed) channels and delivers queued messages', async () => {
    const owner = await rawClient(server.port, 'owner', ['#keyed']);
    owner.send('MODE #keyed +k sesame');
    await waitFor(() => owner.lines.some((l) => l.includes('MODE #keyed +k sesame')), 'the key to be set');
    const alice = await h.account('alice', { server: '127.0.0.1', port: server.port, tls: false, autoJoin: ['#auto'] });
    await h.parley.accounts.connect(alice);
    await h.parley.chats.join(alice, '#keyed', { password: 'sesame' });
    await waitFor(() => h.parley.conversations.find(alice, 'chat', '#auto')?.joined, 'the automatic join');
    owner.close();

    await server.stop();
    const status = await waitFor(() => {
      const s = h.parley.accounts.status(alice);
      return s.state === 'reconnecting' ? s : undefined;
    }, 'the loss to be reported');
    expect(status.error).toMatchObject({ reason: 'network', fatal: false });
    expect(h.parley.conversations.find(alice, 'chat', '#keyed')?.joined).toBe(true);

    const keyed = h.parley.conversations.find(alice, 'chat', '#keyed')!;
    const queuedChat = await h.parley.conversations.send(keyed.id, 'sent while the server was down');
    const queuedIm = await h.parley.conversations.sendIm(alice, 'receiver', 'an IM from the queue');
    expect(queuedChat?.delivery).toBe('queued');
    expect(queuedIm?.delivery).toBe('queued');

    await server.start();
    const receiver = await rawClient(server.port, 'receiver', []);
    // The channel is gone with the old server process: the first to join (the receiver) sets the key again.
    receiver.send('JOIN #keyed');
    await waitFor(() => receiver.lines.some((l) => / 366 receiver #keyed /.test(l)), 'the receiver to join');
    receiver.send('MODE #keyed +k sesame');
    await waitFor(() => receiver.lines.some((l) => l.includes('MODE #keyed +k sesame')), 'the key to be set again');

    await h.parley.accounts.connect(alice);
    await waitFor(() => receiver.lines.find((l) => l.startsWith(':alice!') && l.endsWith('JOIN :#keyed')), 'alice to rejoin with the key');
    await waitFor(() => receiver.lines.find((l) => l.startsWith(':alice!') && l.endsWith('PRIVMSG #keyed :sent while the server was down')), 'the queued channel message');
    await waitFor(() => receiver.lines.find((l) => l.startsWith(':alice!') && l.endsWith('PRIVMSG receiver :an IM from the queue')), 'the queued IM');
    await waitFor(() => h.parley.conversations.find(alice, 'chat', '#auto')?.joined, 'the automatic join after reconnect');
    expect(h.parley.accounts.status(alice).state).toBe('online');
    receiver.close();
  });
});
