import { mkdtempSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransportState } from 'sip.js';
import { ConnectionError, createNet, type NetConnectOptions, type PeerCertificate } from '@parley/core';
import { createTestCertificates, type TestCertificates } from '../../../../test/servers/test-ca.js';
import { StreamTransport } from './stream-transport.js';

/** The core's network layer, direct, with `ca` trusted and `trust` answering the certificate question. */
function opener(ca?: string[], trust: (cert: PeerCertificate) => Promise<boolean> = async () => false) {
  return (options: NetConnectOptions) => createNet({ proxy: { mode: 'none' }, ...(ca === undefined ? {} : { tlsCa: ca }) }, { trustCertificate: trust }).connect(options);
}

let certs: TestCertificates;
beforeAll(() => {
  certs = createTestCertificates(mkdtempSync(join(tmpdir(), 'ocs-transport-')));
});

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('StreamTransport over TLS', () => {
  const sockets: net.Socket[] = [];
  let server: tls.Server;
  let port: number;
  beforeAll(async () => {
    server = tls.createServer({ key: certs.key, cert: certs.cert }, (socket) => {
      sockets.push(socket);
      socket.on('data', (data) => {
        const text = data.toString();
        if (text.startsWith('OPTIONS')) {
          // Answer in two pieces, split inside a multi-byte character.
          const reply = Buffer.from('SIP/2.0 200 OK\r\nCall-ID: 1\r\nContent-Length: 3\r\n\r\n€');
          socket.write(reply.subarray(0, reply.length - 2));
          setTimeout(() => socket.write(reply.subarray(reply.length - 2)), 20);
        }
        if (text.startsWith('BYE')) socket.end();
      });
    });
    port = await listen(server);
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it('connects with the CA, frames messages in bytes and reports a server close', async () => {
    const transport = new StreamTransport({ host: '127.0.0.1', port, secure: true, open: opener([certs.caCert]) });
    const received: string[] = [];
    transport.onMessage = (m) => received.push(m);
    const disconnected = new Promise<Error | undefined>((resolve) => (transport.onDisconnect = resolve));
    await transport.connect();
    expect(transport.state).toBe(TransportState.Connected);
    await transport.send('OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]!.endsWith('\r\n\r\n€')).toBe(true);
    await transport.send('BYE sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    const error = await disconnected;
    expect(error?.message).toMatch(/closed/);
    expect(transport.state).toBe(TransportState.Disconnected);
  });

  it('asks about an untrusted certificate and stops when the user says no', async () => {
    const asked: PeerCertificate[] = [];
    const transport = new StreamTransport({ host: '127.0.0.1', port, secure: true, open: opener(undefined, async (c) => (asked.push(c), false)) });
    const error = await transport.connect().then(() => undefined, (e: unknown) => e);
    expect(ConnectionError.is(error) && error.reason).toBe('certificate-untrusted');
    expect(asked[0]?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(transport.state).toBe(TransportState.Disconnected);
  });

  it('continues when the user trusts the certificate', async () => {
    const transport = new StreamTransport({ host: '127.0.0.1', port, secure: true, open: opener(undefined, async () => true) });
    await transport.connect();
    expect(transport.isConnected()).toBe(true);
    await transport.disconnect();
    expect(transport.state).toBe(TransportState.Disconnected);
  });

  it('reports a host name mismatch', async () => {
    const other = createTestCertificates(mkdtempSync(join(tmpdir(), 'ocs-transport-other-')), ['other.example']);
    const mismatched = tls.createServer({ key: other.key, cert: other.cert }, (s) => sockets.push(s));
    const otherPort = await listen(mismatched);
    const transport = new StreamTransport({ host: '127.0.0.1', port: otherPort, secure: true, open: opener([other.caCert]) });
    const error = await transport.connect().then(() => undefined, (e: unknown) => e);
    expect(ConnectionError.is(error) && error.reason).toBe('certificate-hostname-mismatch');
    mismatched.close();
  });
});

describe('StreamTransport over TCP with a hostile server', () => {
  it('drops the connection on an oversized Content-Length', async () => {
    const server = net.createServer((s) => s.write('SIP/2.0 200 OK\r\nContent-Length: 999999999\r\n\r\n'));
    const port = await listen(server);
    const transport = new StreamTransport({ host: '127.0.0.1', port, secure: false, open: opener() });
    const dropped = new Promise<Error | undefined>((resolve) => (transport.onDisconnect = resolve));
    await transport.connect();
    expect((await dropped)?.name).toBe('FramingError');
    server.close();
  });

  it('drops a connection that stalls in the middle of a message', async () => {
    const server = net.createServer((s) => s.write('SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    const port = await listen(server);
    const transport = new StreamTransport({ host: '127.0.0.1', port, secure: false, partialMessageTimeoutMs: 200, open: opener() });
    const dropped = new Promise<Error | undefined>((resolve) => (transport.onDisconnect = resolve));
    await transport.connect();
    expect((await dropped)?.message).toMatch(/Incomplete SIP message/);
    server.close();
  });

  it('bounds the connect wait', async () => {
    // A listening socket with a full backlog never completes TLS: the handshake stalls.
    const server = net.createServer(() => undefined);
    const port = await listen(server);
    const transport = new StreamTransport({ host: '127.0.0.1', port, secure: true, connectTimeoutMs: 300, open: opener() });
    const error = await transport.connect().then(() => undefined, (e: unknown) => e);
    expect(ConnectionError.is(error) && error.reason).toBe('network');
    server.close();
  });

  it('fails cleanly when nothing listens', async () => {
    const server = net.createServer();
    const port = await listen(server);
    server.close();
    const transport = new StreamTransport({ host: '127.0.0.1', port, secure: false, open: opener() });
    const error = await transport.connect().then(() => undefined, (e: unknown) => e);
    expect(ConnectionError.is(error) && error.reason).toBe('network');
  });

  it('refuses to send while disconnected', async () => {
    const transport = new StreamTransport({ host: '127.0.0.1', port: 1, secure: false, open: opener() });
    await expect(transport.send('x')).rejects.toThrow(/not connected/);
  });
});
