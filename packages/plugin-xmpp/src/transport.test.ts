import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import type { Net } from '@parley/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamParserClass } from './starttls.js';
import { SecureSocket } from './transport.js';

/** How many times the TCP socket was asked to write (one chunk, or several at once). */
let socketWrites = 0;

/** The plain TCP part of the core's network layer (all a 'plain' transport uses), counting the socket's writes. */
const plainNet = {
  connect: ({ host, port }: { host: string; port: number }) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = tcpConnect(port, host, () => resolve(socket));
      socket.once('error', reject);
      const internals = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
      for (const method of ['_write', '_writev'] as const) {
        const original = internals[method].bind(socket);
        internals[method] = (...args: unknown[]) => {
          socketWrites++;
          return original(...args);
        };
      }
    }),
} as unknown as Net;

describe('SecureSocket', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  });

  it('sends what is written in one turn to the socket at once, and each write still reports its completion', async () => {
    const reads: string[] = [];
    let expected = '';
    const allRead = new Promise<void>((resolve) => {
      server = createServer((peer) => {
        peer.on('data', (data: Buffer) => {
          reads.push(data.toString('utf8'));
          if (reads.join('') === expected) {
            peer.end();
            resolve();
          }
        });
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server!.address() as { port: number };
    const socket = new SecureSocket({ security: 'plain', domain: 'localhost', net: plainNet }, class {} as unknown as StreamParserClass);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
      socket.connect({ host: '127.0.0.1', port });
    });
    const stanzas = ['<iq id="1" type="get"/>', '<iq id="2" type="get"/>', '<iq id="3" type="get"/>'];
    expected = stanzas.join('');
    socketWrites = 0;
    const written = stanzas.map((stanza) => new Promise<void>((resolve, reject) => socket.write(stanza, (error) => (error ? reject(error) : resolve()))));
    await Promise.all(written);
    await allRead;
    expect(reads.join('')).toBe(expected);
    expect(socketWrites).toBe(1);
    socket.destroy();
  });
});
