import { createServer, connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { readChecksum } from './hashes.js';
import { parseSlot } from './http-upload.js';
import { IbbReceiver } from './ibb.js';
import { readCandidate } from './jingle-ft.js';
import { NS_HASHES, NS_HTTP_UPLOAD, NS_OOB } from './namespaces.js';
import { nameFromUrl, readOobLink } from './oob.js';
import { dstAddr, socks5Accept, socks5Connect } from './socks5.js';

describe('XEP-0363 slots from the server', () => {
  const slot = (put: string, get: string, ...headers: Array<[string, string]>) =>
    xml('slot', { xmlns: NS_HTTP_UPLOAD }, xml('put', { url: put }, ...headers.map(([name, value]) => xml('header', { name }, value))), xml('get', { url: get }));

  it('keeps only the headers §6 allows, and none with a line break', () => {
    const parsed = parseSlot(slot('https://up.example/a', 'https://up.example/a', ['Authorization', 'Bearer x'], ['Cookie', 'c=1'], ['X-Evil', 'y'], ['Expires', 'never\r\nX-Injected: 1'], ['Host', 'other.example']));
    expect(parsed.headers).toEqual({ Authorization: 'Bearer x', Cookie: 'c=1' });
  });

  it.each([
    ['no slot', undefined],
    ['a file: URL', slot('file:///etc/passwd', 'https://up.example/a')],
    ['a javascript: URL', slot('https://up.example/a', 'javascript:alert(1)')],
    ['no URL', xml('slot', { xmlns: NS_HTTP_UPLOAD }, xml('put'), xml('get'))],
    ['not a URL', slot('::::', 'https://up.example/a')],
  ])('refuses %s with a TransferError', (_label, element) => {
    expect(() => parseSlot(element)).toThrow(expect.objectContaining({ name: 'TransferError', code: 'transfer-failed' }));
  });
});

describe('XEP-0300 hashes in offers', () => {
  const file = (...hashes: Array<[string, string]>) => xml('file', {}, ...hashes.map(([algo, text]) => xml('hash', { xmlns: NS_HASHES, algo }, text)));
  const sha256 = Buffer.alloc(32, 7).toString('base64');

  it('takes the strongest known algorithm, as hex', () => {
    expect(readChecksum(file(['sha-1', Buffer.alloc(20, 1).toString('base64')], ['sha-256', sha256]))).toEqual({ algorithm: 'sha-256', hex: '07'.repeat(32) });
  });

  it.each([
    ['a digest of the wrong length', file(['sha-256', Buffer.alloc(31).toString('base64')])],
    ['text that is not base64', file(['sha-256', '<not base64>'])],
    ['an unknown algorithm', file(['md4', sha256])],
    ['no hash', file()],
  ])('ignores %s', (_label, element) => {
    expect(readChecksum(element)).toBeUndefined();
  });
});

describe('XEP-0066 links in messages', () => {
  const message = (url: string) => xml('message', {}, xml('x', { xmlns: NS_OOB }, xml('url', {}, url)));

  it('offers http(s) links, named by their last path segment, decoded', () => {
    const link = readOobLink(message('https://up.example/x/report%202026.pdf'));
    expect(link?.url.href).toBe('https://up.example/x/report%202026.pdf');
    expect(nameFromUrl(link!.url)).toBe('report 2026.pdf');
  });

  it.each(['file:///etc/passwd', 'javascript:alert(1)', 'not a url', 'https://' + 'a'.repeat(5000)])('ignores %s', (url) => {
    expect(readOobLink(message(url))).toBeUndefined();
  });

  it('a name made of separators or a bad escape is passed on as text for the core to make safe', () => {
    expect(nameFromUrl(new URL('https://up.example/a/..%2F..%2Fescape'))).toBe('../../escape');
    expect(nameFromUrl(new URL('https://up.example/%E0%A4%A'))).toBe('%E0%A4%A');
  });
});

describe('XEP-0260 candidates', () => {
  const candidate = (attrs: Record<string, string>) => readCandidate(xml('candidate', { cid: 'c', host: '192.0.2.1', jid: 'a@b/c', port: '1080', priority: '1', type: 'direct', ...attrs }));

  it('reads a well-formed one', () => {
    expect(candidate({})).toEqual({ cid: 'c', host: '192.0.2.1', jid: 'a@b/c', port: 1080, priority: 1, type: 'direct' });
  });

  it.each<Record<string, string>>([{ port: '0' }, { port: '70000' }, { port: 'x' }, { type: 'teleport' }, { priority: '1e400' }, { cid: '' }, { host: '' }, { host: 'h'.repeat(300) }])('drops %o', (attrs) => {
    expect(candidate(attrs)).toBeUndefined();
  });
});

describe('SOCKS5 handshakes (XEP-0065)', () => {
  async function pair(): Promise<[Socket, Socket, () => void]> {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    return [client, await accepted, () => server.close()];
  }

  it('a peer asking for the right stream gets it; the stream\'s bytes follow', async () => {
    const [client, accepted, close] = await pair();
    const dst = dstAddr('sid', 'a@x/1', 'b@x/2');
    await Promise.all([socks5Accept(accepted, dst), socks5Connect(client, dst)]);
    client.write('payload');
    accepted.resume();
    const data = await new Promise<Buffer>((resolve) => accepted.once('data', resolve));
    expect(data.toString()).toBe('payload');
    client.destroy();
    accepted.destroy();
    close();
  });

  it('a peer asking for another stream is refused and cut off', async () => {
    const [client, accepted, close] = await pair();
    const refused = socks5Accept(accepted, dstAddr('sid', 'a@x/1', 'b@x/2'));
    const asked = socks5Connect(client, dstAddr('other', 'a@x/1', 'b@x/2'));
    await expect(refused).rejects.toMatchObject({ name: 'TransferError' });
    await expect(asked).rejects.toMatchObject({ name: 'TransferError' });
    client.destroy();
    close();
  });

  it('a peer speaking something else is cut off', async () => {
    const [client, accepted, close] = await pair();
    const refused = socks5Accept(accepted, 'x');
    client.write('GET / HTTP/1.1\r\n\r\n');
    await expect(refused).rejects.toMatchObject({ name: 'TransferError' });
    client.destroy();
    close();
  });
});

describe('in-band bytestream data (XEP-0047)', () => {
  function receiver(limit: number) {
    const chunks: Buffer[] = [];
    const ended: Array<{ error?: Error; bytes?: number }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    const r = new IbbReceiver('peer@x/1', 'sid', sink, limit, (error, bytes) => ended.push({ ...(error === undefined ? {} : { error }), ...(bytes === undefined ? {} : { bytes }) }));
    expect(r.open(xml('open', { sid: 'sid', 'block-size': '4096' }))).toBe(true);
    return { r, chunks, ended };
  }
  const data = (seq: number, text: string) => xml('data', { sid: 'sid', seq: String(seq) }, text);

  it('refuses a block size above 65535', () => {
    const { r } = receiver(10);
    expect(r.open(xml('open', { sid: 'sid', 'block-size': '70000' }))).toMatchObject({ name: 'error' });
  });

  it('a block out of sequence fails the stream', async () => {
    const { r, ended } = receiver(100);
    expect(await r.data(data(0, Buffer.from('ab').toString('base64')))).toBe(true);
    expect(await r.data(data(2, Buffer.from('cd').toString('base64')))).toMatchObject({ name: 'error' });
    expect(ended[0]?.error?.message).toMatch(/lost a block/);
  });

  it('more bytes than announced fail the stream as oversize, and nothing past the limit is written', async () => {
    const { r, chunks, ended } = receiver(3);
    expect(await r.data(data(0, Buffer.from('abcd').toString('base64')))).toMatchObject({ name: 'error' });
    expect(chunks).toEqual([]);
    expect(ended[0]?.error).toMatchObject({ code: 'transfer-oversize' });
  });

  it('data that is not base64 fails the stream', async () => {
    const { r, ended } = receiver(10);
    expect(await r.data(data(0, '<<<'))).toMatchObject({ name: 'error' });
    expect(ended[0]?.error?.message).toMatch(/base64/);
  });

  it('a close before every byte came fails the stream as incomplete', async () => {
    const { r, ended } = receiver(10);
    await r.data(data(0, Buffer.from('abc').toString('base64')));
    r.close();
    expect(ended[0]?.error).toMatchObject({ code: 'transfer-incomplete' });
  });
});
