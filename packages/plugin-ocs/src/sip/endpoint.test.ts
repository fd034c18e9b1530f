import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Grammar } from 'sip.js';
import { createNet, type Logger } from '@parley/core';
import { DigestAuthenticator } from '../auth/digest.js';
import { parseAuthHeader } from '../auth/params.js';
import { StreamTransport } from '../transport/stream-transport.js';
import { SipEndpoint } from './endpoint.js';
import { headerValue, headerValues, parseRawMessage, type RawMessage } from './headers.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;

/** A registrar-less SIP server on a real socket: answers each request with what `answer` returns for it. */
async function server(answer: (request: RawMessage, index: number) => { status: string; headers?: string[] }) {
  const seen: RawMessage[] = [];
  const sockets: net.Socket[] = [];
  const srv = net.createServer((socket) => {
    sockets.push(socket);
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\r\n\r\n'); end >= 0; end = buffer.indexOf('\r\n\r\n')) {
        const request = parseRawMessage(buffer.slice(0, end + 4));
        buffer = buffer.slice(end + 4);
        seen.push(request);
        const { status, headers = [] } = answer(request, seen.length - 1);
        const echo = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].map((name) => `${name}: ${headerValue(request, name)}`);
        socket.write([`SIP/2.0 ${status}`, ...echo, ...headers, 'Content-Length: 0', '', ''].join('\r\n'));
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  return { port, seen, close: () => { for (const s of sockets) s.destroy(); srv.close(); } };
}

const closers: Array<() => void> = [];
afterEach(() => {
  while (closers.length) closers.pop()!();
});

async function endpointFor(port: number, withDigest = true) {
  const transport = new StreamTransport({ host: '127.0.0.1', port, secure: false, outgoing: (text): string => endpoint.decorate(text), open: (options) => createNet({ proxy: { mode: 'none' } }, { trustCertificate: async () => false }).connect(options) });
  await transport.connect();
  const endpoint: SipEndpoint = new SipEndpoint({ transport, log: quiet, aor: Grammar.URIParse('sip:alice@example.test')!, userAgent: 'test', epid: 'e1' });
  if (withDigest) endpoint.challenges = new DigestAuthenticator({ username: 'alice', password: 'secret' });
  closers.push(() => void transport.disconnect());
  return endpoint;
}

const CHALLENGE = 'Digest realm="example.test", nonce="n0nce", qop="auth", opaque="op"';

describe('SipEndpoint answering challenges to requests other than REGISTER (RFC 3261 22.2, 22.3)', () => {
  it('retries a 407 once with Proxy-Authorization, the same Call-ID and tags and the next CSeq', async () => {
    const s = await server((_r, i) => (i === 0 ? { status: '407 Proxy Authentication Required', headers: [`Proxy-Authenticate: ${CHALLENGE}`] } : { status: '200 OK' }));
    closers.push(s.close);
    const endpoint = await endpointFor(s.port);
    const response = await endpoint.request('MESSAGE', 'sip:bob@example.test', { to: 'sip:bob@example.test', cseq: 5 });
    expect(response.status).toBe(200);
    expect(response.cseq).toBe(6);
    const [first, second] = s.seen as [RawMessage, RawMessage];
    expect(s.seen).toHaveLength(2);
    expect(headerValue(second, 'Call-ID')).toBe(headerValue(first, 'Call-ID'));
    expect(headerValue(second, 'From')).toBe(headerValue(first, 'From'));
    expect(headerValue(first, 'CSeq')).toBe('5 MESSAGE');
    expect(headerValue(second, 'CSeq')).toBe('6 MESSAGE');
    expect(headerValue(first, 'Proxy-Authorization')).toBeUndefined();
    const p = parseAuthHeader(headerValue(second, 'Proxy-Authorization')!).params;
    expect(p.get('nc')).toBe('00000001');
    expect(p.get('cnonce')).toMatch(/^[0-9a-f]{16}$/);
    expect(p.get('opaque')).toBe('op');
    expect(p.get('uri')).toBe('sip:bob@example.test');
    const ha1 = md5('alice:example.test:secret');
    expect(p.get('response')).toBe(md5(`${ha1}:n0nce:00000001:${p.get('cnonce')}:auth:${md5('MESSAGE:sip:bob@example.test')}`));
  });

  it('answers a 401 with Authorization', async () => {
    const s = await server((_r, i) => (i === 0 ? { status: '401 Unauthorized', headers: [`WWW-Authenticate: ${CHALLENGE}`] } : { status: '202 Accepted' }));
    closers.push(s.close);
    const endpoint = await endpointFor(s.port);
    expect((await endpoint.request('SUBSCRIBE', 'sip:bob@example.test')).status).toBe(202);
    expect(headerValues(s.seen[1]!, 'Authorization')).toHaveLength(1);
    expect(parseAuthHeader(headerValue(s.seen[1]!, 'Authorization')!).params.get('username')).toBe('alice');
  });

  it('retries only once: a second challenge (wrong password) goes back to the caller', async () => {
    const s = await server(() => ({ status: '407 Proxy Authentication Required', headers: [`Proxy-Authenticate: ${CHALLENGE}`] }));
    closers.push(s.close);
    const endpoint = await endpointFor(s.port);
    expect((await endpoint.request('PUBLISH', 'sip:alice@example.test')).status).toBe(407);
    expect(s.seen).toHaveLength(2);
  });

  it.each([
    ['no Digest challenge', 'Proxy-Authenticate: NTLM realm="x"'],
    ['a challenge without a nonce', 'Proxy-Authenticate: Digest realm="r", opaque="o"'],
    ['an unsupported algorithm', 'Proxy-Authenticate: Digest realm="r", nonce="n", algorithm=SHA-512-256'],
  ])('hands back a 407 with %s without retrying', async (_name, header) => {
    const s = await server(() => ({ status: '407 Proxy Authentication Required', headers: [header] }));
    closers.push(s.close);
    const endpoint = await endpointFor(s.port);
    expect((await endpoint.request('MESSAGE', 'sip:bob@example.test')).status).toBe(407);
    expect(s.seen).toHaveLength(1);
  });

  it('does not answer challenges without a responder (OCS sessions), nor on REGISTER', async () => {
    const s = await server(() => ({ status: '407 Proxy Authentication Required', headers: [`Proxy-Authenticate: ${CHALLENGE}`] }));
    closers.push(s.close);
    expect((await (await endpointFor(s.port, false)).request('MESSAGE', 'sip:bob@example.test')).status).toBe(407);
    expect((await (await endpointFor(s.port)).request('REGISTER', 'sip:example.test')).status).toBe(407);
    expect(s.seen).toHaveLength(2);
  });
});

describe('SipEndpoint never writes a header with a line break in it', () => {
  it('refuses a Request-URI, To or extra header holding CR, LF or NUL before anything is written', async () => {
    const s = await server(() => ({ status: '200 OK' }));
    closers.push(s.close);
    const endpoint = await endpointFor(s.port, false);
    await expect(endpoint.request('MESSAGE', 'sip:bob@example.test\r\nX-Injected: yes')).rejects.toThrow(/must not contain line breaks/);
    await expect(endpoint.request('MESSAGE', 'sip:bob@example.test', { to: 'sip:bob@example.test\nX: 1' })).rejects.toThrow(/must not contain line breaks/);
    await expect(endpoint.request('MESSAGE', 'sip:bob@example.test', { extraHeaders: ['Subject: hi\r\nX: 1'] })).rejects.toThrow(/must not contain line breaks/);
    await expect(endpoint.invite('sip:bob@example.test\0')).rejects.toThrow(/must not contain line breaks/);
    // A request that is fine still goes out, and it is the only one the server saw.
    expect((await endpoint.request('MESSAGE', 'sip:bob@example.test', { to: 'sip:bob@example.test' })).status).toBe(200);
    expect(s.seen.map((r) => r.startLine)).toEqual(['MESSAGE sip:bob@example.test SIP/2.0']);
  });
});
