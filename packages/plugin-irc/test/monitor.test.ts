import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInspircd, type InspircdServer } from '../../../test/servers/inspircd.js';
import { harness, rawClient, waitFor, type Harness } from './helpers.js';

const changes: Array<[string, string]> = [];
const seen = (buddy: string, status: string) => changes.some(([b, s]) => b === buddy && s === status);

describe('buddies on InspIRCd 3 through MONITOR (IRCv3 monitor)', () => {
  let server: InspircdServer;
  let h: Harness;
  let alice: string;

  beforeAll(async () => {
    server = await startInspircd({ sasl: false });
    h = await harness();
    h.parley.events.on('buddyPresenceChanged', (_acc, buddy, presence) => changes.push([buddy, presence.status]));
    // An hour between ISON polls: only MONITOR can report a change.
    alice = await h.account('alice', { server: '127.0.0.1', port: server.port, tls: false, isonInterval: 3600 });
    await h.parley.accounts.connect(alice);
    // A buddy already in the list when the account connects is watched from the start.
    await h.parley.buddies.add(alice, 'bob');
    await h.parley.accounts.disconnect(alice);
    await h.parley.accounts.connect(alice);
  });

  afterAll(async () => {
    await h?.close();
    await server?.close();
  });

  it('tracks a buddy from the saved list online and offline', async () => {
    const bob = await rawClient(server.port, 'bob');
    await waitFor(() => seen('bob', 'available'), 'bob to be seen online');
    bob.send('QUIT :bye');
    await waitFor(() => seen('bob', 'offline'), 'bob to be seen offline');
    bob.close();
  });

  it('reports a buddy added while they are offline when they arrive, and a nick change away as offline', async () => {
    await h.parley.buddies.add(alice, 'carol');
    const carol = await rawClient(server.port, 'carol');
    await waitFor(() => seen('carol', 'available'), 'carol to be seen online');
    carol.send('NICK carol_away');
    await waitFor(() => seen('carol', 'offline'), 'carol to be seen offline after her nick change');
    carol.close();
  });

  it('reports a buddy who is already online when added', async () => {
    const dave = await rawClient(server.port, 'dave');
    await h.parley.buddies.add(alice, 'DAVE');
    await waitFor(() => seen('DAVE', 'available'), 'dave to be seen online');
    dave.close();
    await waitFor(() => seen('DAVE', 'offline'), 'dave to be seen offline');
  });

  it('stops watching a removed buddy', async () => {
    await h.parley.buddies.add(alice, 'erin');
    await h.parley.buddies.add(alice, 'frank');
    await h.parley.buddies.remove(alice, 'erin');
    const from = changes.length;
    // erin arrives first; the server reports frank after her, so by then a report about erin would have come.
    const erin = await rawClient(server.port, 'erin');
    const frank = await rawClient(server.port, 'frank');
    await waitFor(() => changes.slice(from).some(([b, s]) => b === 'frank' && s === 'available'), 'frank to be seen online');
    expect(changes.slice(from).filter(([b]) => b === 'erin')).toEqual([]);
    erin.close();
    frank.close();
  });
});

describe('a buddy list longer than the server lets one MONITOR', () => {
  let small: InspircdServer;
  let h2: Harness;

  beforeAll(async () => {
    small = await startInspircd({ sasl: false, monitorLimit: 2 });
    h2 = await harness();
    h2.parley.events.on('buddyPresenceChanged', (_acc, buddy, presence) => changes.push([buddy, presence.status]));
  });

  afterAll(async () => {
    await h2?.close();
    await small?.close();
  });

  it('is polled with ISON instead, so every buddy is tracked', async () => {
    const id = await h2.account('alice', { server: '127.0.0.1', port: small.port, tls: false, isonInterval: 1 });
    await h2.parley.accounts.connect(id);
    for (const nick of ['gina', 'hank', 'ivan']) await h2.parley.buddies.add(id, nick);
    // With MONITOR the third nick would be refused (734 ERR_MONLISTFULL) and never reported.
    const ivan = await rawClient(small.port, 'ivan');
    await waitFor(() => seen('ivan', 'available'), 'ivan to be seen online');
    ivan.send('QUIT');
    await waitFor(() => seen('ivan', 'offline'), 'ivan to be seen offline');
    ivan.close();
  });
});
