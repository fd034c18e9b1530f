import { connect as tlsConnect } from 'node:tls';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';

function firstBytes(socket: import('node:net').Socket, send: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
      if (text.includes('</stream:features>')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.write(send);
  });
}

const header = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

describe('test Prosody launcher', () => {
  let server: TestProsody;
  beforeAll(async () => {
    server = await startTestProsody({ users: { alice: 'alice-secret' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('offers STARTTLS on the c2s port (RFC 6120 §5.3.1)', async () => {
    const socket = connect({ host: server.host, port: server.port });
    await new Promise((r) => socket.once('connect', r));
    const features = await firstBytes(socket, header);
    expect(features).toContain("urn:ietf:params:xml:ns:xmpp-tls");
  });

  it('serves direct TLS with a certificate from the test CA', async () => {
    const socket = tlsConnect({ host: server.host, port: server.directTlsPort!, servername: 'localhost', ca: [server.certificates.caCert] });
    await new Promise((r, j) => { socket.once('secureConnect', r); socket.once('error', j); });
    expect(socket.authorized).toBe(true);
    const features = await firstBytes(socket, header);
    expect(features).toMatch(/SCRAM-SHA-256/);
  });

  it('restarts on the same port', async () => {
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    const socket = connect({ host: server.host, port });
    await new Promise((r) => socket.once('connect', r));
    expect(await firstBytes(socket, header)).toContain('stream:features');
  });
});
