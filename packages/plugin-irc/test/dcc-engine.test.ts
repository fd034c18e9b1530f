/**
 * The DCC engine (src/dcc) against WeeChat, an independent client, over a
 * real ngircd: both directions, RESUME after a cut connection each way, and
 * the address check. The engine talks to IRC through a bare socket here;
 * the tests through Parley's core are in dcc.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNet, isParleyError, type Logger } from '@parley/core';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { startWeechat, type WeechatPeer } from '../../../test/peers/weechat.js';
import { until } from '../../../test/helpers/wait.js';
import { rawClient, type RawClient } from './helpers.js';
import { DccTransfers, type DccHost } from '../src/dcc/manager.js';
import type { IncomingFileOffer, TransferReporter } from '@parley/core';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as unknown as Logger;

interface Reports {
  offers: IncomingFileOffer[];
  progress: Map<string, number>;
  completed: string[];
  failed: Map<string, Error>;
  cancelled: string[];
}

/** A bare IRC client feeding CTCP DCC lines to a DccTransfers, as connection.ts does. */
async function engine(port: number, nick: string, options: { allowAddress?: boolean; asked?: string[]; canListen?: boolean } = {}) {
  let client: RawClient | undefined;
  const reports: Reports = { offers: [], progress: new Map(), completed: [], failed: new Map(), cancelled: [] };
  const report: TransferReporter = {
    offered: (offer) => reports.offers.push(offer),
    accepted: () => undefined,
    progress: (id, bytes) => reports.progress.set(id, bytes),
    completed: (id) => reports.completed.push(id),
    failed: (id, error) => reports.failed.set(id, error),
    cancelled: (id) => reports.cancelled.push(id),
  };
  const net = createNet({ proxy: { mode: 'none' } }, { trustCertificate: () => Promise.resolve(false) });
  // As behind a proxy: the core refuses to listen, so offers go out passive.
  const refuseListen = () => createNet({ proxy: { mode: 'server', server: { scheme: 'socks5', host: '127.0.0.1', port: 9 } } }, { trustCertificate: () => Promise.resolve(false) }).listen({ host: '127.0.0.1' });
  const host: DccHost = {
    net: options.canListen === false ? { connect: net.connect, lookup: net.lookup, listen: refuseListen } : net,
    log: quiet,
    report,
    ctcp: (to, body) => client?.send(`PRIVMSG ${to} :\x01${body}\x01`),
    ctcpReply: (to, body) => client?.send(`NOTICE ${to} :\x01${body}\x01`),
    localAddress: () => client?.socket.localAddress,
    sameNick: (a, b) => a.toLowerCase() === b.toLowerCase(),
    openSink: (target, onProgress) => {
      const stream = createWriteStream(target.path, { flags: 'r+', start: target.offset });
      let bytes = target.offset;
      stream.on('drain', () => undefined);
      const write = stream.write.bind(stream) as (chunk: Buffer, cb?: (e?: Error | null) => void) => boolean;
      (stream as unknown as { write: typeof write }).write = (chunk, cb) => write(chunk, (e) => {
        if (!e) onProgress((bytes += chunk.length));
        cb?.(e);
      });
      return stream;
    },
    allowAddress: async (q) => {
      options.asked?.push(`${q.address}:${q.port}`);
      return options.allowAddress === true;
    },
  };
  const dcc = new DccTransfers(host, { resumeMs: 30_000 });
  client = await rawClient(port, nick, [], undefined, (line) => {
    const m = /^:([^!\s]+)!([^@\s]+)@(\S+) (PRIVMSG|NOTICE) (\S+) :\x01(DCC .*?)\x01?$/.exec(line);
    if (m !== null) dcc.onCtcp(m[1]!, m[3]!, m[6]!, m[4] === 'NOTICE');
  });
  return { dcc, reports, lines: client.lines, send: client.send, close: client.close };
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('DCC engine against WeeChat on ngircd', () => {
  let server: NgircdServer;
  let weechat: WeechatPeer;
  let dir: string;
  let source: string;
  const SIZE = 24 * 1024 * 1024 + 321;

  beforeAll(async () => {
    server = await startNgircd();
    weechat = await startWeechat({ port: server.port, nick: 'wee' });
    dir = mkdtempSync(join(tmpdir(), 'parley-dcc-engine-'));
    source = join(dir, 'source file.bin');
    writeFileSync(source, randomBytes(SIZE));
  });

  afterAll(async () => {
    await weechat?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('receives a file WeeChat sends, and resumes it with DCC RESUME after the connection was cut', async () => {
    const parley = await engine(server.port, 'recv1');
    try {
      weechat.sendFile('recv1', source);
      await until(() => parley.reports.offers.length === 1, 30_000, 'the offer');
      const offer = parley.reports.offers[0]!;
      expect(offer).toMatchObject({ peer: 'wee', name: 'source file.bin', size: SIZE, resumable: true });
      const target = join(dir, 'received.part');
      writeFileSync(target, '');
      // Cut it once some bytes are in: the user cancels (the same for the sender as a dropped connection).
      await parley.dcc.accept(offer.id, { path: target, offset: 0, maxBytes: SIZE });
      await until(() => (parley.reports.progress.get(offer.id) ?? 0) >= 1024 * 1024, 30_000, 'the first MiB');
      parley.dcc.cancel(offer.id);
      const from = weechat.log().length;
      await weechat.waitForLog(/xfer: file source file\.bin sent to recv1 .*FAILED/, 'the cut transfer to fail', 0);
      const partial = statSync(target).size;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(SIZE);

      // Offered again: accepted from the partial file's end, WeeChat agrees with DCC ACCEPT and sends the rest.
      weechat.sendFile('recv1', source);
      await until(() => parley.reports.offers.length === 2, 30_000, 'the second offer');
      const again = parley.reports.offers[1]!;
      await parley.dcc.accept(again.id, { path: target, offset: partial, maxBytes: SIZE });
      await until(() => parley.reports.completed.includes(again.id) || parley.reports.failed.has(again.id), 60_000, 'the resumed transfer');
      expect(parley.reports.failed.get(again.id)).toBeUndefined();
      expect(parley.lines.some((l) => /DCC ACCEPT/.test(l))).toBe(true);
      expect(sha(target)).toBe(sha(source));
      await weechat.waitForLog(/xfer: file source file\.bin sent to recv1 .*OK/, 'the resumed transfer to end', from);
    } finally {
      parley.close();
    }
  }, 120_000);

  it('sends a file WeeChat receives, and WeeChat resumes it with DCC RESUME after the connection was cut', async () => {
    const parley = await engine(server.port, 'send1');
    try {
      const from = weechat.log().length;
      await parley.dcc.send({ id: 'one', peer: 'wee', path: source, name: 'sent file.bin', size: SIZE });
      await until(() => (parley.reports.progress.get('one') ?? 0) >= 1024 * 1024, 30_000, 'the first MiB');
      parley.dcc.cancel('one');
      await weechat.waitForLog(/xfer: file sent file\.bin received from send1 .*FAILED/, 'the cut transfer to fail', from);
      // WeeChat keeps what it got under a temporary suffix, and resumes from it.
      const partial = statSync(join(weechat.downloadDir, 'sent file.bin.part')).size;
      const saved = join(weechat.downloadDir, 'sent file.bin');
      expect(partial).toBeLessThan(SIZE);

      const next = weechat.log().length;
      await parley.dcc.send({ id: 'two', peer: 'wee', path: source, name: 'sent file.bin', size: SIZE });
      await weechat.waitForLog(/xfer: file sent file\.bin received from send1 .*OK/, 'the resumed transfer', next);
      await until(() => existsSync(saved), 20_000, 'WeeChat to rename its temporary file');
      await until(() => parley.reports.completed.includes('two'), 30_000, 'Parley to see it done');
      expect(sha(saved)).toBe(sha(source));
      // WeeChat asked to resume, and Parley agreed.
      expect(parley.lines.some((l) => /\x01DCC RESUME "sent file\.bin" \d+ [1-9]\d*\x01/.test(l))).toBe(true);
    } finally {
      parley.close();
    }
  }, 120_000);

  it('sends passively (port 0 and a token) when it cannot listen: the receiver listens and the sender connects', async () => {
    const sender = await engine(server.port, 'natted', { canListen: false });
    const receiver = await engine(server.port, 'recv4');
    try {
      await sender.dcc.send({ id: 'p1', peer: 'recv4', path: source, name: 'passive.bin', size: SIZE });
      await until(() => receiver.reports.offers.length === 1, 20_000, 'the passive offer');
      expect(receiver.lines.some((l) => /\x01DCC SEND passive\.bin 0 0 \d+ \d+\x01/.test(l))).toBe(true);
      const target = join(dir, 'passive.part');
      writeFileSync(target, '');
      await receiver.dcc.accept(receiver.reports.offers[0]!.id, { path: target, offset: 0, maxBytes: SIZE });
      await until(() => receiver.reports.completed.length === 1 && sender.reports.completed.includes('p1'), 60_000, 'both ends done');
      expect(sha(target)).toBe(sha(source));
      // The receiver answered with its own address and port, and the same token.
      expect(sender.lines.some((l) => /\x01DCC SEND passive\.bin 2130706433 [1-9]\d* \d+ \d+\x01/.test(l))).toBe(true);
    } finally {
      sender.close();
      receiver.close();
    }
  }, 120_000);

  it('receiving passively, closes a connection from an address other than the sender\'s and waits for the sender', async () => {
    // The sender is played by hand, so the intruder surely connects first.
    const sender = await engine(server.port, 'natted2');
    const receiver = await engine(server.port, 'recv5');
    try {
      const data = randomBytes(300_000);
      sender.send(`PRIVMSG recv5 :\x01DCC SEND guarded.bin 0 0 ${data.length} 55\x01`);
      await until(() => receiver.reports.offers.length === 1, 20_000, 'the passive offer');
      const target = join(dir, 'guarded.part');
      writeFileSync(target, '');
      const answer = /\x01DCC SEND guarded\.bin 2130706433 (\d+) 300000 55\x01/;
      await receiver.dcc.accept(receiver.reports.offers[0]!.id, { path: target, offset: 0, maxBytes: data.length });
      await until(() => sender.lines.some((l) => answer.test(l)), 20_000, 'the answer with the port');
      const port = Number(answer.exec(sender.lines.find((l) => answer.test(l))!)![1]);
      const intruder = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      intruder.on('error', () => undefined);
      await new Promise<void>((resolve) => intruder.on('close', () => resolve()));
      const real = netConnect({ host: '127.0.0.1', port });
      real.on('error', () => undefined);
      real.end(data);
      await until(() => receiver.reports.completed.length === 1 || receiver.reports.failed.size > 0, 30_000, 'the transfer');
      real.destroy();
      expect([...receiver.reports.failed.values()]).toEqual([]);
      expect(readFileSync(target)).toEqual(data);
    } finally {
      sender.close();
      receiver.close();
    }
  }, 120_000);

  it('never connects to an address the offer did not come from unless the user allows it', async () => {
    const asked: string[] = [];
    const elsewhere = createServer();
    let connections = 0;
    elsewhere.on('connection', (s) => {
      connections++;
      s.destroy();
    });
    // 127.0.0.2 is loopback too, but it is not where the offering client connects from (127.0.0.1).
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
    const port = (elsewhere.address() as { port: number }).port;
    const hostile = await engine(server.port, 'evil');
    try {
      const refusing = await engine(server.port, 'recv3', { asked });
      hostile.send(`PRIVMSG recv3 :\x01DCC SEND note.txt ${(127 << 24) + 2} ${port} 10\x01`);
      await until(() => refusing.reports.offers.length === 1, 20_000, 'the offer');
      const target = join(dir, 'note.part');
      writeFileSync(target, '');
      const id = refusing.reports.offers[0]!.id;
      await refusing.dcc.accept(id, { path: target, offset: 0, maxBytes: 10 });
      expect(isParleyError(refusing.reports.failed.get(id), 'transfer-refused-address')).toBe(true);
      expect(asked).toEqual([`127.0.0.2:${port}`]);
      expect(connections).toBe(0);
      refusing.close();
    } finally {
      hostile.close();
      elsewhere.close();
    }
  }, 60_000);
});
