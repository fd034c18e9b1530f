import { rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml, type Harness } from './helpers.js';

const CONTACTS = 300;

/** A plain TCP relay that keeps what the server wrote, to count roster items on the wire. */
async function wire(target: { host: string; port: number }): Promise<{ port: number; fromServer: () => string; reset(): void; close(): Promise<void> }> {
  let text = '';
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.on('data', (data: Buffer) => upstream.write(data));
    upstream.on('data', (data: Buffer) => {
      text += data.toString('utf8');
      client.write(data);
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    fromServer: () => text,
    reset() {
      text = '';
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Roster items the server sent: each contact's JID in an <item/>. */
const itemsOnWire = (text: string) => text.match(/<item [^>]*jid=["'][^"']+@example\.net["']/g)?.length ?? 0;

/** The built plugin, for a worker thread: the roster and its version then cross the worker boundary both ways (kept state, buddy list). */
const builtPlugin = new URL('../dist/index.js', import.meta.url).href;

describe.each(['none', 'worker'] as const)('roster versioning (RFC 6121 §2.6, XEP-0237) against a real Prosody, isolation %s', (isolation) => {
  const plugin = isolation === 'worker' ? { isolation, plugins: [], pluginModules: [builtPlugin] } : { isolation };
  let server: TestProsody;
  let link: Awaited<ReturnType<typeof wire>>;
  let h: Harness;
  let alice: string;
  const homes: string[] = [];
  const buddies = () => h.parley.buddies.contacts().flatMap((c) => c.buddies.filter((b) => b.accountId === alice).map((b) => b.name));

  beforeAll(async () => {
    // Unencrypted, so the relay can read the stream.
    server = await startTestProsody({ users: { alice: 'alice-pw' }, requireEncryption: false });
    await server.stop();
    server.writeRoster(
      'alice',
      Array.from({ length: CONTACTS }, (_, i) => ({ jid: `contact${i}@example.net`, name: `Contact ${i}`, groups: [`Group ${i % 7}`], subscription: 'none' as const })),
    );
    await server.start();
    link = await wire({ host: server.host, port: server.port });
    h = await harness(server, plugin);
    alice = await h.account('alice', 'alice-pw', { port: link.port, security: 'plain' });
  });
  afterAll(async () => {
    await h?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
    await link?.close();
    await server?.stop();
  });

  it('gets the whole roster once, then nothing while it is unchanged', async () => {
    await h.parley.accounts.connect(alice);
    expect(itemsOnWire(link.fromServer())).toBe(CONTACTS);
    expect(buddies()).toHaveLength(CONTACTS);

    await h.parley.accounts.disconnect(alice);
    link.reset();
    await h.parley.accounts.connect(alice);
    expect(itemsOnWire(link.fromServer())).toBe(0);
    expect(buddies()).toHaveLength(CONTACTS);
    expect(h.parley.buddies.find(alice, 'contact299@example.net')?.contact.group).toBe('Group 5');
    expect(h.logs.some((r) => r.message === 'The roster is unchanged since the last sign-in (roster versioning)' && r.data?.items === CONTACTS)).toBe(true);
  });

  it('follows pushes while online, so the next sign-in still transfers nothing', async () => {
    const phone = await rawXmpp(server, 'alice', 'alice-pw', 'phone');
    try {
      await phone.iq('set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'live@example.net', name: 'Live' }, xml('group', {}, 'New'))));
      await phone.iq('set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'contact1@example.net', subscription: 'remove' })));
      await waitFor(() => buddies().includes('live@example.net') && !buddies().includes('contact1@example.net'), 'pushes applied');
    } finally {
      await phone.stop();
    }
    await h.parley.accounts.disconnect(alice);
    link.reset();
    await h.parley.accounts.connect(alice);
    expect(itemsOnWire(link.fromServer())).toBe(0);
    expect(buddies()).toContain('live@example.net');
    expect(buddies()).not.toContain('contact1@example.net');
  });

  it('applies what changed while it was signed off (Prosody then sends the whole roster again, as §2.6.3 allows)', async () => {
    await h.parley.accounts.disconnect(alice);
    const phone = await rawXmpp(server, 'alice', 'alice-pw', 'phone');
    try {
      await phone.iq('set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'while-away@example.net' })));
      await phone.iq('set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'contact2@example.net', subscription: 'remove' })));
      await phone.iq('set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'contact3@example.net', name: 'Renamed' }, xml('group', {}, 'Moved'))));
    } finally {
      await phone.stop();
    }
    link.reset();
    await h.parley.accounts.connect(alice);
    expect(buddies()).toContain('while-away@example.net');
    expect(buddies()).not.toContain('contact2@example.net');
    expect(h.parley.buddies.find(alice, 'contact3@example.net')?.contact.group).toBe('Moved');
    expect(buddies()).toHaveLength(CONTACTS);

    // And the version that came with it is kept.
    await h.parley.accounts.disconnect(alice);
    link.reset();
    await h.parley.accounts.connect(alice);
    expect(itemsOnWire(link.fromServer())).toBe(0);
  });

  it('keeps the roster and its version across a restart of Parley', async () => {
    await h.parley.accounts.disconnect(alice);
    await h.parley.shutdown();
    const old = h;
    homes.push(old.home);
    h = await harness(server, { home: old.home, ...plugin });
    link.reset();
    await h.parley.accounts.connect(alice);
    expect(itemsOnWire(link.fromServer())).toBe(0);
    expect(buddies()).toHaveLength(CONTACTS);
    expect(buddies()).toContain('while-away@example.net');
  });
});
