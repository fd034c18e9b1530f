import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { TransferError } from '@parley/core';

/**
 * SOCKS5 as XEP-0065 uses it (RFC 1928, no authentication, CONNECT to a
 * domain-name address that is the stream's hash): the client side for
 * connecting to a peer's or a proxy's streamhost, the server side for a peer
 * connecting to ours.
 */

/** DST.ADDR (XEP-0065 §5.3.2, XEP-0260 §2.2): SHA-1 of stream id, requester's and target's full JIDs, in hex. */
export function dstAddr(sid: string, requester: string, target: string): string {
  return createHash('sha1').update(`${sid}${requester}${target}`).digest('hex');
}

/** Waits for `n` bytes from a socket that is not flowing; what comes after them stays in the socket. */
export function readExactly(socket: Socket, n: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new TransferError('transfer-failed', 'The SOCKS5 peer did not answer in time')), timeoutMs);
    const finish = (error?: Error, data?: Buffer) => {
      clearTimeout(timer);
      socket.off('readable', tryRead);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      if (error !== undefined) reject(error);
      else resolve(data!);
    };
    const onEnd = (error?: Error) => finish(new TransferError('transfer-failed', `The SOCKS5 connection closed during the handshake${error === undefined ? '' : `: ${error.message}`}`));
    const tryRead = () => {
      const data = socket.read(n) as Buffer | null;
      if (data === null) return;
      if (data.length < n) finish(new TransferError('transfer-failed', 'The SOCKS5 connection closed during the handshake'));
      else finish(undefined, data);
    };
    socket.on('readable', tryRead);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
    tryRead();
  });
}

/** The client's half: after it the socket carries the stream's bytes. */
export async function socks5Connect(socket: Socket, dst: string, timeoutMs = 20_000): Promise<void> {
  socket.pause();
  socket.write(Buffer.from([5, 1, 0]));
  const method = await readExactly(socket, 2, timeoutMs);
  if (method[0] !== 5 || method[1] !== 0) throw new TransferError('transfer-failed', 'The streamhost refused SOCKS5 without authentication');
  const name = Buffer.from(dst, 'latin1');
  socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([0, 0])]));
  const head = await readExactly(socket, 4, timeoutMs);
  if (head[0] !== 5 || head[1] !== 0) throw new TransferError('transfer-failed', `The streamhost refused the stream (SOCKS5 reply ${head[1]})`);
  // BND.ADDR (its form by ATYP) and BND.PORT, which XEP-0065 gives no use.
  const atyp = head[3];
  const length = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? (await readExactly(socket, 1, timeoutMs))[0]! : -1;
  if (length < 0) throw new TransferError('transfer-failed', 'The streamhost sent a malformed SOCKS5 reply');
  await readExactly(socket, length + 2, timeoutMs);
}

/**
 * The server's half, for a peer connecting to our streamhost: accepts only
 * a CONNECT to `expected` (the stream's hash), so a stranger who finds the
 * port gets nothing. Rejects (and closes the socket) otherwise.
 */
export async function socks5Accept(socket: Socket, expected: string, timeoutMs = 20_000): Promise<void> {
  socket.pause();
  try {
    const greeting = await readExactly(socket, 2, timeoutMs);
    // Anything but SOCKS5 is cut off before its "method count" makes us wait for bytes that never come.
    if (greeting[0] !== 5 || greeting[1] === 0) throw new TransferError('transfer-failed', 'A peer connected without SOCKS5');
    const methods = await readExactly(socket, greeting[1]!, timeoutMs);
    if (!methods.includes(0)) {
      socket.end(Buffer.from([5, 0xff]));
      throw new TransferError('transfer-failed', 'A peer connected without SOCKS5');
    }
    socket.write(Buffer.from([5, 0]));
    const head = await readExactly(socket, 5, timeoutMs);
    if (head[0] !== 5 || head[1] !== 1 || head[3] !== 3) throw new TransferError('transfer-failed', 'A peer sent a SOCKS5 request XEP-0065 does not use');
    const name = (await readExactly(socket, head[4]!, timeoutMs)).toString('latin1');
    await readExactly(socket, 2, timeoutMs);
    if (name !== expected) {
      socket.end(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]));
      throw new TransferError('transfer-failed', 'A peer asked our streamhost for another stream');
    }
    const echo = Buffer.from(name, 'latin1');
    socket.write(Buffer.concat([Buffer.from([5, 0, 0, 3, echo.length]), echo, Buffer.from([0, 0])]));
  } catch (error) {
    socket.destroy();
    throw error;
  }
}
