import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransferInfo } from '@parley/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlixmppPeer } from '../../../test/peers/slixmpp-peer.js';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, waitFor, type Harness } from './helpers.js';

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The built plugin, for the runs with the plugin in its worker thread (Parley's default). */
const builtPlugin = new URL('../dist/index.js', import.meta.url).href;

describe.each(['none', 'worker'] as const)('XMPP file transfer against Prosody and slixmpp, isolation %s', (isolation) => {
  const where = isolation === 'worker' ? { isolation, plugins: [], pluginModules: [builtPlugin] } : { isolation };
  let server: TestProsody;
  let h: Harness;
  let bob: SlixmppPeer;
  let alice: string;
  let work: string;
  let downloads: string;
  let bobFiles: string;
  let file: string;
  let fileHash: string;
  const size = 3 * 1024 * 1024 + 17;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'parley-xmpp-ft-'));
    downloads = join(work, 'downloads');
    bobFiles = join(work, 'bob');
    mkdirSync(downloads);
    mkdirSync(bobFiles);
    file = join(work, 'report 2026.bin');
    writeFileSync(file, randomBytes(size));
    fileHash = await sha256(file);
    server = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' }, httpFileShare: {}, proxy65: true, ...(process.env.FT_DEBUG === undefined ? {} : { logLevel: 'debug' }) });
    if (process.env.FT_DEBUG !== undefined) console.log('prosody dir', server.dir);
    h = await harness(server, { ...where, answer: (_request, purpose) => (purpose === 'file-transfer' ? 'accept' : undefined) });
    h.parley.transfers.configure({ downloadDir: downloads });
    alice = await h.account('alice', 'alice-pw');
    await h.parley.accounts.connect(alice);
    bob = await SlixmppPeer.start({ jid: 'bob@localhost', password: 'bob-pw', host: server.host, port: server.port, caPath: server.certificates.caCertPath });
    await bob.call('receive_policy', { accept: true, dir: bobFiles });
  });

  afterAll(async () => {
    if (process.env.FT_DEBUG !== undefined) {
      for (const r of h.logs) console.log(r.level, r.message, JSON.stringify(r.data ?? {}));
      console.log(bob?.dump());
    }
    await bob?.stop();
    await h?.close();
    await server?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  /** The next transfer the core reports for an incoming offer. */
  function nextIncoming(): Promise<TransferInfo> {
    return new Promise((resolve) => {
      const listener = (t: TransferInfo) => {
        if (t.direction !== 'incoming') return;
        h.parley.events.off('transferAdded', listener);
        resolve(t);
      };
      h.parley.events.on('transferAdded', listener);
    });
  }

  /** Bob's full JID: Alice has no subscription to his presence, so she addresses his client directly. */
  async function bobJid(): Promise<string> {
    return String((await bob.waitFor((e) => e.event === 'online')).jid);
  }

  /** The way Alice sends files (read when the account connects). */
  async function useMethod(method: 'upload' | 'jingle' | 'ibb'): Promise<void> {
    await h.parley.accounts.update(alice, { settings: { fileTransfer: method } });
    await h.parley.accounts.disconnect(alice);
    await h.parley.accounts.connect(alice);
  }

  it('declares file transfer with its methods', () => {
    expect(h.parley.transfers.capability(alice)).toMatchObject({ send: true, receive: true, methods: ['http-upload', 'jingle-socks5', 'jingle-ibb'] });
  });

  it('Parley → slixmpp by HTTP upload (XEP-0363) with the link as OOB (XEP-0066)', async () => {
    await useMethod('upload');
    const sent = await h.parley.transfers.send(alice, await bobJid(), file, { description: 'the report' });
    const done = await h.parley.transfers.settled(sent.id);
    expect(done.state).toBe('done');
    expect(done.bytes).toBe(size);
    expect(done.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/file_share\/.+report%202026\.bin$/);
    const oob = await bob.waitFor((e) => e.event === 'oob' && e.url === done.url);
    expect(oob.desc).toBe('the report');
    const got = await bob.call('download', { url: done.url, path: join(bobFiles, 'from-upload') });
    expect(got.sha256).toBe(fileHash);
  });

  it('slixmpp → Parley: an uploaded file\'s OOB link is offered and downloaded through the core\'s network layer', async () => {
    const incoming = nextIncoming();
    const { url } = await bob.call('upload', { path: file });
    await bob.call('send_oob', { to: 'alice@localhost', url, desc: 'for you' });
    const offer = await incoming;
    expect(offer.name).toBe('report 2026.bin');
    expect(offer.origin).toBe(url);
    const done = await h.parley.transfers.settled(offer.id);
    expect(done.state).toBe('done');
    expect(await sha256(done.path!)).toBe(fileHash);
  });

  for (const [label, hostile] of [
    ['SOCKS5 direct (XEP-0260)', {}],
    ['SOCKS5 through the server\'s proxy (XEP-0065)', { no_direct: true }],
    ['in-band bytestream (XEP-0261, XEP-0047)', undefined],
  ] as const) {
    it(`slixmpp → Parley by Jingle (XEP-0234), ${label}, the checksum (XEP-0300) verified`, async () => {
      const incoming = nextIncoming();
      const sending = bob.call('jingle_send', { to: 'alice@localhost/parley', path: file, transport: hostile === undefined ? 'ibb' : 's5b', hostile: hostile ?? {} });
      const offer = await incoming;
      expect(offer).toMatchObject({ name: 'report 2026.bin', size });
      const done = await h.parley.transfers.settled(offer.id);
      expect(done.state, JSON.stringify(done.error)).toBe('done');
      expect(await sha256(done.path!)).toBe(fileHash);
      expect((await sending).result).toBe('success');
    });
  }

  for (const [label, method, only] of [
    ['SOCKS5 direct', 'jingle', 'direct'],
    ['SOCKS5 through the server\'s proxy', 'jingle', 'proxy'],
    ['in-band bytestream', 'ibb', null],
  ] as const) {
    it(`Parley → slixmpp by Jingle, ${label}`, async () => {
      await bob.call('receive_policy', { accept: true, dir: bobFiles, only });
      await useMethod(method);
      const sent = await h.parley.transfers.send(alice, await bobJid(), file);
      const done = await h.parley.transfers.settled(sent.id);
      expect(done.state, JSON.stringify(done.error)).toBe('done');
      expect(done.bytes).toBe(size);
      // slixmpp reports the file before it ends the session, which is what completes Parley's side.
      const received = await bob.waitFor((e) => e.event === 'received' && !seenSids.has(String(e.sid)));
      seenSids.add(String(received.sid));
      expect(received.sha256).toBe(fileHash);
      expect(received.hash_ok).toBe(true);
    });
  }
  const seenSids = new Set<string>();

  describe('hostile peers', () => {
    it('an in-band stream that sends more than the offer announced fails as oversize, and no file is left', async () => {
      const before = readdirSync(downloads);
      const incoming = nextIncoming();
      void bob.call('jingle_send', { to: 'alice@localhost/parley', path: file, transport: 'ibb', announce: size - 1000 }).catch(() => undefined);
      const offer = await incoming;
      const done = await h.parley.transfers.settled(offer.id);
      expect(done.state).toBe('failed');
      expect(done.error?.code).toBe('transfer-oversize');
      await waitFor(() => readdirSync(downloads).length === before.length, 'the partial file removed');
    });

    it('a SOCKS5 stream that stops half way fails as incomplete, and no file is left', async () => {
      const before = readdirSync(downloads);
      const incoming = nextIncoming();
      void bob.call('jingle_send', { to: 'alice@localhost/parley', path: file, transport: 's5b', hostile: { stop_after: 1_000_000, close: true } }).catch(() => undefined);
      const offer = await incoming;
      const done = await h.parley.transfers.settled(offer.id);
      expect(done.state).toBe('failed');
      expect(done.error?.code).toBe('transfer-incomplete');
      await waitFor(() => readdirSync(downloads).length === before.length, 'the partial file removed');
    });

    describe('streamhosts on other addresses', () => {
      let trap: Server;
      let connections = 0;
      beforeAll(async () => {
        trap = createServer((socket) => {
          connections += 1;
          socket.destroy();
        });
        await new Promise<void>((resolve) => trap.listen(0, '127.0.0.2', resolve));
      });
      afterAll(() => new Promise<void>((resolve) => trap.close(() => resolve())));

      it('an offer to connect elsewhere is shown with its address and not connected to when declined', async () => {
        const port = (trap.address() as { port: number }).port;
        const other = await harness(server, { ...where, answer: () => 'decline' });
        try {
          other.parley.transfers.configure({ downloadDir: downloads });
          const carolId = await other.account('alice', 'alice-pw', { resource: 'second' });
          await other.parley.accounts.connect(carolId);
          const offered = new Promise<TransferInfo>((resolve) => other.parley.events.on('transferAdded', (t) => resolve(t)));
          const sending = bob.call('jingle_send', { to: 'alice@localhost/second', path: file, transport: 's5b', hostile: { streamhost: ['127.0.0.2', port] } });
          const offer = await offered;
          expect(offer.origin).toContain(`127.0.0.2:${port}`);
          const done = await other.parley.transfers.settled(offer.id);
          expect(done.state).toBe('cancelled');
          expect((await sending).result).toBe('decline');
          expect(connections).toBe(0);
        } finally {
          await other.close();
        }
      });

      it('a streamhost offered in the proxy\'s name at another address is skipped (the transfer falls back to in-band)', async () => {
        const port = (trap.address() as { port: number }).port;
        const incoming = nextIncoming();
        const sending = bob.call('jingle_send', { to: 'alice@localhost/parley', path: file, transport: 's5b', hostile: { fake_proxy: ['127.0.0.2', port, server.proxyDomain] } });
        const offer = await incoming;
        const done = await h.parley.transfers.settled(offer.id);
        expect(done.state, JSON.stringify(done.error)).toBe('done');
        expect(await sha256(done.path!)).toBe(fileHash);
        expect((await sending).result).toBe('success');
        expect(connections).toBe(0);
      });
    });

    it('a name with ../ is saved inside the download folder under a safe name', async () => {
      const incoming = nextIncoming();
      void bob.call('jingle_send', { to: 'alice@localhost/parley', path: file, transport: 'ibb', name: '../../escape.bin' }).catch(() => undefined);
      const offer = await incoming;
      const done = await h.parley.transfers.settled(offer.id);
      expect(done.state).toBe('done');
      expect(done.path!.startsWith(downloads + '/')).toBe(true);
      expect(done.path).not.toContain('..');
      expect(existsSync(join(work, 'escape.bin'))).toBe(false);
      expect(existsSync(join(downloads, '..', '..', 'escape.bin'))).toBe(false);
    });
  });
});
