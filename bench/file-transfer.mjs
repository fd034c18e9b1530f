// XMPP file transfer throughput.
//
// file-transfer-upload / file-transfer-download: a 256 MiB file uploaded to Prosody's XEP-0363
// service (mod_http_file_share) and downloaded again, by Parley (send → the slot's PUT; the
// peer's offer of the OOB link → accept → GET, both through the core's network layer, streamed
// from and to disk) against curl doing the same to a slot of the same service in the same run.
// Aim: at least 0.7× curl's MiB/s each way.
//
// file-transfer-socks5: the same file between two Parley accounts by Jingle over a direct SOCKS5
// bytestream (offer, accept, bytes, the receiver's checks), in MiB/s; the baseline is a plain
// Node socket copy of the file over loopback (file → TCP → file), no aim.
//
// Plain HTTP and XMPP on loopback for every side: the same transport cost, no certificates.
// Each transfer's result is checked (size, and SHA-256 against the source) after its timing.
// Run after `npm run build` (imports packages/*/dist). BENCH_FT_MIB changes the size.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { describe, main, median, result, rounds, size, timeIt, verify } from './lib.mjs';
import { startProsody } from '../test/servers/prosody.mjs';

const execFileAsync = promisify(execFile);
const MiB = 1024 * 1024;
const FILE_MIB = Number(process.env.BENCH_FT_MIB ?? size(256, 2));

const { createParley } = await import('@parley/core');
const { default: xmppPlugin } = await import(new URL('../packages/plugin-xmpp/dist/index.js', import.meta.url).href);
const { client, xml } = await import('@xmpp/client');

async function sha256(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** Resolves with the transfer's final state. */
function nextOffer(parley, accountId) {
  return new Promise((resolve) => {
    const listener = (t) => {
      if (t.direction !== 'incoming' || t.accountId !== accountId) return;
      parley.events.off('transferAdded', listener);
      resolve(t);
    };
    parley.events.on('transferAdded', listener);
  });
}

await main(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-ft-'));
  // Prosody runs as the `prosody` user: it must reach its directory.
  chmodSync(dir, 0o755);
  const file = join(dir, 'source.bin');
  const block = randomBytes(MiB);
  const fd = openSync(file, 'w');
  for (let i = 0; i < FILE_MIB; i++) {
    block.writeUInt32LE(i, 0);
    writeSync(fd, block);
  }
  closeSync(fd);
  const fileHash = await sha256(file);
  const bytes = FILE_MIB * MiB;
  const downloads = join(dir, 'downloads');
  mkdirSync(downloads);
  const server = await startProsody({
    dir: join(dir, 'server'),
    users: { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' },
    requireEncryption: false,
    httpFileShare: { sizeLimit: bytes + MiB },
  });
  let parley;
  let raw;
  try {
    parley = await createParley({
      home: join(dir, 'home'),
      plugins: [xmppPlugin],
      discover: false,
      passphrase: 'bench',
      secretStore: 'file',
      history: false,
      log: () => {},
      ui: { request: async (_request, context) => (context.purpose === 'file-transfer' ? undefined : undefined), notify() {} },
    });
    parley.transfers.configure({ downloadDir: downloads, maxIncomingSize: bytes * 2 });
    const account = async (user, settings) =>
      (await parley.accounts.add({ protocol: 'xmpp', username: server.jid(user), settings: { server: server.host, port: server.port, security: 'plain', archiveDays: 0, ...settings }, secrets: { password: `${user}-pw` } })).id;
    const alice = await account('alice', { fileTransfer: 'upload' });
    const bob = await account('bob', {});
    const carol = await account('carol', { fileTransfer: 'jingle' });
    for (const id of [alice, bob, carol]) await parley.accounts.connect(id);

    // curl's slots come from a plain @xmpp/client session of the same account, started again
    // (untimed) when the server has closed it between rounds, as Parley's accounts reconnect.
    const rawSession = async () => {
      if (raw?.status === 'online') return raw;
      await raw?.stop().catch(() => {});
      raw = client({ service: `xmpp://${server.host}:${server.port}`, domain: server.domain, username: 'alice', password: 'alice-pw', resource: 'curl' });
      raw.reconnect.stop();
      raw.on('error', () => {});
      await raw.start();
      return raw;
    };
    await rawSession();
    const uploadService = `upload.${server.domain}`;

    let lastUrl;
    const parleyUpload = async () => {
      let done;
      const ms = await timeIt(async () => {
        const sent = await parley.transfers.send(alice, 'bob@localhost', file);
        done = await parley.transfers.settled(sent.id);
      });
      verify(done.state === 'done' && done.bytes === bytes, `Parley's upload ended ${done.state}: ${JSON.stringify(done.error)}`);
      lastUrl = done.url;
      return (bytes / MiB) / (ms / 1000);
    };
    const parleyDownload = async () => {
      // The link Parley just uploaded reaches Bob as an OOB message: his offer, accepted now.
      const offer = nextOffer(parley, bob);
      await parleyUpload();
      const offered = await offer;
      let done;
      const ms = await timeIt(async () => {
        await parley.transfers.accept(offered.id);
        done = await parley.transfers.settled(offered.id);
      });
      verify(done.state === 'done', `Parley's download ended ${done.state}: ${JSON.stringify(done.error)}`);
      verify(statSync(done.path).size === bytes && (await sha256(done.path)) === fileHash, 'Parley downloaded other bytes than it sent');
      rmSync(done.path);
      return (bytes / MiB) / (ms / 1000);
    };
    const slot = async () => {
      const reply = await (await rawSession()).iqCaller.request(xml('iq', { type: 'get', to: uploadService }, xml('request', { xmlns: 'urn:xmpp:http:upload:0', filename: 'source.bin', size: String(bytes), 'content-type': 'application/octet-stream' })), 30_000);
      const s = reply.getChild('slot', 'urn:xmpp:http:upload:0');
      const put = s.getChild('put');
      return { put: put.attrs.url, get: s.getChild('get').attrs.url, headers: put.getChildren('header').map((h) => `${h.attrs.name}: ${h.getText()}`) };
    };
    const curlUpload = async () => {
      const { put, get, headers } = await slot();
      const ms = await timeIt(() => execFileAsync('curl', ['-sS', '--fail', '-T', file, '-H', 'Content-Type: application/octet-stream', ...headers.flatMap((h) => ['-H', h]), put]));
      lastUrl = get;
      return (bytes / MiB) / (ms / 1000);
    };
    const curlDownload = async () => {
      await curlUpload();
      const out = join(downloads, 'curl.bin');
      const ms = await timeIt(() => execFileAsync('curl', ['-sS', '--fail', '-o', out, lastUrl]));
      verify(statSync(out).size === bytes && (await sha256(out)) === fileHash, 'curl downloaded other bytes than it sent');
      rmSync(out);
      return (bytes / MiB) / (ms / 1000);
    };
    // Upload rounds measure the PUT; download rounds upload first (untimed) and time the GET.
    const http = await rounds(
      {
        parleyUp: parleyUpload,
        curlUp: curlUpload,
        parleyDown: parleyDownload,
        curlDown: curlDownload,
      },
      { onRound: (i, got) => process.env.BENCH_VERBOSE && console.log(`round ${i}: ${JSON.stringify(got)}`) },
    );

    // Jingle over SOCKS5 between two Parley accounts, against a plain socket copy.
    const socks5 = async () => {
      const offer = nextOffer(parley, bob);
      let done;
      const ms = await timeIt(async () => {
        await parley.transfers.send(carol, 'bob@localhost/parley', file);
        const offered = await offer;
        await parley.transfers.accept(offered.id);
        done = await parley.transfers.settled(offered.id);
      });
      verify(done.state === 'done', `the SOCKS5 transfer ended ${done.state}: ${JSON.stringify(done.error)}`);
      verify(statSync(done.path).size === bytes && (await sha256(done.path)) === fileHash, 'the SOCKS5 transfer delivered other bytes');
      rmSync(done.path);
      return (bytes / MiB) / (ms / 1000);
    };
    const socketCopy = async () => {
      const out = join(downloads, 'copy.bin');
      const listener = createServer();
      await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
      const ms = await timeIt(async () => {
        const received = new Promise((resolve, reject) => listener.once('connection', (socket) => pipeline(socket, createWriteStream(out)).then(resolve, reject)));
        const socket = connect(listener.address().port, '127.0.0.1');
        await pipeline(createReadStream(file), socket);
        await received;
      });
      listener.close();
      verify(statSync(out).size === bytes, 'the socket copy lost bytes');
      rmSync(out);
      return (bytes / MiB) / (ms / 1000);
    };
    const p2p = await rounds({ parley: socks5, socket: socketCopy });

    console.log(`${FILE_MIB} MiB through Prosody's HTTP File Upload (plain HTTP on loopback), MiB/s:`);
    console.log(`  upload: parley ${describe(http.parleyUp, 'MiB/s')}; curl ${describe(http.curlUp, 'MiB/s')}`);
    console.log(`  download: parley ${describe(http.parleyDown, 'MiB/s')}; curl ${describe(http.curlDown, 'MiB/s')}`);
    console.log(`${FILE_MIB} MiB by Jingle over a direct SOCKS5 bytestream between two Parley accounts: ${describe(p2p.parley, 'MiB/s')}; a plain socket copy ${describe(p2p.socket, 'MiB/s')}`);
    result('file-transfer-upload', median(http.parleyUp), median(http.curlUp), 'MiB/s', { higherIsBetter: true, aim: { ratioAtLeast: 0.7 } });
    result('file-transfer-download', median(http.parleyDown), median(http.curlDown), 'MiB/s', { higherIsBetter: true, aim: { ratioAtLeast: 0.7 } });
    result('file-transfer-socks5', median(p2p.parley), median(p2p.socket), 'MiB/s', { higherIsBetter: true });
  } finally {
    await raw?.stop().catch(() => {});
    await parley?.shutdown();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
