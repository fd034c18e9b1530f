import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { frame, FrameReader, type JsonRpcMessage } from './frame-reader.js';
import { RpcPeer, type RpcPeerHandlers } from './rpc-peer.js';

class AnswerError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message);
  }
}
class Closed extends Error {}

/** The owner's end, played by hand: what it receives, and a way to write raw bytes. */
interface FakeOwner {
  received: JsonRpcMessage[];
  socket: Socket;
  next(): Promise<JsonRpcMessage>;
}

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (server !== undefined) await new Promise((r) => server!.close(r));
  server = undefined;
});

async function pair(handlers: Partial<Pick<RpcPeerHandlers, 'notification' | 'requests'>> = {}, maxAnswerBytes = 1024 * 1024): Promise<{ peer: RpcPeer; owner: FakeOwner; client: Socket }> {
  server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(client, 'connect');
  const [socket] = await accepted;
  sockets.push(client, socket);
  const received: JsonRpcMessage[] = [];
  const waiters: Array<(m: JsonRpcMessage) => void> = [];
  const frames = new FrameReader(maxAnswerBytes, (m) => (waiters.shift() ?? ((x) => received.push(x)))(m), () => {});
  socket.on('data', (d: Buffer) => frames.push(d));
  const owner: FakeOwner = {
    received,
    socket,
    next: () => (received.length > 0 ? Promise.resolve(received.shift()!) : new Promise((resolve) => waiters.push(resolve))),
  };
  const peer = new RpcPeer(client, maxAnswerBytes, {
    notification: handlers.notification ?? (() => {}),
    requests: handlers.requests ?? {},
    answerError: (code, message, data) => new AnswerError(code, message, data),
    closedError: () => new Closed('closed'),
  });
  return { peer, owner, client };
}

describe('the client end of the remote protocol', () => {
  it('matches answers to requests by id, in whatever order they come, with positional params', async () => {
    const { peer, owner } = await pair();
    const first = peer.request('accounts.get', ['xmpp:alice']);
    const second = peer.request('accounts.list', []);
    const a = await owner.next();
    const b = await owner.next();
    expect(a).toMatchObject({ jsonrpc: '2.0', method: 'accounts.get', params: ['xmpp:alice'] });
    expect(b).toMatchObject({ method: 'accounts.list', params: [] });
    owner.socket.write(frame({ jsonrpc: '2.0', id: b.id, result: ['two'] }));
    owner.socket.write(frame({ jsonrpc: '2.0', id: a.id, result: { id: 'one' } }));
    await expect(first).resolves.toEqual({ id: 'one' });
    await expect(second).resolves.toEqual(['two']);
  });

  it('turns an error answer into an error with its code and data', async () => {
    const { peer, owner } = await pair();
    const call = peer.request('accounts.get', ['nobody']);
    const request = await owner.next();
    owner.socket.write(frame({ jsonrpc: '2.0', id: request.id, error: { code: -32000, message: 'No such account', data: { code: 'unknown-account' } } }));
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnswerError);
    expect(error).toMatchObject({ code: -32000, message: 'No such account', data: { code: 'unknown-account' } });
  });

  it("answers the owner's requests, cancels one when the owner cancels it, and refuses what it does not know", async () => {
    let cancelled: AbortSignal | undefined;
    const { owner } = await pair({
      requests: {
        'ui.request': async (params, signal) => {
          if (params[0] !== 'slow') return { answer: params };
          cancelled = signal;
          await once(signal, 'abort');
          throw new Error('cancelled');
        },
      },
    });
    owner.socket.write(frame({ jsonrpc: '2.0', id: 7, method: 'ui.request', params: ['quick', { purpose: 'x' }] }));
    expect(await owner.next()).toEqual({ jsonrpc: '2.0', id: 7, result: { answer: ['quick', { purpose: 'x' }] } });
    owner.socket.write(frame({ jsonrpc: '2.0', id: 8, method: 'ui.request', params: ['slow'] }));
    owner.socket.write(frame({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 8 } }));
    expect(await owner.next()).toMatchObject({ id: 8, error: { message: 'cancelled' } });
    expect(cancelled?.aborted).toBe(true);
    owner.socket.write(frame({ jsonrpc: '2.0', id: 9, method: 'shell.exec', params: ['rm -rf /'] }));
    expect(await owner.next()).toMatchObject({ id: 9, error: { code: -32601 } });
  });

  it('passes notifications on, and ignores answers to nothing and bodies that are not JSON-RPC', async () => {
    const seen: Array<[string, unknown]> = [];
    const { peer, owner } = await pair({ notification: (method, params) => seen.push([method, params]) });
    const call = peer.request('status', []);
    const request = await owner.next();
    owner.socket.write(frame({ jsonrpc: '2.0', id: 424242, result: 'not asked for' }));
    owner.socket.write(Buffer.from('Content-Length: 9\r\n\r\nnot json!'));
    owner.socket.write(Buffer.from('Content-Length: 2\r\n\r\n[]'));
    owner.socket.write(frame({ jsonrpc: '2.0', method: 'event', params: { name: 'messageReceived', args: [] } }));
    owner.socket.write(frame({ jsonrpc: '2.0', id: request.id, result: 'the answer' }));
    await expect(call).resolves.toBe('the answer');
    expect(seen).toEqual([['event', { name: 'messageReceived', args: [] }]]);
  });

  it('gives up on a stream it cannot follow (an answer over the limit) and fails what was waiting', async () => {
    const { peer, owner, client } = await pair({}, 1024);
    const call = peer.request('history.search', [{ text: 'x' }]);
    await owner.next();
    owner.socket.write(Buffer.from(`Content-Length: ${1024 * 1024}\r\n\r\n`));
    await expect(call).rejects.toBeInstanceOf(Closed);
    expect(client.destroyed).toBe(true);
    await expect(peer.request('status', [])).rejects.toBeInstanceOf(Closed);
  });

  it('fails every waiting request when the owner goes away', async () => {
    const { peer, owner } = await pair();
    const calls = [peer.request('a', []), peer.request('b', [])];
    await owner.next();
    owner.socket.destroy();
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(Closed);
  });
});
