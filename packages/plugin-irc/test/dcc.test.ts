/**
 * DCC file transfer through Parley's core (`parley.transfers`) on a real
 * ngircd: with WeeChat (Debian's weechat-headless), an independent client,
 * both ways and with DCC RESUME after a cut connection; and hostile offers
 * from a bare IRC client: names that are paths, a NUL, a 10 TiB size, an
 * address other than the sender's, a sender that stops or sends too much.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferInfo, UiOps } from '@parley/core';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { startWeechat, type WeechatPeer } from '../../../test/peers/weechat.js';
import { until, waitForEvent } from '../../../test/helpers/wait.js';
import { harness, rawClient, wireTap, type Harness, type RawClient, type WireTap } from './helpers.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const IPV4_LOOPBACK = String(0x7f000001);

let server: NgircdServer;
let weechat: WeechatPeer;
let tap: WireTap;
let h: Harness;
let account: string;
let evil: RawClient;
let work: string;
let downloads: string;
let source: string;
let sourceBytes: Buffer;
/** What the UI answers when a DCC offer points at another address. */
let allowOtherAddress = false;
const addressQuestions: string[] = [];

const SIZE = 24 * 1024 * 1024 + 99;

/** Accepts every file offer; answers the address question with `allowOtherAddress`. */
const ui: UiOps = {
  async request(request, context) {
    if (context.purpose !== 'file-transfer') return undefined as never;
    if (request.kind === 'choice') return 'accept' as never;
    if (request.kind === 'confirm') {
      addressQuestions.push(request.title);
      return allowOtherAddress as never;
    }
    return undefined as never;
  },
  notify() {},
};

beforeAll(async () => {
  server = await startNgircd();
  weechat = await startWeechat({ port: server.port, nick: 'wee' });
  tap = await wireTap(server.port);
  work = mkdtempSync(join(tmpdir(), 'parley-dcc-'));
  downloads = join(work, 'downloads');
  mkdirSync(downloads);
  sourceBytes = randomBytes(SIZE);
  source = join(work, 'holiday photos.tar');
  writeFileSync(source, sourceBytes);
  h = await harness({ ui, transfers: { downloadDir: downloads, maxIncomingSize: 1024 ** 3 } });
  account = await h.account('parley', { server: '127.0.0.1', port: tap.port, tls: false });
  await h.parley.accounts.connect(account);
  evil = await rawClient(server.port, 'evil');
}, 90_000);

afterAll(async () => {
  evil?.close();
  await h?.close();
  await tap?.close();
  await weechat?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** The next incoming transfer Parley reports. */
function nextOffer(): Promise<TransferInfo> {
  return waitForEvent(h.parley.events, 'transferAdded', (t) => t.direction === 'incoming', 30_000).then(([t]) => t);
}

/** Files in the download folder, temporary ones included. */
const downloaded = () => readdirSync(downloads);

describe('DCC with WeeChat on ngircd, through parley.transfers', () => {
  it('receives a file WeeChat sends: same SHA-256, under its own name in the download folder', async () => {
    const offer = nextOffer();
    weechat.sendFile('parley', source);
    const incoming = await offer;
    expect(incoming).toMatchObject({ peer: 'wee', name: 'holiday photos.tar', size: SIZE });
    expect(incoming.origin).toMatch(/^DCC from 127\.0\.0\.1:\d+/);
    const done = await h.parley.transfers.settled(incoming.id);
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('done');
    expect(done.path).toBe(join(downloads, 'holiday photos.tar'));
    expect(sha(readFileSync(done.path!))).toBe(sha(sourceBytes));
    expect(downloaded()).toEqual(['holiday photos.tar']);
    rmSync(done.path!);
  }, 120_000);

  it('sends a file WeeChat receives: same SHA-256', async () => {
    const from = weechat.log().length;
    const sent = await h.parley.transfers.send(account, 'wee', source);
    const done = await h.parley.transfers.settled(sent.id);
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('done');
    await weechat.waitForLog(/xfer: file holiday photos\.tar received from parley .*OK/, 'the file to arrive', from);
    await until(() => existsSync(join(weechat.downloadDir, 'holiday photos.tar')), 20_000, 'WeeChat to rename its temporary file');
    expect(sha(readFileSync(join(weechat.downloadDir, 'holiday photos.tar')))).toBe(sha(sourceBytes));
    rmSync(join(weechat.downloadDir, 'holiday photos.tar'));
  }, 120_000);

  it('after a cut connection, WeeChat resumes with DCC RESUME and Parley sends only the rest', async () => {
    const name = 'resumed.bin';
    const path = join(work, name);
    writeFileSync(path, sourceBytes);
    // WeeChat reads slowly (2 MiB/s) for the first attempt, so it is still going when it is cut.
    await weechat.set('xfer.network.speed_limit_recv', '2048');
    const from = weechat.log().length;
    const first = await h.parley.transfers.send(account, 'wee', path);
    await waitForEvent(h.parley.events, 'transferProgress', (t, p) => t.id === first.id && p.bytes >= 1024 * 1024, 30_000);
    await h.parley.transfers.cancel(first.id);
    await weechat.waitForLog(/xfer: file resumed\.bin received from parley .*FAILED/, 'the cut transfer to fail', from);
    const partial = statSync(join(weechat.downloadDir, `${name}.part`)).size;
    expect(partial).toBeLessThan(SIZE);

    await weechat.set('xfer.network.speed_limit_recv', '0');
    const next = weechat.log().length;
    const second = await h.parley.transfers.send(account, 'wee', path);
    const done = await h.parley.transfers.settled(second.id);
    expect(done.error).toBeUndefined();
    await weechat.waitForLog(/xfer: file resumed\.bin received from parley .*OK/, 'the resumed file', next);
    await until(() => existsSync(join(weechat.downloadDir, name)), 20_000, 'WeeChat to rename its temporary file');
    expect(sha(readFileSync(join(weechat.downloadDir, name)))).toBe(sha(sourceBytes));
    // WeeChat asked to resume at its partial size; Parley agreed on the wire.
    expect(tap.toClient.some((l) => l.includes(`\x01DCC RESUME ${name} `) && !l.endsWith(' 0\x01'))).toBe(true);
    expect(tap.toServer.some((l) => /^PRIVMSG wee :\x01DCC ACCEPT resumed\.bin \d+ [1-9]\d*\x01$/.test(l))).toBe(true);
  }, 120_000);

  it('never lets a file name inject an IRC command into the offer', async () => {
    const dir = mkdtempSync(join(work, 'odd-'));
    const path = join(dir, 'a\r\nQUIT :gone\r\nb.txt');
    writeFileSync(path, 'x');
    const lines = tap.toServer.length;
    const sent = await h.parley.transfers.send(account, 'evil', path);
    await until(() => evil.lines.some((l) => l.includes('DCC SEND')), 20_000, 'the offer to arrive');
    const offerLines = tap.toServer.slice(lines);
    expect(offerLines.filter((l) => /^QUIT/.test(l))).toEqual([]);
    expect(offerLines.find((l) => l.includes('DCC SEND'))).toMatch(/^PRIVMSG evil :\x01DCC SEND "a__QUIT :gone__b\.txt" \d+ \d+ 1\x01$/);
    await h.parley.transfers.cancel(sent.id);
  });

  it('an offer the peer declines (DCC REJECT) ends as cancelled by the peer', async () => {
    const path = join(work, 'unwanted.txt');
    writeFileSync(path, 'no thanks');
    const seen = evil.lines.length;
    const sent = await h.parley.transfers.send(account, 'evil', path);
    await until(() => evil.lines.slice(seen).some((l) => l.includes('\x01DCC SEND unwanted.txt ')), 20_000, 'the offer to arrive');
    evil.send('NOTICE parley :\x01DCC REJECT SEND unwanted.txt\x01');
    const ended = await h.parley.transfers.settled(sent.id);
    expect(ended).toMatchObject({ state: 'cancelled', cancelledBy: 'peer' });
  });
});

/** A DCC sender the test controls: what it does with the connection once Parley connects. */
async function hostileSender(onConnection: (socket: Socket) => void, host = '127.0.0.1'): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const s = createServer((socket) => {
    count++;
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  return { server: s, port: (s.address() as { port: number }).port, connections: () => count };
}

describe('hostile DCC offers', () => {
  it.each([
    ['a name climbing out with ../', '../../../../tmp/parley-escape.txt', 'parley-escape.txt'],
    ['an absolute path', '"/etc/cron.d/parley"', 'parley'],
  ])('%s: the file lands in the download folder under one safe name, nowhere else', async (_what, offered, expected) => {
    const data = randomBytes(1000);
    const peer = await hostileSender((socket) => socket.end(data));
    try {
      const offer = nextOffer();
      evil.send(`PRIVMSG parley :\x01DCC SEND ${offered} ${IPV4_LOOPBACK} ${peer.port} ${data.length}\x01`);
      const incoming = await offer;
      const done = await h.parley.transfers.settled(incoming.id);
      expect(done.error, JSON.stringify(done) + evil.lines.slice(-5).join('\n')).toBeUndefined();
      expect(dirname(done.path!)).toBe(downloads);
      expect(done.path).toBe(join(downloads, expected));
      expect(readFileSync(done.path!)).toEqual(data);
      expect(existsSync('/tmp/parley-escape.txt')).toBe(false);
      rmSync(done.path!);
    } finally {
      peer.server.close();
    }
  });

  it('a name with a NUL never becomes an offer; the next offer still comes through', async () => {
    const peer = await hostileSender((socket) => socket.end('ok'));
    try {
      const offers: TransferInfo[] = [];
      const listener = (t: TransferInfo) => offers.push(t);
      h.parley.events.on('transferAdded', listener);
      const offer = nextOffer();
      // ngircd never relays a NUL (it stops reading the sender's connection): played as a server that does.
      tap.inject(`:evil!evil@127.0.0.1 PRIVMSG parley :\x01DCC SEND "bad\0name.txt" ${IPV4_LOOPBACK} ${peer.port} 2\x01`);
      tap.inject(`:evil!evil@127.0.0.1 PRIVMSG parley :\x01DCC SEND good.txt ${IPV4_LOOPBACK} ${peer.port} 2\x01`);
      const incoming = await offer;
      h.parley.events.off('transferAdded', listener);
      expect(incoming.name).toBe('good.txt');
      expect(offers.map((t) => t.name)).toEqual(['good.txt']);
      const done = await h.parley.transfers.settled(incoming.id);
      expect(done.state).toBe('done');
      rmSync(done.path!);
    } finally {
      peer.server.close();
    }
  });

  it('a 10 TiB offer is declined without connecting, and the sender is told', async () => {
    const peer = await hostileSender(() => undefined);
    try {
      const offer = nextOffer();
      evil.send(`PRIVMSG parley :\x01DCC SEND huge.iso ${IPV4_LOOPBACK} ${peer.port} ${10 * 2 ** 40}\x01`);
      const incoming = await offer;
      const ended = await h.parley.transfers.settled(incoming.id);
      expect(ended.state).not.toBe('done');
      expect(ended.error?.code).toBe('transfer-too-large');
      await until(() => evil.lines.some((l) => l.includes('NOTICE evil :\x01DCC REJECT SEND huge.iso\x01')), 20_000, 'the DCC REJECT');
      expect(peer.connections()).toBe(0);
      expect(downloaded(), 'the download folder').toEqual([]);
    } finally {
      peer.server.close();
    }
  });

  it('an offer pointing at another address is refused unless the user allows it, and nothing connects there', async () => {
    // 127.0.0.2 answers on loopback, but the offering client connects from 127.0.0.1.
    const peer = await hostileSender((socket) => socket.end('xx'), '127.0.0.2');
    try {
      allowOtherAddress = false;
      const asked = addressQuestions.length;
      const offer = nextOffer();
      evil.send(`PRIVMSG parley :\x01DCC SEND elsewhere.txt ${0x7f000002} ${peer.port} 2\x01`);
      const incoming = await offer;
      const ended = await h.parley.transfers.settled(incoming.id);
      expect(ended.state).toBe('failed');
      expect(ended.error?.code).toBe('transfer-refused-address');
      expect(addressQuestions.slice(asked)).toEqual(['Connect to 127.0.0.2 for evil\'s file?']);
      expect(peer.connections()).toBe(0);
      expect(downloaded(), 'the download folder').toEqual([]);

      // Allowed by the user: then it connects.
      allowOtherAddress = true;
      const again = nextOffer();
      evil.send(`PRIVMSG parley :\x01DCC SEND elsewhere.txt ${0x7f000002} ${peer.port} 2\x01`);
      const done = await h.parley.transfers.settled((await again).id);
      expect(done.state).toBe('done');
      expect(peer.connections()).toBe(1);
      rmSync(done.path!);
    } finally {
      allowOtherAddress = false;
      peer.server.close();
    }
  });

  it('a sender that stops half way: failed as incomplete, nothing under the final name; only the hidden part kept to resume', async () => {
    const peer = await hostileSender((socket) => socket.end(randomBytes(600)));
    try {
      const offer = nextOffer();
      evil.send(`PRIVMSG parley :\x01DCC SEND half.bin ${IPV4_LOOPBACK} ${peer.port} 1000\x01`);
      const ended = await h.parley.transfers.settled((await offer).id);
      expect(ended.state).toBe('failed');
      expect(ended.error?.code).toBe('transfer-incomplete');
      // DCC can resume: the 600 good bytes stay under the hidden temporary name for the same offer made
      // again (the core removes such parts when it stops); never a file under the name the peer gave.
      const left = downloaded();
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^\.half\.bin\.[0-9a-f]+\.parley-part$/);
      expect(statSync(join(downloads, left[0]!)).size).toBe(600);
      rmSync(join(downloads, left[0]!));
    } finally {
      peer.server.close();
    }
  });

  it('a sender that sends more than it announced: failed as oversize, nothing left', async () => {
    const peer = await hostileSender((socket) => socket.write(randomBytes(5000)));
    try {
      const offer = nextOffer();
      evil.send(`PRIVMSG parley :\x01DCC SEND more.bin ${IPV4_LOOPBACK} ${peer.port} 1000\x01`);
      const ended = await h.parley.transfers.settled((await offer).id);
      expect(ended.state).toBe('failed');
      expect(ended.error?.code).toBe('transfer-oversize');
      expect(downloaded(), 'the download folder').toEqual([]);
    } finally {
      peer.server.close();
    }
  });
});

describe('DCC from the plugin in its worker thread', () => {
  let worker: Harness;
  let workerAccount: string;
  let workerDownloads: string;

  beforeAll(async () => {
    workerDownloads = join(work, 'worker-downloads');
    mkdirSync(workerDownloads);
    worker = await harness({ plugins: [], pluginModules: [new URL('../dist/index.js', import.meta.url).href], isolation: 'worker', ui, transfers: { downloadDir: workerDownloads } });
    workerAccount = await worker.account('workerdcc', { server: '127.0.0.1', port: server.port, tls: false });
    await worker.parley.accounts.connect(workerAccount);
  });

  afterAll(async () => {
    await worker?.close();
  });

  it('receives from WeeChat and sends to it, the same bytes each way', async () => {
    const offer = waitForEvent(worker.parley.events, 'transferAdded', (t) => t.direction === 'incoming', 30_000);
    weechat.sendFile('workerdcc', source);
    const [incoming] = await offer;
    const received = await worker.parley.transfers.settled(incoming.id);
    expect(received.error).toBeUndefined();
    expect(sha(readFileSync(received.path!))).toBe(sha(sourceBytes));

    const name = 'from worker.bin';
    const path = join(work, name);
    writeFileSync(path, sourceBytes);
    const from = weechat.log().length;
    const sent = await worker.parley.transfers.send(workerAccount, 'wee', path);
    expect((await worker.parley.transfers.settled(sent.id)).state).toBe('done');
    await weechat.waitForLog(/xfer: file from worker\.bin received from workerdcc .*OK/, 'the file from the worker', from);
    await until(() => existsSync(join(weechat.downloadDir, name)), 20_000, 'WeeChat to rename its temporary file');
    expect(sha(readFileSync(join(weechat.downloadDir, name)))).toBe(sha(sourceBytes));
  }, 120_000);

  it('asks the user (across the worker boundary) before connecting to another address', async () => {
    const peer = await hostileSender((socket) => socket.end('xx'), '127.0.0.2');
    try {
      allowOtherAddress = false;
      const asked = addressQuestions.length;
      const offer = waitForEvent(worker.parley.events, 'transferAdded', (t) => t.direction === 'incoming', 30_000);
      evil.send(`PRIVMSG workerdcc :\x01DCC SEND elsewhere.txt ${0x7f000002} ${peer.port} 2\x01`);
      const [incoming] = await offer;
      const ended = await worker.parley.transfers.settled(incoming.id);
      expect(ended.error?.code).toBe('transfer-refused-address');
      expect(addressQuestions.length).toBe(asked + 1);
      expect(peer.connections()).toBe(0);
      expect(readdirSync(workerDownloads).filter((f) => f.startsWith('.'))).toEqual([]);
    } finally {
      peer.server.close();
    }
  });
});
