import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, type Harness } from './helpers.js';

/** The built plugin, for the runs with the plugin in its worker thread (Parley's default). */
const builtPlugin = new URL('../dist/index.js', import.meta.url).href;

/**
 * A server that accepts TCP and then does one thing with what the client
 * sends first: nothing (a hung server), or closing the connection (a server
 * going down while the stream opens).
 */
async function misbehaving(onFirstData: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => onFirstData(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A plain TCP relay to the real server that closes the client's connection
 * as soon as the client, authenticated, opens its new stream (RFC 6120
 * §6.4.6): a server going down between authentication and the restart.
 */
async function cutAfterAuthentication(target: { host: string; port: number }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let authenticated = false;
    client.on('data', (data: Buffer) => {
      if (authenticated) client.end();
      else upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      if (data.toString('utf8').includes('<success')) authenticated = true;
      client.write(data);
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Failure {
  code?: string;
  reason?: string;
  message?: string;
  protocolDetail?: unknown;
}

describe.each(['none', 'worker'] as const)('XMPP sign-in step limits, isolation %s', (isolation) => {
  let server: TestProsody;
  let h: Harness;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    // Plaintext allowed, so that the relay below can see where authentication ends.
    server = await startTestProsody({ users: { alice: 'alice-pw' }, extraConfig: 'c2s_require_encryption = false\n' });
    h = await harness(server, isolation === 'worker' ? { isolation, plugins: [], pluginModules: [builtPlugin] } : { isolation });
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });

  /** Signs in once; the first attempt's error (the core would keep retrying: the account is removed). */
  async function failedSignIn(settings: Record<string, unknown>): Promise<Failure | undefined> {
    const id = await h.account('alice', 'alice-pw', settings);
    const error = await h.parley.accounts.connect(id).then(
      () => undefined,
      (e: unknown) => e as Failure,
    );
    await h.parley.accounts.remove(id);
    return error;
  }

  it('gives up on a server that never sends its stream header after the account\'s step limit, saying which step', async () => {
    const hung = await misbehaving(() => {});
    closers.push(hung.close);
    const error = await failedSignIn({ server: '127.0.0.1', port: hung.port, security: 'plain', resource: 'hung', signInStepTimeout: 1 });
    expect(error?.code).toBe('connection-network');
    expect(error?.protocolDetail).toBe('timeout');
    expect(error?.message).toBe('The server did not answer the stream header within 1 s');
  });

  it('gives up on a server that never answers STARTTLS after the account\'s step limit', async () => {
    const hung = await misbehaving(() => {});
    closers.push(hung.close);
    const error = await failedSignIn({ server: '127.0.0.1', port: hung.port, security: 'starttls', resource: 'hung-tls', signInStepTimeout: 1 });
    expect(error?.code).toBe('connection-network');
    expect(error?.protocolDetail).toBe('timeout');
    expect(error?.message).toBe('The server did not answer the STARTTLS negotiation within 1 s');
  });

  // The step limit is ten minutes and the test's own limit 30 s: only the closed connection can end the wait.
  it('fails at once with a network error when the server closes the connection during the stream open', { timeout: 30_000 }, async () => {
    const closing = await misbehaving((socket) => socket.end());
    closers.push(closing.close);
    const error = await failedSignIn({ server: '127.0.0.1', port: closing.port, security: 'plain', resource: 'closed', signInStepTimeout: 600 });
    expect(error?.code).toBe('connection-network');
    expect(error?.protocolDetail).toBe('connection-closed');
    expect(error?.message).toBe('The server closed the connection while Parley waited for the stream header');
  });

  it('fails at once with a network error when the connection is reset during the stream open', { timeout: 30_000 }, async () => {
    const resetting = await misbehaving((socket) => socket.resetAndDestroy());
    closers.push(resetting.close);
    const error = await failedSignIn({ server: '127.0.0.1', port: resetting.port, security: 'plain', resource: 'reset', signInStepTimeout: 600 });
    expect(error?.code).toBe('connection-network');
    expect(error?.protocolDetail).toBe('ECONNRESET');
  });

  it('fails at once when the real server\'s connection closes while the stream restarts after authentication', { timeout: 30_000 }, async () => {
    const relay = await cutAfterAuthentication({ host: server.host, port: server.port });
    closers.push(relay.close);
    const error = await failedSignIn({ server: '127.0.0.1', port: relay.port, security: 'plain', resource: 'restart', signInStepTimeout: 600 });
    expect(error?.code).toBe('connection-network');
    expect(error?.protocolDetail).toBe('connection-closed');
    expect(error?.message).toBe('The server closed the connection while Parley waited for the stream header after authentication');
  });

  it('signs in to a real server with a short step limit, which then is not in the way', async () => {
    const id = await h.account('alice', 'alice-pw', { resource: 'real', signInStepTimeout: 10 });
    await h.parley.accounts.connect(id);
    expect(h.parley.accounts.status(id).state).toBe('online');
    await h.parley.accounts.remove(id);
  });
});
