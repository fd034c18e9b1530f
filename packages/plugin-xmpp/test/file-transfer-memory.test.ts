import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransferInfo } from '@parley/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlixmppPeer } from '../../../test/peers/slixmpp-peer.js';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, type Harness } from './helpers.js';

const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
/** The bound on Parley's resident-set growth while it moves the file: far below the file's size. */
const MAX_GROWTH = 64 * MiB;

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The highest resident set seen while `work` runs (sampled every 20 ms), minus the one before it. */
async function rssGrowth(work: () => Promise<void>): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - before;
}

describe('a 200 MiB file through XMPP keeps Parley\'s memory flat', () => {
  let server: TestProsody;
  let h: Harness;
  let bob: SlixmppPeer;
  let alice: string;
  let work: string;
  let file: string;
  let fileHash: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'parley-xmpp-ft-mem-'));
    mkdirSync(join(work, 'downloads'));
    mkdirSync(join(work, 'bob'));
    file = join(work, 'big.bin');
    // Written a mebibyte at a time: the test itself holds no copy of the file.
    const block = randomBytes(MiB);
    const fd = openSync(file, 'w');
    for (let i = 0; i < SIZE / MiB; i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block);
    }
    closeSync(fd);
    fileHash = await sha256(file);
    server = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' }, httpFileShare: { sizeLimit: 256 * MiB } });
    h = await harness(server, { answer: (_request, purpose) => (purpose === 'file-transfer' ? 'accept' : undefined) });
    h.parley.transfers.configure({ downloadDir: join(work, 'downloads') });
    alice = await h.account('alice', 'alice-pw', { fileTransfer: 'upload' });
    await h.parley.accounts.connect(alice);
    bob = await SlixmppPeer.start({ jid: 'bob@localhost', password: 'bob-pw', host: server.host, port: server.port, caPath: server.certificates.caCertPath });
    await bob.call('receive_policy', { accept: true, dir: join(work, 'bob') });
  }, 120_000);

  afterAll(async () => {
    await bob?.stop();
    await h?.close();
    await server?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('uploading it (XEP-0363, HTTPS through the core\'s network layer)', async () => {
    let done: TransferInfo | undefined;
    const growth = await rssGrowth(async () => {
      const sent = await h.parley.transfers.send(alice, 'bob@localhost', file);
      done = await h.parley.transfers.settled(sent.id);
    });
    expect(done?.state, JSON.stringify(done?.error)).toBe('done');
    console.info(`resident set grew ${(growth / MiB).toFixed(1)} MiB while moving ${SIZE / MiB} MiB`);
    expect(growth, `RSS grew ${(growth / MiB).toFixed(1)} MiB`).toBeLessThan(MAX_GROWTH);
    const got = await bob.call('download', { url: done!.url, path: join(work, 'bob', 'uploaded.bin') });
    expect(got.sha256).toBe(fileHash);
  }, 300_000);

  it('receiving it by Jingle over a SOCKS5 bytestream', async () => {
    let done: TransferInfo | undefined;
    const growth = await rssGrowth(async () => {
      const offered = new Promise<TransferInfo>((resolve) => {
        const listener = (t: TransferInfo) => {
          if (t.direction !== 'incoming') return;
          h.parley.events.off('transferAdded', listener);
          resolve(t);
        };
        h.parley.events.on('transferAdded', listener);
      });
      void bob.call('jingle_send', { to: 'alice@localhost/parley', path: file, transport: 's5b' }).catch(() => undefined);
      done = await h.parley.transfers.settled((await offered).id);
    });
    expect(done?.state, JSON.stringify(done?.error)).toBe('done');
    console.info(`resident set grew ${(growth / MiB).toFixed(1)} MiB while moving ${SIZE / MiB} MiB`);
    expect(growth, `RSS grew ${(growth / MiB).toFixed(1)} MiB`).toBeLessThan(MAX_GROWTH);
    expect(await sha256(done!.path!)).toBe(fileHash);
  }, 300_000);
});
