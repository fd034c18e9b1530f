import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isParleyError } from '../errors/ParleyError.js';
import { ConnectionError } from '../errors/ConnectionError.js';
import { createNet, type NetConfig } from './net.js';

const callbacks = { trustCertificate: () => Promise.resolve(false) };
const direct = (): ReturnType<typeof createNet> => createNet({ proxy: { mode: 'none' } } satisfies NetConfig, callbacks);

/** The first line the socket receives (without ending the stream, as `for await` would). */
function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += String(chunk);
      if (!text.includes('\n')) return;
      socket.off('data', onData);
      resolve(text.split('\n')[0]!);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

describe('Net.listen', () => {
  it('accepts a connection the peer opens, and data flows both ways', async () => {
    const net = direct();
    const listener = await net.listen({ host: '127.0.0.1' });
    try {
      expect(listener.host).toBe('127.0.0.1');
      expect(listener.port).toBeGreaterThan(0);
      const accepted = listener.accept({ timeoutMs: 10_000 });
      const outgoing = await net.connect({ host: '127.0.0.1', port: listener.port });
      const incoming = await accepted;
      outgoing.write('ping\n');
      expect(await readLine(incoming)).toBe('ping');
      incoming.write('pong\n');
      expect(await readLine(outgoing)).toBe('pong');
      outgoing.destroy();
      incoming.destroy();
    } finally {
      listener.close();
    }
  });

  it('keeps a connection that arrives before accept is called, without losing its first bytes', async () => {
    const net = direct();
    const listener = await net.listen({ host: '127.0.0.1' });
    try {
      const outgoing = await net.connect({ host: '127.0.0.1', port: listener.port });
      outgoing.write('early\n');
      const incoming = await listener.accept({ timeoutMs: 10_000 });
      expect(await readLine(incoming)).toBe('early');
      outgoing.destroy();
      incoming.destroy();
    } finally {
      listener.close();
    }
  });

  it('fails a waiting accept with a network error when nobody connects in time', async () => {
    const listener = await direct().listen({ host: '127.0.0.1' });
    try {
      const error = await listener.accept({ timeoutMs: 50 }).catch((e: unknown) => e);
      expect(isParleyError(error, 'connection-network')).toBe(true);
      expect((error as ConnectionError).protocolDetail).toBe('ETIMEDOUT');
    } finally {
      listener.close();
    }
  });

  it('fails a waiting accept when the listener is closed or the signal fires, and then refuses connections', async () => {
    const net = direct();
    const listener = await net.listen({ host: '127.0.0.1' });
    const controller = new AbortController();
    const aborted = listener.accept({ timeoutMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(isParleyError(await aborted, 'connection-other')).toBe(true);
    const waiting = listener.accept({ timeoutMs: 60_000 }).catch((e: unknown) => e);
    listener.close();
    expect(isParleyError(await waiting, 'connection-network')).toBe(true);
    expect(isParleyError(await net.connect({ host: '127.0.0.1', port: listener.port, timeoutMs: 10_000 }).catch((e: unknown) => e), 'connection-network')).toBe(true);
  });

  it('reports a port that is taken as a network error', async () => {
    const net = direct();
    const first = await net.listen({ host: '127.0.0.1' });
    try {
      const error = await net.listen({ host: '127.0.0.1', port: first.port }).catch((e: unknown) => e);
      expect(isParleyError(error, 'connection-network')).toBe(true);
      expect((error as ConnectionError).protocolDetail).toBe('EADDRINUSE');
    } finally {
      first.close();
    }
  });

  it('refuses to listen while a proxy is set, so the peer never learns the address the proxy hides', async () => {
    const server = createNet({ proxy: { mode: 'server', server: { scheme: 'socks5', host: '127.0.0.1', port: 1080 } } }, callbacks);
    const error = await server.listen({ host: '127.0.0.1' }).catch((e: unknown) => e);
    expect(isParleyError(error, 'connection-other')).toBe(true);
    expect((error as ConnectionError).fatal).toBe(true);
    const env = createNet({ proxy: { mode: 'env', env: { all_proxy: 'socks5://127.0.0.1:1080' } } }, callbacks);
    expect(isParleyError(await env.listen({ host: '127.0.0.1' }).catch((e: unknown) => e), 'connection-other')).toBe(true);
    const noProxyOnly = await createNet({ proxy: { mode: 'env', env: { no_proxy: '*' } } }, callbacks).listen({ host: '127.0.0.1' });
    noProxyOnly.close();
  });
});
