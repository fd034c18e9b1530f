import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuddyIcon } from '@parley/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, rawXmpp, waitFor, xml, type Harness, type RawXmpp } from './helpers.js';

const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_DATA = 'urn:xmpp:avatar:data';
const NS_METADATA = 'urn:xmpp:avatar:metadata';
/** A 1×1 PNG; bytes after its end make other pictures with other hashes. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const picture = (tag: string) => Buffer.concat([PNG, Buffer.from(tag)]);
const sha1 = (data: Uint8Array) => createHash('sha1').update(data).digest('hex');

/** XEP-0084 §4.1: a client publishes the data, then the metadata announcing it. */
async function publishAvatar(client: RawXmpp, data: Buffer | undefined, info: { id: string; bytes?: number; type?: string }) {
  if (data !== undefined) {
    await client.iq('set', xml('pubsub', { xmlns: NS_PUBSUB }, xml('publish', { node: NS_DATA }, xml('item', { id: info.id }, xml('data', { xmlns: NS_DATA }, data.toString('base64'))))));
  }
  const attrs = { id: info.id, bytes: String(info.bytes ?? data?.byteLength ?? 0), type: info.type ?? 'image/png' };
  await client.iq('set', xml('pubsub', { xmlns: NS_PUBSUB }, xml('publish', { node: NS_METADATA }, xml('item', { id: info.id }, xml('metadata', { xmlns: NS_METADATA }, xml('info', attrs))))));
}

/** Alice and her contacts see each other's presence: PEP notifications go to contacts (XEP-0163 §4). */
async function befriend(server: TestProsody, user: string, contacts: string[]) {
  server.writeRoster(user, contacts.map((c) => ({ jid: `${c}@localhost`, subscription: 'both' as const })));
}

/** The built plugin, for a worker thread (pictures then cross the worker boundary as bytes). */
const builtPlugin = new URL('../dist/index.js', import.meta.url).href;

describe.each(['none', 'worker'] as const)('buddy icons against a real Prosody: XEP-0084 avatars (mod_pep) and the vCard conversion (mod_vcard_legacy), isolation %s', (isolation) => {
  let server: TestProsody;
  let h: Harness;
  let bob: RawXmpp;
  let alice: string;
  const icons: Array<{ buddy: string; icon: BuddyIcon | undefined }> = [];
  const fetched = () => h.logs.filter((r) => r.message === 'Fetched an avatar').length;
  const refused = (reason: string) => h.logs.some((r) => r.message === 'Refused an avatar' && String(r.data?.reason).includes(reason));

  beforeAll(async () => {
    // Large enough for the oversized picture below to reach Parley (Prosody's default stops it at 256 KiB).
    server = await startTestProsody({ modules: ['pep', 'vcard_legacy'], extraConfig: 'c2s_stanza_size_limit = 4 * 1024 * 1024\n', users: { alice: 'alice-pw', bob: 'bob-pw' } });
    await server.stop();
    await befriend(server, 'alice', ['bob']);
    await befriend(server, 'bob', ['alice']);
    await server.start();
    h = await harness(server, isolation === 'worker' ? { isolation, plugins: [], pluginModules: [builtPlugin] } : { isolation });
    h.parley.events.on('buddyIconChanged', (_account, buddy, icon) => icons.push({ buddy, icon }));
    bob = await rawXmpp(server, 'bob', 'bob-pw');
    alice = await h.account('alice', 'alice-pw');
  });
  afterAll(async () => {
    await bob?.stop();
    await h?.close();
    await server?.stop();
  });

  it('shows a contact\'s avatar published before sign-in: event, cached file named by its SHA-1, the buddy\'s icon', async () => {
    const a = picture('a');
    await publishAvatar(bob, a, { id: sha1(a) });
    await h.parley.accounts.connect(alice);
    await waitFor(() => icons.find((i) => i.buddy === 'bob@localhost'), 'bob\'s icon');
    const icon = icons.find((i) => i.buddy === 'bob@localhost')!.icon!;
    expect(icon).toMatchObject({ hash: sha1(a), type: 'image/png' });
    expect(icon.path.startsWith(join(h.home))).toBe(true);
    expect(icon.path.endsWith(`${sha1(a)}.png`)).toBe(true);
    expect(readFileSync(icon.path).equals(a)).toBe(true);
    expect(h.parley.buddies.find(alice, 'bob@localhost')?.buddy.icon?.hash).toBe(sha1(a));
    expect(fetched()).toBe(1);
  });

  it('does not fetch an unchanged avatar again after a reconnect, and follows a new one live', async () => {
    await h.parley.accounts.disconnect(alice);
    await h.parley.accounts.connect(alice);
    // The server sends the current metadata again at sign-in; a new picture after it is the barrier.
    const b = picture('b');
    await publishAvatar(bob, b, { id: sha1(b) });
    await waitFor(() => h.parley.buddies.find(alice, 'bob@localhost')?.buddy.icon?.hash === sha1(b), 'the new icon');
    expect(fetched()).toBe(2);
    expect(icons.map((i) => i.icon?.hash)).toEqual([sha1(picture('a')), sha1(b)]);
  });

  it('refuses hostile avatars: a wrong hash, 50 MiB announced, more bytes than announced, HTML declared as PNG', async () => {
    const before = icons.length;
    await publishAvatar(bob, picture('not what the hash says'), { id: sha1(picture('c')) });
    await waitFor(() => refused('SHA-1'), 'wrong hash refused');

    await publishAvatar(bob, undefined, { id: sha1(picture('huge')), bytes: 50 * 1024 * 1024 });
    await waitFor(() => refused('announces 52428800 bytes'), '50 MiB refused');

    const oversized = Buffer.concat([PNG, Buffer.alloc(600 * 1024, 7)]);
    await publishAvatar(bob, oversized, { id: sha1(oversized), bytes: 1000 });
    await waitFor(() => refused('larger than the limit'), 'oversized data refused');

    const html = Buffer.from('<html><body><script>alert(1)</script></body></html>');
    await publishAvatar(bob, html, { id: sha1(html), type: 'image/png' });
    await waitFor(() => h.logs.some((r) => r.message === 'Refused a buddy icon' && r.data?.code === 'icon-not-an-image'), 'HTML refused by the core');

    expect(icons.length).toBe(before);
    expect(h.parley.buddies.find(alice, 'bob@localhost')?.buddy.icon?.hash).toBe(sha1(picture('b')));
  });

  it('removes the icon when the contact switches its avatar off (empty metadata)', async () => {
    await bob.iq('set', xml('pubsub', { xmlns: NS_PUBSUB }, xml('publish', { node: NS_METADATA }, xml('item', { id: 'current' }, xml('metadata', { xmlns: NS_METADATA })))));
    await waitFor(() => icons.at(-1)?.icon === undefined && icons.at(-1)?.buddy === 'bob@localhost', 'icon removed');
    expect(h.parley.buddies.find(alice, 'bob@localhost')?.buddy.icon).toBeUndefined();
  });

  it('publishes the account\'s own picture from a file, which contacts read as XEP-0084 and as a vCard photo', async () => {
    const own = picture('alice');
    const file = join(h.home, 'me.png');
    writeFileSync(file, own);
    const icon = await h.parley.accounts.setIcon(alice, file);
    expect(icon?.hash).toBe(sha1(own));
    const metadata = await bob.iq('get', xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: NS_METADATA })), 'alice@localhost');
    const info = metadata?.getChild('items')?.getChild('item')?.getChild('metadata')?.getChild('info');
    expect(info?.attrs).toMatchObject({ id: sha1(own), bytes: String(own.byteLength), type: 'image/png' });
    const data = await bob.iq('get', xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: NS_DATA }, xml('item', { id: sha1(own) }))), 'alice@localhost');
    expect(Buffer.from(data?.getChild('items')?.getChild('item')?.getChildText('data') ?? '', 'base64').equals(own)).toBe(true);
    const vcard = await bob.iq('get', xml('vCard', { xmlns: 'vcard-temp' }), 'alice@localhost');
    expect(Buffer.from(vcard?.getChild('PHOTO')?.getChildText('BINVAL') ?? '', 'base64').equals(own)).toBe(true);

    const html = join(h.home, 'page.png');
    writeFileSync(html, '<html></html>');
    await expect(h.parley.accounts.setIcon(alice, html)).rejects.toMatchObject({ code: 'icon-not-an-image' });
    await expect(h.parley.accounts.setIcon(alice, join(h.home, 'missing.png'))).rejects.toMatchObject({ code: 'icon-unreadable' });
    const big = join(h.home, 'big.png');
    writeFileSync(big, Buffer.concat([PNG, Buffer.alloc(600 * 1024)]));
    await expect(h.parley.accounts.setIcon(alice, big)).rejects.toMatchObject({ code: 'icon-too-large' });
  });
});

describe('XEP-0153 vCard-based avatars, on a server with vCards only (mod_vcard)', () => {
  let server: TestProsody;
  let h: Harness;
  let carol: RawXmpp;
  let alice: string;

  beforeAll(async () => {
    server = await startTestProsody({ modules: ['vcard'], users: { alice: 'alice-pw', carol: 'carol-pw' } });
    await server.stop();
    await befriend(server, 'alice', ['carol']);
    await befriend(server, 'carol', ['alice']);
    await server.start();
    h = await harness(server);
    carol = await rawXmpp(server, 'carol', 'carol-pw');
    alice = await h.account('alice', 'alice-pw');
    await h.parley.accounts.connect(alice);
  });
  afterAll(async () => {
    await carol?.stop();
    await h?.close();
    await server?.stop();
  });

  it('fetches the vCard photo a contact\'s presence announces, checks its hash, and fetches it once', async () => {
    const photo = picture('carol');
    await carol.iq('set', xml('vCard', { xmlns: 'vcard-temp' }, xml('FN', {}, 'Carol'), xml('PHOTO', {}, xml('TYPE', {}, 'image/png'), xml('BINVAL', {}, photo.toString('base64')))));
    const presence = (hash: string) => xml('presence', {}, xml('priority', {}, '-1'), xml('x', { xmlns: 'vcard-temp:x:update' }, xml('photo', {}, hash)));
    await carol.send(presence(sha1(photo)));
    await waitFor(() => h.parley.buddies.find(alice, 'carol@localhost')?.buddy.icon?.hash === sha1(photo), 'carol\'s icon');
    expect(readFileSync(h.parley.buddies.find(alice, 'carol@localhost')!.buddy.icon!.path).equals(photo)).toBe(true);

    // The same hash again (every presence carries it) costs nothing; a hash the vCard does not match is refused.
    await carol.send(presence(sha1(photo)));
    await carol.send(presence(sha1(picture('other'))));
    await waitFor(() => h.logs.some((r) => r.message === 'Refused an avatar' && String(r.data?.reason).includes('SHA-1')), 'mismatch refused');
    expect(h.logs.filter((r) => r.message === 'Fetched an avatar').length).toBe(1);
    expect(h.parley.buddies.find(alice, 'carol@localhost')?.buddy.icon?.hash).toBe(sha1(photo));
  });
});
